"""The one place :mod:`fftconv.dask` reaches into the core's private modules.

Everything else in the package uses the public API (``fftconv.plan_convolve``,
``fftconv.explain``, ``PlanReport``) or this adapter, so a reorganisation of the core
changes only this file.
"""

from __future__ import annotations

from .._boundary import index_map
from .._docs import fill
from .._facade_ndimage import MODES as NDIMAGE_MODES
from .._facade_ndimage import _anchor as ndimage_anchor
from .._facade_ndimage import boundary as ndimage_boundary
from .._facade_ndimage import check_cval as ndimage_check_cval
from .._problem import Problem
from .._resources import resolve_max_memory
from .._validate import check_option, invalid_option, make_problem
from .._workers import resolve_workers

__all__ = [
    "NDIMAGE_MODES", "Problem", "check_option", "fill", "index_map", "invalid_option",
    "make_problem", "ndimage_anchor", "ndimage_boundary", "ndimage_check_cval",
    "resolve_max_memory", "resolve_workers",
]

from .._validate import EFFORTS  # noqa: E402
from ..strategies import names as strategy_names  # noqa: E402

__all__ += ["EFFORTS", "strategy_names"]
