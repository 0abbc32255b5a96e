"""The compiled direct sum (numba). Imported on first use: numba loads slowly.

The valid correlation of the *extended* input ``x~`` is computed without building
``x~``: rows of ``x~`` along the leading axes are rows of ``x`` found through a row map
(or rows of ``cval``, which add a constant), and along the last axis the interior output
columns read ``x``'s rows at a fixed shift. Only for the few edge columns, whose window
leaves the row, are the samples gathered through the boundary's column map.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .._machine.costs import machine_costs
from .._machine.jit import njit
from .._machine.threads import ELEMENT_MACS, piece_count, run_ranges
from .._numerics.boundary import index_map
from .direct import sum_threads

__all__ = ["correlate_rows", "prepare", "ring_rows"]

#: Output columns per task: a chunk of the output row stays in L1 cache.
CHUNK = 2048
#: Largest ring of extended rows (per task range) that short rows are built in.
_RING_BYTES = 4 << 20


@njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _accumulate(o, rows, src, live, nl, w, tcol, s0):  # pragma: no cover - compiled
    """``o[j] += sum_k w[g_k] * rows[src[k], s0 + tcol[g_k] + j]`` over ``g_k = live[k]``.

    Taps are applied four at a time, so each output element is loaded and stored once
    per four multiply-adds; the innermost loop is contiguous and vectorises.
    """
    n = o.shape[0]
    if n < 8:  # a few edge columns: a vector loop per tap would cost more than its work
        for j in range(n):
            acc = o[j]
            for k in range(nl):
                g = live[k]
                acc += w[g] * rows[src[k], s0 + tcol[g] + j]
            o[j] = acc
        return
    k = 0
    while k + 4 <= nl:
        g0, g1, g2, g3 = live[k], live[k + 1], live[k + 2], live[k + 3]
        x0 = rows[src[k], s0 + tcol[g0]:s0 + tcol[g0] + n]
        x1 = rows[src[k + 1], s0 + tcol[g1]:s0 + tcol[g1] + n]
        x2 = rows[src[k + 2], s0 + tcol[g2]:s0 + tcol[g2] + n]
        x3 = rows[src[k + 3], s0 + tcol[g3]:s0 + tcol[g3] + n]
        w0, w1, w2, w3 = w[g0], w[g1], w[g2], w[g3]
        for j in range(n):
            o[j] += (w0 * x0[j] + w1 * x1[j]) + (w2 * x2[j] + w3 * x3[j])
        k += 4
    while k < nl:  # the last 1-3 taps, one pass each (one loop to compile, not three)
        g0 = live[k]
        x0 = rows[src[k], s0 + tcol[g0]:s0 + tcol[g0] + n]
        w0 = w[g0]
        for j in range(n):
            o[j] += w0 * x0[j]
        k += 1


@njit(cache=True, nogil=True, fastmath={"contract"})
def ring_rows(xrows, cval, rowmap, colmap, lo, span, ring, base, trow, tcol, tw,
              rows_per_kernel, out, t0, t1):  # pragma: no cover - compiled
    """Output rows ``t0 .. t1-1`` of :func:`correlate_rows`'s sum (its arguments) from a
    ring of ``x~``'s rows: for rows of one chunk with edge columns, where ``ring`` (a power
    of two, at least ``max(trow) + 1``) is not 0. The rows of ``x~`` are built once each,
    through the maps, in a ring of ``ring`` rows that consecutive output rows share (row
    ``e`` in slot ``e % ring``). A function of its own, chosen by :func:`prepare`: a
    problem compiles only the one of the two it runs."""
    L = out.shape[1]
    T = trow.shape[0]
    fill = cval[0]
    live = np.empty(T, np.intp)
    slot = np.empty(T, np.intp)
    n_x = xrows.shape[1]
    width = L + span - 1
    inner = min(n_x, width - lo)  # x's columns that land inside the ring row
    rows = np.empty((ring, width), xrows.dtype)
    tags = np.empty(ring, np.intp)  # the x~ row in each slot (np.full: 0.2 s more to compile)
    for i in range(ring):
        tags[i] = -1
    for g in range(T):
        live[g] = g
    for r in range(t0, t1):
        for g in range(T):
            e = base[r] + trow[g]
            i = e & (ring - 1)
            if tags[i] != e:
                tags[i] = e
                s = rowmap[e]
                if s < 0:
                    rows[i, :] = fill
                else:
                    for j in range(inner):  # a loop, not a slice assignment: numba
                        rows[i, lo + j] = xrows[s, j]  # compiles shape errors' text (3 s)
                    for j in range(min(lo, width)):
                        c = colmap[j]
                        rows[i, j] = xrows[s, c] if c >= 0 else fill
                    for j in range(lo + max(inner, 0), width):
                        c = colmap[j]
                        rows[i, j] = xrows[s, c] if c >= 0 else fill
            slot[g] = i
        out[r, :] = 0
        _accumulate(out[r], rows, slot, live, T, tw[r // rows_per_kernel], tcol, 0)


@njit(cache=True, nogil=True, fastmath={"contract"})
def correlate_rows(xrows, cval, rowmap, colmap, lo, span, slots, base, trow, tcol, tw,
                   rows_per_kernel, out, chunk, t0, t1):  # pragma: no cover - compiled
    """Tasks ``t0 .. t1-1`` of the valid correlation of ``x~``, in fused "row-axpy" form.

    ``xrows`` are the rows of ``x`` ``(R, n)``; ``out`` is ``(R_out, L)``; ``cval`` holds
    the fill value and a zero. Row ``e`` of the grid of ``x~``'s rows is
    ``xrows[rowmap[e]]``, or all ``cval[0]`` where ``rowmap[e] < 0``. Column ``c`` of ``x~``
    is column ``colmap[c]`` of ``x`` (``-1``: ``cval[0]``), which in the interior is
    ``c - lo``. The kernel is a list of non-zero taps: tap ``g`` multiplies row
    ``base[r] + trow[g]`` shifted by ``tcol[g] < span`` columns by ``tw[kb, g]``; the taps
    use at most ``slots`` distinct rows.

    A task is one chunk of ``chunk`` columns of one output row; taps are accumulated by
    :func:`_accumulate`. Taps on a ``cval`` row add a constant, the interior columns read
    the rows of ``x`` in place, and only for the few edge columns, whose window leaves the
    row, are the samples gathered through ``colmap`` into a small buffer. (Rows of one
    chunk with edge columns are :func:`ring_rows`' instead.)
    """
    L = out.shape[1]
    T = trow.shape[0]
    fill = cval[0]
    a = min(max(lo, 0), L)  # interior output columns [a, b): every tap reads inside x
    b = max(a, min(L, xrows.shape[1] - span + 1 + lo))
    nch = (L + chunk - 1) // chunk
    live = np.empty(T, np.intp)  # the taps on rows of x, their row, their edge-buffer row
    src = np.empty(T, np.intp)
    slot = np.empty(T, np.intp)
    edge = np.empty((slots, min(chunk, max(a, L - b)) + span - 1), xrows.dtype)
    for task in range(t0, t1):
        r = task // nch
        c0 = (task % nch) * chunk
        c1 = min(L, c0 + chunk)
        i0 = min(max(a, c0), c1)
        i1 = min(max(b, c0), c1)
        w = tw[r // rows_per_kernel]
        const = cval[1]  # zero of the output's type
        nl = 0
        for g in range(T):
            s = rowmap[base[r] + trow[g]]
            if s < 0:
                const += w[g] * fill
            else:
                live[nl] = g
                src[nl] = s
                nl += 1
        out[r, c0:c1] = const
        if i1 > i0:
            _accumulate(out[r, i0:i1], xrows, src, live, nl, w, tcol, i0 - lo)
        for p, q in ((c0, i0), (i1, c1)):
            if q == p:
                continue
            ns = 0  # one buffer row per run of taps on the same row of x
            for k in range(nl):
                if k == 0 or src[k] != src[k - 1]:
                    xrow = xrows[src[k]]
                    for j in range(q - p + span - 1):
                        c = colmap[p + j]
                        edge[ns, j] = xrow[c] if c >= 0 else fill
                    ns += 1
                slot[k] = ns - 1
            _accumulate(out[r, p:q], edge, slot, live, nl, w, tcol, 0)


#: Index arrays depend on shapes and the boundary only: a new kernel of the same problem
#: (a filter bank, a deconvolution loop, dask chunks) reuses them. Never written to.
@functools.lru_cache(maxsize=256)
def _offsets(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """Flat offsets ``sum_m i_m * strides[m]`` of every index of ``shape``, in C order."""
    off = np.zeros(shape, dtype=np.intp)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[axis] = n
        off += (np.arange(n, dtype=np.intp) * s).reshape(view)
    return off.ravel()


@functools.lru_cache(maxsize=256)
def _row_map(batch: int, n: tuple[int, ...], pad: tuple[tuple[int, int], ...],
             boundary: str) -> np.ndarray:
    """Row of ``x`` ``(batch * prod(n), ...)`` behind each row of ``x~``'s grid (-1: cval)."""
    maps = [index_map(ni, lo, hi, boundary) for ni, (lo, hi) in zip(n, pad)]
    strides = [int(np.prod(n[m + 1:], dtype=np.int64)) for m in range(len(n))]
    rows = _offsets((batch,), (int(np.prod(n, dtype=np.int64)),))
    fill = np.zeros(batch, bool)
    for m, s in zip(maps, strides):
        rows = (rows[:, None] + m[None, :] * s).ravel()
        fill = (fill[:, None] | (m < 0)[None, :]).ravel()
    return np.where(fill, -1, rows).astype(np.intp)


def prepare(x_shape: tuple[int, ...], k: np.ndarray, out_shape: tuple[int, ...],
            workers: int, pad: tuple[tuple[int, int], ...] | None = None,
            boundary: str = "constant", cval: object = 0
            ) -> Callable[[np.ndarray, np.ndarray], None]:
    """Precompute the row and column maps for ``(B, *n)`` inputs; return ``run(xb, out)``.

    ``run`` computes the valid correlation of ``x~``, the C-contiguous ``xb`` extended by
    ``pad`` (default: none) with ``boundary`` and ``cval``, with ``k`` ``(Bk, *K)`` (``Bk``
    is 1 or ``B``) into the C-contiguous ``out`` ``(B, *L)``. ``x~`` is never built.
    """
    B, n, L = x_shape[0], x_shape[1:], out_shape[1:]
    pad = tuple(pad) if pad is not None else ((0, 0),) * len(n)
    ext = tuple(ni + lo + hi for ni, (lo, hi) in zip(n, pad))
    # Row strides of the (B, *ext[:-1]) grid of x~'s rows.
    row_strides = tuple(int(np.prod(ext[m + 1:-1], dtype=np.int64)) for m in range(-1, len(n) - 1))
    base = _offsets((B, *L[:-1]), row_strides)
    rowmap = _row_map(B, n[:-1], pad[:-1], boundary)
    colmap = np.ascontiguousarray(index_map(n[-1], *pad[-1], boundary))
    fill = np.array([cval, 0], k.dtype)  # cval, and a zero of the compute dtype
    # Non-zero taps (of any batch's kernel): x~-row offset, column shift, weights.
    taps = np.nonzero((k != 0).any(axis=0))
    trow = sum((t * s for t, s in zip(taps[:-1], row_strides[1:])), np.zeros(taps[-1].size, np.intp))
    tcol = np.ascontiguousarray(taps[-1], dtype=np.intp)
    every_batch: tuple[Any, ...] = (slice(None), *taps)  # every kernel, at the taps
    tw = np.ascontiguousarray(k[every_batch])
    span = int(tcol.max(initial=0)) + 1
    slots = max(int(np.unique(trow).size), 1)
    # The ring of x~'s rows for rows of one chunk (see correlate_rows), when it is small.
    ring = 1 << int(trow.max(initial=0)).bit_length()
    if L[-1] > CHUNK or ring * (L[-1] + span - 1) * k.itemsize > _RING_BYTES:
        ring = 0
    rows = B * int(np.prod(L[:-1], dtype=np.int64))
    rows_per_kernel = max(rows if k.shape[0] == 1 else rows // B, 1)
    chunk = CHUNK
    ntasks = rows * -(-L[-1] // chunk)
    # Contiguous task ranges taken from the shared queue: several per thread, and short
    # enough that an interrupt is seen between them.
    macs, elements = rows * L[-1] * tcol.size, B * int(np.prod(n)) + rows * L[-1]
    costs = machine_costs()
    rate = costs["direct_per_mac"].get(k.dtype.name, 2.5e-10)
    seconds = (macs + ELEMENT_MACS * elements) * rate
    threads = sum_threads(seconds, workers, costs)
    nparts = piece_count(seconds, threads, ntasks)
    bounds = [ntasks * i // nparts for i in range(nparts + 1)]
    lo = pad[-1][0]
    a = min(max(lo, 0), L[-1])  # interior output columns [a, b), as correlate_rows finds them
    b = max(a, min(L[-1], n[-1] - span + 1 + lo))
    ringed = bool(ring) and L[-1] <= chunk and (a > 0 or b < L[-1])  # a task is a row

    def run(xb: np.ndarray, out: np.ndarray) -> None:
        xrows, orows = xb.reshape(-1, n[-1]), out.reshape(-1, L[-1])
        if ringed:
            args: tuple = (xrows, fill, rowmap, colmap, lo, span, ring, base, trow, tcol, tw,
                           rows_per_kernel, orows)
            run_ranges(ring_rows, args, bounds, threads, seconds)
            return
        args = (xrows, fill, rowmap, colmap, lo, span, slots, base, trow, tcol, tw,
                rows_per_kernel, orows, chunk)
        run_ranges(correlate_rows, args, bounds, threads, seconds)

    return run
