"""The compiled direct sum (numba). Imported on first use: numba loads slowly."""

from __future__ import annotations

from typing import Callable

import numpy as np
from numba import njit

from .._threads import parallel_map
from .direct import PARALLEL_MIN_MACS

__all__ = ["correlate_rows", "prepare"]

#: Output columns per task: a chunk of the output row stays in L1 cache.
CHUNK = 2048



@njit(cache=True, nogil=True, fastmath={"contract"})
def correlate_rows(xrows, base, trow, tcol, tw, rows_per_kernel, out, chunk, t0, t1):  # pragma: no cover - compiled
    """Tasks ``t0 .. t1-1`` of the valid correlation, in fused "row-axpy" form.

    ``out`` is ``(R, L)``. The kernel is a list of non-zero taps: tap ``g`` multiplies
    input row ``base[r] + trow[g]`` shifted by ``tcol[g]`` columns by ``tw[kb, g]``. Taps
    are applied four at a time, so each output element is loaded and stored once per
    four multiply-adds; the innermost loop is contiguous and vectorises. A task is one
    chunk of ``chunk`` columns of one output row.
    """
    L = out.shape[1]
    T = trow.shape[0]
    nch = (L + chunk - 1) // chunk
    for task in range(t0, t1):
        r = task // nch
        c0 = (task % nch) * chunk
        c1 = min(L, c0 + chunk)
        n = c1 - c0
        kb = r // rows_per_kernel
        b = base[r]
        orow = out[r, c0:c1]
        orow[:] = 0
        g = 0
        while g + 4 <= T:
            x0 = xrows[b + trow[g], c0 + tcol[g]:c1 + tcol[g]]
            x1 = xrows[b + trow[g + 1], c0 + tcol[g + 1]:c1 + tcol[g + 1]]
            x2 = xrows[b + trow[g + 2], c0 + tcol[g + 2]:c1 + tcol[g + 2]]
            x3 = xrows[b + trow[g + 3], c0 + tcol[g + 3]:c1 + tcol[g + 3]]
            w0, w1, w2, w3 = tw[kb, g], tw[kb, g + 1], tw[kb, g + 2], tw[kb, g + 3]
            for j in range(n):
                orow[j] += (w0 * x0[j] + w1 * x1[j]) + (w2 * x2[j] + w3 * x3[j])
            g += 4
        rest = T - g  # the last 1-3 taps, also in a single pass
        if rest == 3:
            x0 = xrows[b + trow[g], c0 + tcol[g]:c1 + tcol[g]]
            x1 = xrows[b + trow[g + 1], c0 + tcol[g + 1]:c1 + tcol[g + 1]]
            x2 = xrows[b + trow[g + 2], c0 + tcol[g + 2]:c1 + tcol[g + 2]]
            w0, w1, w2 = tw[kb, g], tw[kb, g + 1], tw[kb, g + 2]
            for j in range(n):
                orow[j] += (w0 * x0[j] + w1 * x1[j]) + w2 * x2[j]
        elif rest == 2:
            x0 = xrows[b + trow[g], c0 + tcol[g]:c1 + tcol[g]]
            x1 = xrows[b + trow[g + 1], c0 + tcol[g + 1]:c1 + tcol[g + 1]]
            w0, w1 = tw[kb, g], tw[kb, g + 1]
            for j in range(n):
                orow[j] += w0 * x0[j] + w1 * x1[j]
        elif rest == 1:
            x0 = xrows[b + trow[g], c0 + tcol[g]:c1 + tcol[g]]
            w0 = tw[kb, g]
            for j in range(n):
                orow[j] += w0 * x0[j]


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
    B, P, L = x_shape[0], x_shape[1:], out_shape[1:]
    # Row strides of the (B, *P[:-1]) grid of input rows.
    row_strides = tuple(int(np.prod(P[m + 1:-1], dtype=np.int64)) for m in range(-1, len(P) - 1))
    base = _offsets((B, *L[:-1]), row_strides)
    # Non-zero taps (of any batch's kernel): input-row offset, column shift, weights.
    taps = np.nonzero((k != 0).any(axis=0))
    trow = sum((t * s for t, s in zip(taps[:-1], row_strides[1:])), np.zeros(taps[-1].size, np.intp))
    tcol = np.ascontiguousarray(taps[-1], dtype=np.intp)
    tw = np.ascontiguousarray(k[(slice(None), *taps)])
    rows = B * int(np.prod(L[:-1], dtype=np.int64))
    rows_per_kernel = max(rows if k.shape[0] == 1 else rows // B, 1)
    ntasks = rows * -(-L[-1] // CHUNK)
    # Few, large contiguous task ranges: enough to balance, few enough to be cheap.
    work = rows * L[-1] * tcol.size
    nparts = 1 if work < PARALLEL_MIN_MACS else min(ntasks, 4 * workers)
    bounds = [ntasks * i // nparts for i in range(nparts + 1)]

    def run(xt: np.ndarray, out: np.ndarray) -> None:
        args = (xt.reshape(-1, P[-1]), base, trow, tcol, tw, rows_per_kernel,
                out.reshape(-1, L[-1]), CHUNK)
        parallel_map(lambda i: correlate_rows(*args, bounds[i], bounds[i + 1]), range(nparts),
                     workers)

    return run
