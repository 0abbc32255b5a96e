"""Public entry points: validate -> plan -> execute."""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from collections.abc import Sequence
from typing import Literal, Union

import numpy as np

from ._docs import fill
from ._numerics.lowrank import separable_rank
from ._plan import Plan, PlanReport
from ._planner import build_plan, cached_plan, cached_plan_is_kept, candidates, _finish, choose
from ._problem import Problem
from ._validate import (EFFORTS, as_array, as_dtype, as_shape, check_option, expand_kernel,
                        make_problem)
from ._machine.workers import resolve_workers
from .strategies import names

__all__ = ["convolve", "correlate", "plan_convolve", "plan_correlate", "explain"]

Mode = Literal["full", "same", "valid"]
Boundary = Literal["constant", "reflect", "symmetric", "edge", "wrap", "fill", "zeros",
                   "mirror", "symm", "nearest", "replicate", "circular", "periodic"]
Method = Literal["auto", "direct", "fft", "overlap"]
Effort = Literal["estimate", "measure"]
NanPolicy = Literal["propagate", "omit", "raise"]
Axes = Union[int, Sequence[int], None]
Anchor = Union[int, Sequence[int], None]


def _check_method(method: object) -> str:
    return check_option("method", method, ("auto", *names()))


def _prepare_kernel(kernel: np.ndarray, p: Problem) -> np.ndarray:
    """The kernel as a C-contiguous ``(Bk, *K)`` array: flipped, conjugated, compute dtype."""
    k = expand_kernel(kernel, p.kernel_shape, p.axes)
    if p.kernel_batched:
        k = np.broadcast_to(k, tuple(p.x_shape[a] if a in p.batch_axes else s
                                     for a, s in enumerate(k.shape)))
    k = k.transpose(p.batch_axes + p.axes).reshape((p.kernel_batch, *p.k))
    if p.flip:
        k = k[(slice(None),) + (slice(None, None, -1),) * p.ndim]
    if p.conjugate and np.iscomplexobj(k):
        k = np.conj(k)
    return np.ascontiguousarray(k, dtype=p.compute_dtype)


def _key(value: object) -> object:
    """A hashable stand-in for an option (lists become tuples)."""
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    return value


@lru_cache(maxsize=256)
def _cached_problem(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel_shape: tuple[int, ...],
                    kernel_dtype: np.dtype, kernel_finite: bool, kernel_nonzero: int,
                    **options: object) -> Problem:
    problem = make_problem(x_shape, x_dtype, kernel_shape, kernel_dtype, **options)  # type: ignore[arg-type]
    if problem.boundary == "constant" and not problem.pad_is_zero:
        kernel_finite = kernel_finite and bool(np.isfinite(problem.cval))
    if not kernel_finite and problem.nan_policy == "omit":
        raise ValueError("nan_policy='omit' needs a finite kernel and cval")
    nonzero = -(-kernel_nonzero // problem.kernel_batch)
    return replace(problem, kernel_finite=kernel_finite, kernel_nonzero=nonzero)


@lru_cache(maxsize=256)
def _with_rank(problem: Problem, rank: int) -> Problem:
    return replace(problem, kernel_rank=rank)


def _validate_job(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel: np.ndarray, *, flip: bool,
           conjugate: bool, mode: object, axes: object, boundary: object, cval: object,
           anchor: object, method: object, effort: object, workers: object, dtype: object,
           nan_policy: object, max_memory: object) -> tuple[Problem, np.ndarray, str, str, int]:
    """Validate everything (shapes, options, kernel values) before any heavy work.

    The problem depends only on shapes, dtypes, options and two facts about the kernel's
    values, so a repeated call with another kernel of the same kind is a cache hit.
    """
    method_s = _check_method(method)
    effort_s = check_option("effort", effort, EFFORTS)
    nworkers = resolve_workers(workers)  # type: ignore[arg-type]
    finite = kernel.dtype.kind not in "fc" or bool(np.isfinite(kernel).all())
    args = (tuple(x_shape), np.dtype(x_dtype), kernel.shape, kernel.dtype, finite,
            int(np.count_nonzero(kernel)))
    options = dict(mode=mode, axes=_key(axes), boundary=boundary, cval=cval,
                   anchor=_key(anchor), flip=flip, conjugate=conjugate, dtype=dtype,
                   nan_policy=nan_policy, max_memory=max_memory)
    try:
        problem = _cached_problem(*args, **options)
    except TypeError as exc:  # an unhashable option: validate without the cache
        if "unhashable" not in str(exc):
            raise
        problem = _cached_problem.__wrapped__(*args, **options)
    prepared = _prepare_kernel(kernel, problem)
    if prepared.shape[0] == 1 and problem.ndim >= 2 and problem.kernel_finite:
        problem = _with_rank(problem, separable_rank(prepared[0], problem.compute_dtype))
    if problem.nan_policy == "omit":
        sums = prepared.reshape(prepared.shape[0], -1).sum(axis=1)
        if np.any(sums == 0):
            raise ValueError("nan_policy='omit' needs a kernel that does not sum to 0 (it "
                             "normalises by the kernel weight on valid samples)")
    return problem, prepared, method_s, effort_s, nworkers


#: Validated jobs of recent calls, by shapes, dtypes, options and the kernel's bytes, with
#: a weak reference to the plan the call used: a repeated one-shot call (the same kernel
#: again) skips validation, kernel preparation and the plan lookup.
_JOBS_SIZE = 64
_JOBS_MAX_KERNEL_BYTES = 1 << 16
_jobs: OrderedDict[tuple, list] = OrderedDict()
_jobs_lock = threading.Lock()
Job = tuple[Problem, np.ndarray, str, str, int]


def _job_key(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel: np.ndarray, flip: bool,
             conjugate: bool, options: dict) -> tuple | None:
    """The memo key of a call, or None when it cannot be remembered."""
    if kernel.nbytes > _JOBS_MAX_KERNEL_BYTES:
        return None
    key = (x_shape, x_dtype, kernel.shape, kernel.dtype, kernel.tobytes(), flip, conjugate,
           resolve_workers(options["workers"]), *options.values())  # type: ignore[arg-type]
    try:
        hash(key)
    except TypeError:  # lists become tuples; an array cval, say, is not remembered
        key = key[:8] + tuple(_key(v) for v in options.values())
        try:
            hash(key)
        except TypeError:
            return None
    return key


def _setup(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel: np.ndarray, *, flip: bool,
           conjugate: bool, key: tuple | None = None, **options: object) -> Job:
    """:func:`_validate_job`, remembered under ``key`` (results are read-only)."""
    if key is not None:
        with _jobs_lock:
            entry = _jobs.get(key)
            if entry is not None:
                _jobs.move_to_end(key)
                return entry[0]
    job = _validate_job(x_shape, x_dtype, kernel, flip=flip, conjugate=conjugate, **options)  # type: ignore[arg-type]
    if key is not None:
        job[1].flags.writeable = False
        with _jobs_lock:
            _jobs[key] = [job, None]
            while len(_jobs) > _JOBS_SIZE:
                _jobs.popitem(last=False)
    return job


def _recent_plan(key: tuple | None) -> Plan | None:
    """The plan the last call with ``key`` used, if the plan cache still holds it."""
    entry = _jobs.get(key) if key is not None else None
    ref = entry[1] if entry is not None else None
    return ref() if ref is not None else None


def _run(x: object, kernel: object, *, flip: bool, conjugate: bool, **options: object) -> np.ndarray:
    xa, ka = as_array(x, "x"), as_array(kernel, "kernel")
    if xa.ndim == 0 and ka.ndim == 0:  # scalars: a length-1 signal, returned as 0-d
        return _run(xa.reshape(1), ka.reshape(1), flip=flip, conjugate=conjugate,
                    **options).reshape(())
    key = _job_key(xa.shape, xa.dtype, ka, flip, conjugate, options)
    plan = _recent_plan(key)
    if plan is not None:
        return plan(xa)
    problem, prepared, method, effort, workers = _setup(
        xa.shape, xa.dtype, ka, flip=flip, conjugate=conjugate, key=key, **options)
    if math.prod(problem.out_shape) == 0:
        return np.zeros(problem.out_shape, problem.result_dtype)
    plan = cached_plan(problem, prepared, method=method, effort=effort, workers=workers,
                       dtype=options["dtype"])
    if key is not None:
        with _jobs_lock:
            entry = _jobs.get(key)
            if entry is not None and cached_plan_is_kept(plan):
                entry[1] = weakref.ref(plan)
    return plan(xa)


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
    return _run(x, kernel, flip=True, conjugate=False, mode=mode, axes=axes, boundary=boundary,
                cval=cval, anchor=anchor, method=method, effort=effort, workers=workers,
                dtype=dtype, nan_policy=nan_policy, max_memory=max_memory)


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
    return _run(x, kernel, flip=False, conjugate=conjugate, mode=mode, axes=axes,
                boundary=boundary, cval=cval, anchor=anchor, method=method, effort=effort,
                workers=workers, dtype=dtype, nan_policy=nan_policy, max_memory=max_memory)


def _plan(x_shape: object, x_dtype: object, kernel: object, flip: bool, conjugate: bool,
          options: dict) -> Plan:
    shape = as_shape(x_shape, "x_shape")
    xdt = as_dtype(x_dtype, "x_dtype")
    ka = as_array(kernel, "kernel")
    problem, prepared, method, effort, workers = _setup(
        shape, xdt, ka, flip=flip, conjugate=conjugate,
        key=_job_key(shape, xdt, ka, flip, conjugate, options), **options)
    return build_plan(problem, prepared, method=method, effort=effort, workers=workers,
                      dtype=options["dtype"])


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
    return _plan(x_shape, x_dtype, kernel, True, False, dict(
        mode=mode, axes=axes, boundary=boundary, cval=cval, anchor=anchor, method=method,
        effort=effort, workers=workers, dtype=dtype, nan_policy=nan_policy,
        max_memory=max_memory))


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
    return _plan(x_shape, x_dtype, kernel, False, conjugate, dict(
        mode=mode, axes=axes, boundary=boundary, cval=cval, anchor=anchor, method=method,
        effort=effort, workers=workers, dtype=dtype, nan_policy=nan_policy,
        max_memory=max_memory))


@fill
def explain(x_shape: Sequence[int], kernel_shape: Sequence[int], mode: Mode = "full", *,
            x_dtype: object = "float64", kernel_dtype: object = None,
            operation: Literal["convolve", "correlate"] = "convolve", axes: Axes = None,
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
    op = check_option("operation", operation, ("convolve", "correlate"))
    method_s = _check_method(method)
    nworkers = resolve_workers(workers)  # type: ignore[arg-type]
    problem = make_problem(as_shape(x_shape, "x_shape"), as_dtype(x_dtype, "x_dtype"),
                           as_shape(kernel_shape, "kernel_shape"),
                           as_dtype(x_dtype if kernel_dtype is None else kernel_dtype,
                                  "kernel_dtype"), mode=mode, axes=axes,
                           boundary=boundary, cval=cval, anchor=anchor,
                           flip=op == "convolve", conjugate=op == "correlate", dtype=dtype,
                           nan_policy=nan_policy, max_memory=max_memory)
    cands = candidates(problem, nworkers)
    chosen = choose(problem, cands, method_s)
    return PlanReport(problem=problem, candidates=_finish(cands, chosen, {}), method=chosen,
                      requested=method_s, effort="estimate", workers=nworkers)
