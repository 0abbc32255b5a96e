"""fftconv: fast, unambiguous n-dimensional convolution.

Every convention is a stated parameter (flip, conjugation, anchor, boundary, dtype), and a
planner picks the direct sum, FFTW or a blocked FFT from a cost model of this machine.
"""

from ._api import convolve, correlate, explain, plan_convolve, plan_correlate
from ._plan import Plan, PlanReport
from ._errors import FFTConvWarning
from ._machine.workers import get_workers, set_workers

__version__ = "0.1.0"

#: Public submodules, imported on first attribute access so ``import fftconv`` stays light.
_SUBMODULES = ("astropy", "benchmark", "dask", "data", "kernels", "ndimage", "nn", "signal",
               "stream")


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'fftconv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])

__all__ = [
    "FFTConvWarning",
    "Plan",
    "PlanReport",
    "convolve",
    "correlate",
    "explain",
    "get_workers",
    "plan_convolve",
    "plan_correlate",
    "set_workers",
]
