"""Convolution of dask arrays: lazy in, lazy out, equal to the in-memory result.

``fftconv.dask.convolve`` and ``correlate`` have the core's semantics (every mode,
boundary, anchor, dtype and NaN rule of :func:`fftconv.convolve`) on a
``dask.array.Array``, and return a lazy dask array; any scheduler works, including
``dask.distributed``. Each task convolves one chunk plus a halo with the core's plan for
its shape (built once per worker process). :func:`explain` shows the chunk planner's
decision. ``fftconv.convolve(dask_array, ...)`` comes here too.

>>> import numpy as np, dask.array as da, fftconv.dask
>>> x = da.ones((8, 8), chunks=4)
>>> y = fftconv.dask.correlate(x, np.ones((3, 3)), mode="same", boundary="edge", chunks=4)
>>> y.chunks
((4, 4), (4, 4))
>>> float(y.sum().compute())
576.0

This module imports dask; ``import fftconv`` does not. Install with
``pip install 'fftconv[dask]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Union

from ._api import Chunks, explain_job, run
from ._chunks import ChunkCandidate, ChunkReport
from ._core import fill
from ._tasks import plan_cache_info
from . import ndfilters

__all__ = ["ChunkCandidate", "ChunkReport", "convolve", "correlate", "explain", "ndfilters",
           "plan_cache_info"]

Mode = Literal["full", "same", "valid"]
Boundary = Literal["constant", "reflect", "symmetric", "edge", "wrap", "fill", "zeros",
                   "mirror", "symm", "nearest", "replicate", "circular", "periodic"]
Method = Literal["auto", "direct", "separable", "fft", "overlap"]
Effort = Literal["estimate", "measure"]
NanPolicy = Literal["propagate", "omit", "raise"]
Axes = Union[int, Sequence[int], None]
Anchor = Union[int, Sequence[int], None]

_CHUNKS = """chunks : 'auto', int, tuple or dict, optional
        The chunking the job runs on. ``'auto'`` (default) lets the planner keep the
        input's chunks or rechunk (chunks smaller than the halo, or a chunking the cost
        model finds slow, are rechunked). Anything ``dask.array.rechunk`` accepts is
        honoured as given; it must hold the halo (every chunk of a convolved axis at
        least as long as the halo reaches), else ``ValueError``."""
_WORKERS = """workers : int, optional
        Threads per task (default: the cores divided among the tasks that run at once,
        so one task per core on a large array)."""
_MAX_MEMORY = """max_memory : int, optional
        Bytes of memory the job may use at once (default: half the available memory);
        the planner divides it among the concurrent tasks."""
_DOC = {"chunks": _CHUNKS, "dask_workers": _WORKERS, "dask_max_memory": _MAX_MEMORY}


def _fill(func: Any) -> Any:
    func.__doc__ = func.__doc__.replace("%(chunks)s", _CHUNKS).replace(
        "%(dask_workers)s", _WORKERS).replace("%(dask_max_memory)s", _MAX_MEMORY)
    return fill(func)


@_fill
def convolve(x: Any, kernel: Any, mode: Mode = "full", *, axes: Axes = None,
             boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
             method: Method = "auto", effort: Effort = "estimate", workers: int | None = None,
             dtype: object = None, nan_policy: NanPolicy = "propagate",
             max_memory: int | None = None, chunks: Chunks = "auto") -> Any:
    """Convolve the dask array ``x`` with the in-memory ``kernel``; a lazy dask array.

    The result equals :func:`fftconv.convolve` on the computed array: same values
    (integers exact, the same NaN footprint), dtype and shape.

    Parameters
    ----------
    x : dask.array.Array
        The signal or image (a numpy array is wrapped with ``dask.array.asarray``).
    kernel : array_like
        The kernel, in memory (same number of dimensions as ``x``, or see ``axes``).
    %(mode)s
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(dask_workers)s
    %(dtype)s
    %(nan_policy)s
    %(dask_max_memory)s
    %(chunks)s

    Returns
    -------
    dask.array.Array
        The lazy result; nothing is computed until you ask.

    Raises
    ------
    ValueError
        For an invalid option, shape, anchor or chunk spec (before any graph is built).
    TypeError
        For a dask kernel, or object, string or datetime arrays.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv.dask
    >>> x = da.arange(10, chunks=3)
    >>> fftconv.dask.convolve(x, [1, 1], mode="valid").compute()
    array([ 1,  3,  5,  7,  9, 11, 13, 15, 17])
    """
    return run(x, kernel, flip=True, conjugate=False, mode=mode, axes=axes, boundary=boundary,
               cval=cval, anchor=anchor, method=method, effort=effort, workers=workers,
               dtype=dtype, nan_policy=nan_policy, max_memory=max_memory, chunks=chunks)


@_fill
def correlate(x: Any, kernel: Any, mode: Mode = "full", *, axes: Axes = None,
              boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
              method: Method = "auto", effort: Effort = "estimate", workers: int | None = None,
              dtype: object = None, nan_policy: NanPolicy = "propagate",
              conjugate: bool = True, max_memory: int | None = None,
              chunks: Chunks = "auto") -> Any:
    """Correlate the dask array ``x`` with the in-memory ``kernel``; a lazy dask array.

    No flip; a complex kernel is conjugated unless ``conjugate=False``.

    Parameters
    ----------
    x : dask.array.Array
        The signal or image (a numpy array is wrapped with ``dask.array.asarray``).
    kernel : array_like
        The kernel, in memory (same number of dimensions as ``x``, or see ``axes``).
    %(mode)s
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(dask_workers)s
    %(dtype)s
    %(nan_policy)s
    %(conjugate)s
    %(dask_max_memory)s
    %(chunks)s

    Returns
    -------
    dask.array.Array
        The lazy result.

    Raises
    ------
    ValueError
        For an invalid option, shape, anchor or chunk spec (before any graph is built).
    TypeError
        For a dask kernel, or object, string or datetime arrays.
    """
    return run(x, kernel, flip=False, conjugate=conjugate, mode=mode, axes=axes,
               boundary=boundary, cval=cval, anchor=anchor, method=method, effort=effort,
               workers=workers, dtype=dtype, nan_policy=nan_policy, max_memory=max_memory,
               chunks=chunks)


@_fill
def explain(x: Any, kernel: Any, mode: Mode = "full", *,
            operation: Literal["convolve", "correlate"] = "convolve", axes: Axes = None,
            boundary: Boundary = "constant", cval: complex = 0, anchor: Anchor = None,
            method: Method = "auto", effort: Effort = "estimate", workers: int | None = None,
            dtype: object = None, nan_policy: NanPolicy = "propagate",
            max_memory: int | None = None, chunks: Chunks = "auto") -> ChunkReport:
    """The chunk planner's report for a job on a dask array, building nothing.

    Parameters
    ----------
    x : dask.array.Array
        The input (only its shape, chunks and dtype are read).
    kernel : array_like
        The kernel.
    %(mode)s
    operation : {'convolve', 'correlate'}, optional
        Which operation (they cost the same; the anchor defaults differ).
    %(axes)s
    %(boundary)s
    %(cval)s
    %(anchor)s
    %(method)s
    %(effort)s
    %(dask_workers)s
    %(dtype)s
    %(nan_policy)s
    %(dask_max_memory)s
    %(chunks)s

    Returns
    -------
    ChunkReport
        ``print()`` it: the chunkings weighed (tasks, halo overhead, memory per task,
        estimated time), the one chosen, and each block shape's strategy.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv.dask
    >>> x = da.zeros((4096, 4096), dtype="float32", chunks=256)
    >>> r = fftconv.dask.explain(x, np.ones((63, 63), "float32"), mode="same")
    >>> r.rechunk, r.method in {"fft", "overlap"}
    (True, True)
    """
    from ._core import check_option

    op = check_option("operation", operation, ("convolve", "correlate"))
    return explain_job(x, kernel, flip=op == "convolve", conjugate=op == "correlate",
                       mode=mode, axes=axes, boundary=boundary, cval=cval, anchor=anchor,
                       method=method, effort=effort, workers=workers, dtype=dtype,
                       nan_policy=nan_policy, max_memory=max_memory, chunks=chunks)
