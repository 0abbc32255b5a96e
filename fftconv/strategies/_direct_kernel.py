"""The compiled direct sum (numba). Imported on first use: numba loads slowly."""

from __future__ import annotations

from typing import Callable

import numpy as np
from numba import njit

from .._threads import parallel_map

__all__ = ["correlate_rows", "prepare"]

#: Output columns per task: a chunk of the output row stays in L1 cache.
CHUNK = 2048


@njit(cache=True, nogil=True)
def correlate_rows(xrows, base, krows, tapoff, rows_per_kernel, out, chunk, t0, t1):  # pragma: no cover - compiled
    """Tasks ``t0 .. t1-1`` of the valid correlation, in "row-axpy" form.

    ``out`` is ``(R, L)``: every output row is a sum over kernel rows ``t`` of 1-d
    correlations of the input row ``base[r] + tapoff[t]`` with kernel row ``t``. A task
    is one chunk of ``chunk`` columns of one output row. The innermost loop is a
    contiguous ``axpy`` over output columns, so it vectorises. Zero taps are skipped:
    non-finite inputs never reach this kernel (see :mod:`fftconv._nonfinite`).
    """
    L = out.shape[1]
    T = tapoff.shape[0]
    K1 = krows.shape[1]
    nch = (L + chunk - 1) // chunk
    for task in range(t0, t1):
        r = task // nch
        c0 = (task % nch) * chunk
        c1 = min(L, c0 + chunk)
        n = c1 - c0
        kb = (r // rows_per_kernel) * T
        orow = out[r, c0:c1]
        orow[:] = 0
        for t in range(T):
            xr = base[r] + tapoff[t]
            for v in range(K1):
                w = krows[kb + t, v]
                if w == 0:  # sparse kernels (lines, rings) cost only their taps
                    continue
                xrow = xrows[xr, c0 + v:c1 + v]
                for j in range(n):
                    orow[j] += w * xrow[j]


def _offsets(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """Flat offsets ``sum_m i_m * strides[m]`` of every index of ``shape``, in C order."""
    off = np.zeros(shape, dtype=np.intp)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[axis] = n
        off += (np.arange(n, dtype=np.intp) * s).reshape(view)
    return off.ravel()


def prepare(x_shape: tuple[int, ...], k: np.ndarray, out_shape: tuple[int, ...],
            workers: int) -> Callable[[np.ndarray, np.ndarray], None]:
    """Precompute the row offsets for ``(B, *P)`` inputs; return ``run(xt, out)``.

    ``run`` computes the valid correlation of the C-contiguous extended input ``xt`` with
    ``k`` ``(Bk, *K)`` (``Bk`` is 1 or ``B``) into the C-contiguous ``out`` ``(B, *L)``.
    """
    B, P, K, L = x_shape[0], x_shape[1:], k.shape[1:], out_shape[1:]
    # Row strides of the (B, *P[:-1]) grid of input rows.
    row_strides = tuple(int(np.prod(P[m + 1:-1], dtype=np.int64)) for m in range(-1, len(P) - 1))
    base = _offsets((B, *L[:-1]), row_strides)
    tapoff = _offsets(K[:-1], row_strides[1:])
    rows = B * int(np.prod(L[:-1], dtype=np.int64))
    rows_per_kernel = max(rows if k.shape[0] == 1 else rows // B, 1)
    krows = np.ascontiguousarray(k.reshape(-1, K[-1]))
    ntasks = rows * -(-L[-1] // CHUNK)
    # Few, large contiguous task ranges: enough to balance, few enough to be cheap.
    work = rows * L[-1] * np.count_nonzero(k[0])
    nparts = 1 if work < 200_000 else min(ntasks, 4 * workers)
    bounds = [ntasks * i // nparts for i in range(nparts + 1)]

    def run(xt: np.ndarray, out: np.ndarray) -> None:
        args = (xt.reshape(-1, P[-1]), base, krows, tapoff, rows_per_kernel,
                out.reshape(-1, L[-1]), CHUNK)
        parallel_map(lambda i: correlate_rows(*args, bounds[i], bounds[i + 1]), range(nparts),
                     workers)

    return run
