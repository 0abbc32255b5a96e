"""The one place the streaming package touches fftconv's core internals.

Every import of a private core module is here, so a move of the core's files changes
only this module. The rest of :mod:`fftconv.stream` imports these names from ``._core``.
"""

from __future__ import annotations

from .._docs import fill
from .._errors import FFTConvWarning
from .._machine.costs import direct_rate, fft_rate, machine_costs
from .._machine.fft import TransformPair, backend_name, fft_dtypes
from .._machine.workers import resolve_workers
from .._numerics.dtypes import check_supported, compute_and_result_dtype
from .._plan import _fmt_bytes, _fmt_seconds
from .._validate import as_array, check_option, invalid_option

__all__ = [
    "FFTConvWarning", "TransformPair", "as_array", "backend_name", "check_option",
    "check_supported", "compute_and_result_dtype", "convolve", "direct_rate", "fft_dtypes",
    "fft_rate", "fill", "fmt_bytes", "fmt_seconds", "invalid_option", "machine_costs",
    "resolve_workers",
]

fmt_seconds = _fmt_seconds
fmt_bytes = _fmt_bytes


def convolve(x, kernel, mode="full", **options):  # type: ignore[no-untyped-def]
    """The core's public :func:`fftconv.convolve` (imported late: no import cycle)."""
    from .._api import convolve as _convolve

    return _convolve(x, kernel, mode, **options)
