"""The one place the streaming package touches fftconv's core internals.

Every import of a private core module is here, so a move of the core's files changes
only this module. The rest of :mod:`fftconv.stream` imports these names from ``._core``.
"""

from __future__ import annotations

from .._api import convolve
from .._docs import fill
from .._machine.costs import direct_rate, fft_rate, machine_costs
from .._machine.fft import TransformPair, fft_dtypes
from .._machine.workers import resolve_workers
from .._numerics.dtypes import check_supported, compute_and_result_dtype
from .._plan import _fmt_bytes as fmt_bytes
from .._plan import _fmt_seconds as fmt_seconds
from .._arraytypes import as_index
from .._validate import as_array, check_option

__all__ = [
    "TransformPair", "as_array", "as_index", "check_option", "check_supported",
    "compute_and_result_dtype", "convolve", "direct_rate", "fft_dtypes", "fft_rate", "fill",
    "fmt_bytes", "fmt_seconds", "machine_costs", "resolve_workers",
]
