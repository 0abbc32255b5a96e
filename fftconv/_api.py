"""The public entry points: signatures and documentation; the work is in :mod:`._engine`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _engine
from ._docs import fill
from ._engine import Options
from ._plan import Plan, PlanReport
from ._typing import Anchor, Axes, Boundary, Effort, Method, Mode, NanPolicy, Operation

__all__ = ["convolve", "correlate", "plan_convolve", "plan_correlate", "explain"]


@fill
def convolve(x: object, kernel: object, mode: Mode = "full", *, axes: Axes = None,
             boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
             method: Method = "auto", effort: Effort = "estimate", workers: int | None = None,
             dtype: object = None, nan_policy: NanPolicy = "propagate",
             max_memory: int | None = None) -> np.ndarray:
    """Convolve ``x`` with ``kernel``: ``y[i] = sum_j kernel[j] * x~[i - j + anchor]``.

    The kernel is flipped along the convolved axes (this is what distinguishes a
    convolution from :func:`correlate`) and never conjugated.

    Parameters
    ----------
    x : array_like
        The signal or image.
    kernel : array_like
        The kernel (same number of dimensions as ``x``, or see ``axes``).
    %(mode)s
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(workers)s
    %(dtype)s
    %(nan_policy)s
    %(max_memory)s

    Returns
    -------
    ndarray
        The result, C-contiguous, with the convolved axes where they were in ``x``.

    Raises
    ------
    ValueError
        For an invalid option, shape or anchor (before any work), non-finite input with
        ``nan_policy='raise'``, or a method that cannot serve the problem.
    TypeError
        For object, string or datetime arrays.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.convolve([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> fftconv.convolve([1., 2., 3.], [1., 1.], mode="same", boundary="edge")
    array([2., 3., 5.])
    """
    return _engine.run(x, kernel, True, Options(mode, axes, boundary, cval, anchor, method, effort,
                                                workers, dtype, nan_policy, max_memory, False))


@fill
def correlate(x: object, kernel: object, mode: Mode = "full", *, axes: Axes = None,
              boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
              method: Method = "auto", effort: Effort = "estimate", workers: int | None = None,
              dtype: object = None, nan_policy: NanPolicy = "propagate",
              conjugate: bool = True, max_memory: int | None = None) -> np.ndarray:
    """Correlate ``x`` with ``kernel``: ``y[i] = sum_j conj(kernel[j]) * x~[i + j - anchor]``.

    No flip; a complex kernel is conjugated unless ``conjugate=False``.

    Parameters
    ----------
    x : array_like
        The signal or image.
    kernel : array_like
        The kernel (same number of dimensions as ``x``, or see ``axes``).
    %(mode)s
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(workers)s
    %(dtype)s
    %(nan_policy)s
    %(conjugate)s
    %(max_memory)s

    Returns
    -------
    ndarray
        The result, C-contiguous, with the convolved axes where they were in ``x``.

    Raises
    ------
    ValueError
        For an invalid option, shape or anchor (before any work), non-finite input with
        ``nan_policy='raise'``, or a method that cannot serve the problem.
    TypeError
        For object, string or datetime arrays.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.correlate([1, 2, 3], [0, 1, 0.5], mode="same")
    array([2. , 3.5, 3. ])
    """
    return _engine.run(x, kernel, False, Options(mode, axes, boundary, cval, anchor, method, effort,
                                                 workers, dtype, nan_policy, max_memory, conjugate))


@fill
def plan_convolve(x_shape: Sequence[int], kernel: object, mode: Mode = "full", *,
                  x_dtype: object = "float64", axes: Axes = None,
                  boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
                  method: Method = "auto", effort: Effort = "estimate",
                  workers: int | None = None, dtype: object = None,
                  nan_policy: NanPolicy = "propagate", max_memory: int | None = None) -> Plan:
    """Plan :func:`convolve` of inputs of ``x_shape`` with ``kernel``, for reuse.

    FFTW plans and the kernel spectrum are computed once; calling the plan only
    transforms the input. Plans are safe to call from several threads at once.

    Parameters
    ----------
    x_shape : tuple of int
        Shape of the inputs the plan will be called with.
    kernel : array_like
        The kernel.
    %(mode)s
    %(x_dtype)s
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(workers)s
    %(dtype)s
    %(nan_policy)s
    %(max_memory)s

    Returns
    -------
    Plan
        Callable as ``plan(x, out=None)``; ``plan.report()`` explains the choice.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> p = fftconv.plan_convolve((64, 64), np.ones((5, 5)) / 25, mode="same")
    >>> y = p(np.ones((64, 64)))
    >>> round(float(y[32, 32]), 12)
    1.0
    """
    return _engine.plan(x_shape, x_dtype, kernel, True, Options(
        mode, axes, boundary, cval, anchor, method, effort, workers, dtype, nan_policy,
        max_memory, False))


@fill
def plan_correlate(x_shape: Sequence[int], kernel: object, mode: Mode = "full", *,
                   x_dtype: object = "float64", axes: Axes = None,
                   boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
                   method: Method = "auto", effort: Effort = "estimate",
                   workers: int | None = None, dtype: object = None,
                   nan_policy: NanPolicy = "propagate", conjugate: bool = True,
                   max_memory: int | None = None) -> Plan:
    """Plan :func:`correlate` of inputs of ``x_shape`` with ``kernel``, for reuse.

    Parameters
    ----------
    x_shape : tuple of int
        Shape of the inputs the plan will be called with.
    kernel : array_like
        The kernel.
    %(mode)s
    %(x_dtype)s
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(workers)s
    %(dtype)s
    %(nan_policy)s
    %(conjugate)s
    %(max_memory)s

    Returns
    -------
    Plan
        Callable as ``plan(x, out=None)``; ``plan.report()`` explains the choice.
    """
    return _engine.plan(x_shape, x_dtype, kernel, False, Options(
        mode, axes, boundary, cval, anchor, method, effort, workers, dtype, nan_policy,
        max_memory, conjugate))


@fill
def explain(x_shape: Sequence[int], kernel_shape: Sequence[int], mode: Mode = "full", *,
            x_dtype: object = "float64", kernel_dtype: object = None,
            operation: Operation = "convolve", axes: Axes = None,
            boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
            method: Method = "auto", workers: int | None = None, dtype: object = None,
            nan_policy: NanPolicy = "propagate", max_memory: int | None = None) -> PlanReport:
    """The planner's report for a job, without building anything.

    Parameters
    ----------
    x_shape, kernel_shape : tuple of int
        Shapes of the input and the kernel.
    %(mode)s
    %(x_dtype)s
    kernel_dtype : dtype, optional
        The kernel's dtype (default: ``x_dtype``).
    operation : {'convolve', 'correlate'}, optional
        Which operation (they cost the same; the anchor defaults differ).
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(workers)s
    %(dtype)s
    %(nan_policy)s
    %(max_memory)s

    Returns
    -------
    PlanReport
        ``print()`` it for a table of every candidate strategy.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.explain((1024, 1024), (3, 3), mode="same").method
    'direct'
    >>> fftconv.explain((1024, 1024), (63, 63), mode="same").method in {"fft", "overlap"}
    True
    """
    return _engine.explain(x_shape, kernel_shape, x_dtype, kernel_dtype, operation, Options(
        mode, axes, boundary, cval, anchor, method, "estimate", workers, dtype, nan_policy,
        max_memory))
