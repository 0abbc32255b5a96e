"""The one place :mod:`fftconv.dask` reaches into the core's private modules.

Everything else in the package uses the public API (``fftconv.plan_convolve``,
``fftconv.explain``, ``PlanReport``) or this adapter, so a reorganisation of the core
changes only this file.
"""

from __future__ import annotations

import numpy as np

from .. import _ndimage_rules as nd_rules
from .. import _signal_rules as signal_rules
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
from .._engine import Options
from .._errors import invalid_option
from .._validate import EFFORTS, check_option
from .._validate import make_problem as _make_problem
from .._machine.workers import resolve_workers
from .._planner import stamp as planner_stamp
from ..strategies import names as strategy_names

__all__ = [
    "EFFORTS", "NDIMAGE_MODES", "Problem", "check_option", "fill", "fmt_bytes", "fmt_seconds",
    "index_map", "invalid_option", "make_problem", "nd_rules", "ndimage_anchor",
    "ndimage_boundary", "signal_rules",
    "ndimage_check_cval", "planner_stamp", "resolve_max_memory", "resolve_workers",
    "strategy_names",
]


def make_problem(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel_shape: tuple[int, ...],
                 kernel_dtype: np.dtype, *, mode: object, axes: object, boundary: object,
                 cval: object, anchor: object, flip: bool, conjugate: bool, dtype: object,
                 nan_policy: object, max_memory: object) -> Problem:
    """The core's validation of a whole job (shapes and options; no kernel values)."""
    options = Options(mode=mode, axes=axes, boundary=boundary, cval=cval, anchor=anchor,
                      dtype=dtype, nan_policy=nan_policy, max_memory=max_memory,
                      conjugate=conjugate)
    return _make_problem(tuple(int(s) for s in x_shape), np.dtype(x_dtype),
                         tuple(int(s) for s in kernel_shape), np.dtype(kernel_dtype), options,
                         flip=flip)[0]
