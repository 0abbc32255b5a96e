"""fftconv: fast, unambiguous n-dimensional convolution.

Every convention is a stated parameter (flip, conjugation, anchor, boundary, dtype), and a
planner picks the direct sum, FFTW or a blocked FFT from a cost model of this machine.
"""

from ._api import convolve, correlate, explain, plan_convolve, plan_correlate
from ._plan import Plan, PlanReport
from ._warnings import FFTConvWarning
from ._workers import get_workers, set_workers

__version__ = "0.1.0"

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
