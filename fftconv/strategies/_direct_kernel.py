"""The compiled direct sum (numba). Imported on first use: numba loads slowly."""

from __future__ import annotations

import threading

import numba
import numpy as np
from numba import njit, prange

__all__ = ["correlate_rows", "run"]


@njit(parallel=True, cache=True, nogil=True)
def correlate_rows(xrows, base, krows, tapoff, rows_per_kernel, out, chunk):  # pragma: no cover - compiled
    """Valid correlation in "row-axpy" form, for any number of dimensions.

    ``out`` is ``(R, L)``: every output row is a sum over kernel rows ``t`` of 1-d
    correlations of the input row ``base[r] + tapoff[t]`` with kernel row ``t``. The
    innermost loop is a contiguous ``axpy`` over output columns, so it vectorises; rows
    and column chunks are spread over threads.
    """
    R, L = out.shape
    T = tapoff.shape[0]
    K1 = krows.shape[1]
    nch = (L + chunk - 1) // chunk
    for task in prange(R * nch):
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
                xrow = xrows[xr, c0 + v:c1 + v]
                for j in range(n):
                    orow[j] += w * xrow[j]


# The workqueue layer cannot run two parallel regions at once; serialise only then.
_serial = threading.Lock()


def _offsets(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """Flat offsets ``sum_m i_m * strides[m]`` of every index of ``shape``, in C order."""
    off = np.zeros(shape, dtype=np.intp)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[axis] = n
        off += (np.arange(n, dtype=np.intp) * s).reshape(view)
    return off.ravel()


def _layer_is_threadsafe() -> bool:
    try:
        return numba.threading_layer() != "workqueue"
    except ValueError:  # not initialised until the first parallel call
        return False


def run(xt: np.ndarray, k: np.ndarray, out: np.ndarray, workers: int) -> None:
    """Valid correlation of ``xt`` ``(B, *P)`` with ``k`` ``(Bk, *K)`` into ``out`` ``(B, *L)``.

    All three arrays are C-contiguous; ``Bk`` is 1 or ``B``.
    """
    B, P, K, L = xt.shape[0], xt.shape[1:], k.shape[1:], out.shape[1:]
    # Row strides of the (B, *P[:-1]) grid of input rows.
    row_strides = tuple(int(np.prod(P[m + 1:-1], dtype=np.int64)) for m in range(-1, len(P) - 1))
    base = _offsets((B, *L[:-1]), row_strides)
    tapoff = _offsets(K[:-1], row_strides[1:])
    orows = out.reshape(-1, L[-1])
    rows_per_kernel = orows.shape[0] if k.shape[0] == 1 else orows.shape[0] // B
    args = (xt.reshape(-1, P[-1]), base, k.reshape(-1, K[-1]), tapoff,
            max(rows_per_kernel, 1), orows, 2048)
    numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
    if _layer_is_threadsafe():
        correlate_rows(*args)
    else:
        with _serial:
            correlate_rows(*args)
