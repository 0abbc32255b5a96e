"""The one place :mod:`fftconv.dask` reaches into the core's private modules.

Everything else in the package uses the public API (``fftconv.plan_convolve``,
``fftconv.explain``, ``PlanReport``) or this adapter, so a reorganisation of the core
changes only this file.
"""

from __future__ import annotations

from .._numerics.boundary import index_map
from .._docs import fill
from .._ndimage_rules import MODES as NDIMAGE_MODES
from .._ndimage_rules import _anchor as ndimage_anchor
from .._ndimage_rules import boundary as ndimage_boundary
from .._ndimage_rules import check_cval as ndimage_check_cval
from .._plan import _fmt_bytes as fmt_bytes
from .._plan import _fmt_seconds as fmt_seconds
from .._problem import Problem
from .._machine.resources import resolve_max_memory
from .._validate import EFFORTS, check_option, invalid_option, make_problem
from .._machine.workers import resolve_workers
from ..strategies import names as strategy_names

__all__ = [
    "EFFORTS", "NDIMAGE_MODES", "Problem", "check_option", "fill", "fmt_bytes", "fmt_seconds",
    "index_map", "invalid_option", "make_problem", "ndimage_anchor", "ndimage_boundary",
    "ndimage_check_cval", "resolve_max_memory", "resolve_workers", "strategy_names",
]
