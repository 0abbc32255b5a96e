"""Fused passes of the dense ``propagate`` and ``omit``: one read of the input before the
transforms, one pass over the outputs after them.

Each is a full-array pass the plain convolution does not pay, so each is compiled, split
over the shared thread queue, and does several things at once:

- :func:`split` reads ``x`` once and writes the input with its missing samples zeroed, the
  validity signal for the weight transform (``omit``) and one byte per sample marking
  the missing ones; it returns their counts;
- :func:`finish` walks the outputs row by row, keeping the exact count of marked samples
  in each window as running column sums of the marks (integers: exact whatever the
  kernel size), and writes the normalised result (``omit``) or the ``nan`` footprint
  (``propagate``) in the same pass. Windows are whole boxes: the caller uses it when
  every tap counts (``propagate``, or ``omit`` with no zero tap).

Both work on 1-d and 2-d signals (1-d as one row); other shapes take the general path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .._machine.threads import parallel_map

__all__ = ["count", "finish", "normalise", "prepare", "row_kernels", "split"]

#: Samples per piece of the fused passes (a few milliseconds of memory traffic).
PIECE_SAMPLES = 1 << 18


@lru_cache(maxsize=1)
def row_kernels() -> tuple[Callable, Callable, Callable]:
    """The compiled steps every dense ``omit`` loop shares, one output row at a time
    (:func:`finish` here, the block hook's pass in :mod:`.blockhook`, :func:`normalise`):

    - ``window_hits(col, pre, k1, hits)``: ``hits[j]`` = the marks in window ``j`` of
      length ``k1`` over the column sums ``col`` (``pre`` is scratch of ``len(col) + 1``);
    - ``normalise_row(nrow, crow, hits, t, z, c, orow)``: ``orow = nrow`` where the
      window has no mark, ``nrow * t / weight`` where it has some (``weight = crow / c``,
      or ``t - crow`` when ``c == 0``), ``nan`` where all ``z`` taps are marked;
    - ``empty_row(hits, z, erow)``: ``erow`` = the windows with every tap marked.
    """
    from numba import njit

    @njit(cache=True, nogil=True, error_model="numpy")
    def window_hits(col, pre, k1, hits):  # pragma: no cover - compiled
        acc = 0
        for jj in range(col.shape[0]):
            pre[jj] = acc
            acc += col[jj]
        pre[col.shape[0]] = acc
        for j in range(hits.shape[0]):
            hits[j] = pre[j + k1] - pre[j]

    @njit(cache=True, nogil=True, error_model="numpy")
    def normalise_row(nrow, crow, hits, t, z, c, orow):  # pragma: no cover - compiled
        # no branch in the loop bodies: they vectorise
        nan = orow.dtype.type(np.nan)
        if c != 0:
            for j in range(orow.shape[0]):
                h = hits[j]
                n = nrow[j]
                v = n if h == 0 else n * (t / (crow[j] / c))
                orow[j] = nan if h >= z else v
        else:
            for j in range(orow.shape[0]):
                h = hits[j]
                n = nrow[j]
                v = n if h == 0 else n * (t / (t - crow[j]))
                orow[j] = nan if h >= z else v

    @njit(cache=True, nogil=True, error_model="numpy")
    def empty_row(hits, z, erow):  # pragma: no cover - compiled
        for j in range(erow.shape[0]):
            erow[j] = hits[j] >= z

    return window_hits, normalise_row, empty_row


@lru_cache(maxsize=1)
def _kernels() -> tuple[Callable, ...]:
    from numba import njit

    window_hits, normalise_row, empty_row = row_kernels()

    @njit(cache=True, nogil=True, error_model="numpy")
    def prep(x, missing, data, weight, c):  # pragma: no cover - compiled
        """``data = x`` with missing samples 0; ``weight`` = the missing mask (``c == 0``)
        or ``c`` times the valid mask (so a border filled with ``c`` is valid weight)."""
        zero = data.dtype.type(0)
        w_missing = weight.dtype.type(0 if c != 0 else 1)
        w_valid = weight.dtype.type(c if c != 0 else 0)
        for i in range(x.shape[0]):
            m = missing[i]
            data[i] = zero if m else x[i]
            weight[i] = w_missing if m else w_valid

    @njit(cache=True, nogil=True, error_model="numpy")
    def post(num, conv, hits, total, nnz, c, out, empty):  # pragma: no cover - compiled
        """``normalise_row`` over each flattened signal of the batch."""
        for b in range(num.shape[0]):
            t = total[b if total.shape[0] > 1 else 0]
            z = nnz[b if nnz.shape[0] > 1 else 0]
            normalise_row(num[b], conv[b], hits[b], t, z, c, out[b])
            empty_row(hits[b], z, empty[b])

    @njit(cache=True, nogil=True, error_model="numpy")
    def split_range(x, data, weight, marks, c, nan_only, with_weight, lo, hi,
                    counts, slot):  # pragma: no cover - compiled
        """Samples ``lo:hi``: marks (missing: nan, or any non-finite value), the zeroed
        data, the weight signal as in ``prep``; counts[slot] = (missing, infinite)."""
        zero = data.dtype.type(0)
        w_missing = weight.dtype.type(0 if c != 0 else 1)
        w_valid = weight.dtype.type(c if c != 0 else 0)
        xs, ds, ms = x[lo:hi], data[lo:hi], marks[lo:hi]
        nmiss = 0
        nbad = 0
        for i in range(xs.shape[0]):
            v = xs[i]
            bad = (v - v) != 0
            m = (v != v) if nan_only else bad
            ds[i] = zero if m else v
            ms[i] = m
            nmiss += m
            nbad += bad
        if with_weight:
            ws = weight[lo:hi]
            for i in range(xs.shape[0]):
                ws[i] = w_missing if ms[i] else w_valid
        nnan = 0
        if nbad:
            for i in range(xs.shape[0]):
                v = xs[i]
                nnan += v != v
        counts[slot, 0] = nmiss
        counts[slot, 1] = nbad - nnan

    @njit(cache=True, nogil=True, error_model="numpy")
    def windows(marks, o0, o1, k0, k1, b, r0, r1, num, conv, total, nnz, c, mode,
                out, empty, with_empty):  # pragma: no cover - compiled
        """Output rows ``r0:r1`` of signal ``b``. The count of marks in the window of
        output ``(i, j)`` (extended rows ``i:i+k0``, columns ``j:j+k1``; the marks array
        starts at extended ``(o0, o1)``, zero outside) is kept as running column sums.
        mode 0 (omit): ``out = num`` where the window has no mark, else
        ``num * total / weight`` (``weight = conv / c`` or ``total - conv``), ``nan``
        where every tap is marked; mode 1 (propagate): ``out = nan`` where any is."""
        m0, m1 = marks.shape[1], marks.shape[2]
        width = out.shape[2]
        ext = width + k1 - 1
        jlo = max(0, o1)
        jhi = min(ext, m1 + o1)
        col = np.zeros(ext, np.int32)
        pre = np.zeros(ext + 1, np.int32)
        hits = np.empty(width, np.int32)
        nan = out.dtype.type(np.nan)
        t = total[b if total.shape[0] > 1 else 0]
        z = nnz[b if nnz.shape[0] > 1 else 0]
        span = col[jlo:jhi]  # loops over slices vectorise
        for e in range(r0, r0 + k0):
            r = e - o0
            if 0 <= r < m0:
                row = marks[b, r, jlo - o1:jhi - o1]
                for jj in range(span.shape[0]):
                    span[jj] += row[jj]
        for i in range(r0, r1):
            if i > r0:
                ra = i + k0 - 1 - o0
                rs = i - 1 - o0
                if 0 <= ra < m0:
                    row = marks[b, ra, jlo - o1:jhi - o1]
                    for jj in range(span.shape[0]):
                        span[jj] += row[jj]
                if 0 <= rs < m0:
                    row = marks[b, rs, jlo - o1:jhi - o1]
                    for jj in range(span.shape[0]):
                        span[jj] -= row[jj]
            window_hits(col, pre, k1, hits)
            orow = out[b, i]
            if mode == 1:
                for j in range(width):
                    orow[j] = nan if hits[j] > 0 else orow[j]
            else:
                normalise_row(num[b, i], conv[b, i], hits, t, z, c, orow)
            if with_empty:
                empty_row(hits, z, empty[b, i])

    @njit(cache=True, nogil=True)
    def count_range(x, lo, hi, limit, counts, slot):  # pragma: no cover - compiled
        """counts[slot] = (non-finite, infinite) samples of ``x[lo:hi]`` (``v - v`` is 0
        exactly for finite ``v``: a test that vectorises, as do loops over a slice).
        ``limit >= 0``: stop once more than ``limit`` are found (counts[slot, 1] is then
        -1: not counted)."""
        a = x[lo:hi]
        nbad = 0
        step = 1 << 14
        for s in range(0, a.shape[0], step):
            part = a[s:s + step]
            for i in range(part.shape[0]):
                v = part[i]
                nbad += (v - v) != 0
            if 0 <= limit < nbad:
                counts[slot, 0] = nbad
                counts[slot, 1] = -1
                return
        nnan = 0
        if nbad:
            for i in range(a.shape[0]):
                v = a[i]
                nnan += v != v
        counts[slot, 0] = nbad
        counts[slot, 1] = nbad - nnan

    return prep, post, split_range, windows, count_range


def _pieces(total: int, per: int) -> list[tuple[int, int]]:
    step = max(1, per)
    return [(a, min(total, a + step)) for a in range(0, total, step)]


def split(xb: np.ndarray, data: np.ndarray, weight: np.ndarray | None, marks: np.ndarray,
          c: complex, nan_only: bool, workers: int) -> tuple[int, int]:
    """Fill ``data`` (``xb`` with its missing samples 0), ``marks`` (uint8, 1 where missing)
    and, if given, ``weight`` (see ``prep``) in one parallel pass over ``xb``.

    Missing is ``nan`` when ``nan_only``, else any non-finite value. Returns (missing,
    infinite) sample counts.
    """
    kernel = _kernels()[2]
    flat = xb.reshape(-1)
    n = flat.size
    ranges = _pieces(n, PIECE_SAMPLES)
    counts = np.zeros((len(ranges), 2), np.int64)
    d, m = data.reshape(-1), marks.reshape(-1)
    w = weight.reshape(-1) if weight is not None else d[:0]
    cv = data.dtype.type(c)

    def piece(i: int) -> None:
        lo, hi = ranges[i]
        kernel(flat, d, w, m, cv, nan_only, weight is not None, lo, hi, counts, i)

    parallel_map(piece, range(len(ranges)), workers if len(ranges) > 1 else 1)
    nmiss, ninf = counts.sum(axis=0)
    return int(nmiss), int(ninf)


def _as_2d(a: np.ndarray) -> np.ndarray:
    return a.reshape((a.shape[0], 1, a.shape[1])) if a.ndim == 2 else a


def finish(marks: np.ndarray, offsets: tuple[int, ...], k: tuple[int, ...], out: np.ndarray,
           workers: int, *, num: np.ndarray | None = None, conv: np.ndarray | None = None,
           total: np.ndarray | None = None, nnz: np.ndarray | None = None, c: complex = 0,
           empty: np.ndarray | None = None) -> None:
    """The pass after the transforms (see ``windows``): ``omit`` when ``num`` and ``conv``
    are given (``empty``, if given, receives the windows without valid weight), else the
    ``propagate`` footprint in place in ``out``.

    ``marks`` is uint8 ``(B, *m)`` (1-d or 2-d signals), placed at extended coordinates
    ``offsets``; ``k`` the window (kernel) shape.
    """
    kernel = _kernels()[3]
    m3, o3 = _as_2d(marks), _as_2d(out)
    if len(k) == 1:
        k, offsets = (1, *k), (0, *offsets)
    omit = num is not None
    dtype = out.dtype
    num3 = _as_2d(num) if num is not None else o3
    conv3 = _as_2d(conv) if conv is not None else o3
    tot = np.ascontiguousarray(np.ravel(total if total is not None else 0), dtype=dtype)
    nz = np.ascontiguousarray(np.ravel(nnz if nnz is not None else 0), dtype=np.int64)
    e3 = _as_2d(empty) if empty is not None else np.zeros((1, 1, 1), np.bool_)
    rows = o3.shape[1]
    per = max(1, PIECE_SAMPLES // max(o3.shape[2], 1))
    # fewer, longer pieces: each starts by summing k0 rows of marks
    per = max(per, 4 * k[0])
    tasks = [(b, r0, r1) for b in range(o3.shape[0]) for r0, r1 in _pieces(rows, per)]
    cv = dtype.type(c)

    def piece(task: tuple[int, int, int]) -> None:
        b, r0, r1 = task
        kernel(m3, offsets[0], offsets[1], k[0], k[1], b, r0, r1, num3, conv3, tot, nz, cv,
               0 if omit else 1, o3, e3, empty is not None)

    parallel_map(piece, tasks, workers if len(tasks) > 1 else 1)


def prepare(xb: np.ndarray, missing: np.ndarray, data: np.ndarray, weight: np.ndarray,
            c: complex) -> None:
    """Fill ``data`` and ``weight`` (both shaped like ``xb``) in one pass; see ``prep``."""
    prep = _kernels()[0]
    prep(xb.reshape(-1), missing.reshape(-1), data.reshape(-1), weight.reshape(-1),
         data.dtype.type(c))


def normalise(num: np.ndarray, conv: np.ndarray, hits: np.ndarray, total: np.ndarray,
              nnz: np.ndarray, c: complex, out: np.ndarray) -> np.ndarray:
    """Write the normalised result into ``out`` from exact ``hits`` counts (any kernel,
    any dimension); return the empty windows (bool)."""
    post = _kernels()[1]
    B = num.shape[0]
    empty = np.empty(out.shape, np.bool_)
    post(num.reshape(B, -1), conv.reshape(B, -1), hits.reshape(B, -1),
         np.ascontiguousarray(total.reshape(-1), dtype=num.dtype),
         np.ascontiguousarray(nnz.reshape(-1), dtype=np.int64), num.dtype.type(c),
         out.reshape(B, -1), empty.reshape(B, -1))
    return empty


def count(xb: np.ndarray, workers: int, limit: int = -1) -> tuple[int, int]:
    """(non-finite, infinite) samples of ``xb``: one parallel read.

    ``limit >= 0``: only whether there are more than ``limit`` matters. The first
    quarter is read in one thread, stopping as soon as more are found (then the counts
    are partial: over ``limit``, and -1 infinities); the rest, if needed, in parallel.
    """
    kernel = _kernels()[4]
    flat = xb.reshape(-1)
    start = 0
    first = np.zeros((1, 2), np.int64)
    if limit >= 0:
        start = flat.size // 4
        kernel(flat, 0, start, limit, first, 0)
        if first[0, 1] < 0:
            return int(first[0, 0]), -1
    ranges = [(start + a, start + b) for a, b in _pieces(flat.size - start, 4 * PIECE_SAMPLES)]
    counts = np.zeros((len(ranges), 2), np.int64)

    def piece(i: int) -> None:
        kernel(flat, ranges[i][0], ranges[i][1], -1, counts, i)

    parallel_map(piece, range(len(ranges)), workers if len(ranges) > 1 else 1)
    nbad, ninf = counts.sum(axis=0) + first[0]
    return int(nbad), int(ninf)
