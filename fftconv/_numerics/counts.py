"""Exact integer counts of marked samples under a kernel's taps (the non-finite footprint).

``count(marks, taps)[b, i] = #{j : taps[j] and marks[b, i + j]}`` for a boolean ``marks``
array of the extended input ``(B, *ext)`` and a boolean tap mask ``(Bk, *K)``: a *valid*
correlation of two 0/1 arrays, so every count is a small integer. Three ways to get it,
all exact:

- ``box``: every tap of the window counts (the window's bounding box). Running sums along
  each axis, in integers: ``O(n)`` per axis whatever the kernel size.
- ``scatter``: few marks; each mark adds one to the outputs its window reaches.
- ``transform``: a float64 correlation (any method the planner picks), rounded. Proven
  exact by the FFT error bound (:func:`fftconv.strategies.fft.check_exact`), which holds
  far beyond any realistic size; where it does not, the direct sum is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import numpy as np

__all__ = ["box_counts", "count", "scatter", "scatter_kernel"]

#: Seconds per (mark, tap) update of the scatter, per sample of a box pass, per sample of
#: a float64 transform correlation: the choice between them (measured on this class of
#: machine; only ratios matter).
SCATTER_SECONDS = 1.5e-9
BOX_SECONDS = 1.5e-9


@lru_cache(maxsize=1)
def _running() -> Callable:
    from numba import njit

    @njit(cache=True, nogil=True)
    def running(a, w, out):  # pragma: no cover - compiled
        """Valid running sums of width ``w`` along axis 1 of ``a`` ``(pre, L, post)``."""
        pre, length, post = a.shape
        m = length - w + 1
        acc = np.zeros(post, np.int32)
        for p in range(pre):
            for q in range(post):
                acc[q] = 0
            for i in range(w):
                for q in range(post):
                    acc[q] += a[p, i, q]
            for q in range(post):
                out[p, 0, q] = acc[q]
            for i in range(1, m):
                for q in range(post):
                    acc[q] += a[p, i + w - 1, q] - a[p, i - 1, q]
                    out[p, i, q] = acc[q]

    @njit(cache=True, nogil=True)
    def running_last(a, w, out):  # pragma: no cover - compiled
        """Valid running sums of width ``w`` along the last axis of ``a`` ``(pre, L)``."""
        pre, length = a.shape
        m = length - w + 1
        for p in range(pre):
            acc = np.int32(0)
            for i in range(w):
                acc += a[p, i]
            out[p, 0] = acc
            for i in range(1, m):
                acc += a[p, i + w - 1] - a[p, i - 1]
                out[p, i] = acc

    def apply(a: np.ndarray, axis: int, w: int) -> np.ndarray:
        shape = a.shape
        m = shape[axis] - w + 1
        if axis == a.ndim - 1:
            flat = a.reshape(-1, shape[-1])
            out = np.empty((flat.shape[0], m), np.int32)
            running_last(flat, w, out)
        else:
            view = a.reshape(math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))
            out = np.empty((view.shape[0], m, view.shape[2]), np.int32)
            running(view, w, out)
        return out.reshape(shape[:axis] + (m,) + shape[axis + 1:])

    return apply


def box_counts(marks: np.ndarray, k: tuple[int, ...]) -> np.ndarray:
    """Marks of ``(B, *ext)`` in every ``k``-window: int32 ``(B, *(ext - k + 1))``."""
    apply = _running()
    a = marks.view(np.uint8) if marks.dtype == np.bool_ else marks
    a = np.ascontiguousarray(a)
    # Narrow the axes with the widest windows first: later passes read less.
    for axis in sorted(range(len(k)), key=lambda i: -k[i]):
        if k[axis] > 1 or a.dtype != np.int32:
            a = apply(a, axis + 1, k[axis])
    return a


@lru_cache(maxsize=1)
def scatter_kernel() -> Callable:
    """The compiled scatter: ``out[b, p - t] += kvals[b, t] * vals[m]`` for every mark."""
    from numba import njit

    @njit(cache=True, nogil=True)
    def scatter(pos, bidx, vals, taps, kvals, out, lengths):  # pragma: no cover - compiled
        d = lengths.shape[0]
        T = taps.shape[0]
        for m in range(pos.shape[0]):
            b = bidx[m]
            kb = b if kvals.shape[0] > 1 else 0
            for t in range(T):
                flat = 0
                ok = True
                for a in range(d):
                    i = pos[m, a] - taps[t, a]
                    if i < 0 or i >= lengths[a]:
                        ok = False
                        break
                    flat = flat * lengths[a] + i
                if ok:
                    out[b, flat] += kvals[kb, t] * vals[m]

    return scatter


@lru_cache(maxsize=1)
def scatter_rows_kernel() -> Callable:
    """The compiled 2-d scatter: each mark adds the reversed kernel, row by row."""
    from numba import njit

    @njit(cache=True, nogil=True)
    def scatter_rows(pos, bidx, vals, krev, out):  # pragma: no cover - compiled
        k0, k1 = krev.shape[1], krev.shape[2]
        l0, l1 = out.shape[1], out.shape[2]
        for m in range(pos.shape[0]):
            b = bidx[m]
            kb = b if krev.shape[0] > 1 else 0
            p0, p1 = pos[m, 0], pos[m, 1]
            v = vals[m]
            base = p1 - k1 + 1  # output column of the last tap
            lo1 = max(0, base)
            hi1 = min(l1, p1 + 1)
            if hi1 <= lo1:
                continue
            for t0 in range(k0):
                i0 = p0 - t0
                if 0 <= i0 < l0:
                    row = out[b, i0, lo1:hi1]
                    taps = krev[kb, t0, lo1 - base:hi1 - base]
                    for j in range(row.shape[0]):
                        row[j] += taps[j] * v

    return scatter_rows


def scatter(pos: np.ndarray, bidx: np.ndarray, vals: np.ndarray, kernel: np.ndarray,
            out: np.ndarray) -> None:
    """Add ``kernel[b, t] * vals[m]`` to ``out[b, pos[m] - t]`` (``out`` is ``(B, *out_len)``).

    Zero taps are skipped unless ``vals`` is non-finite (``0 * nan`` is counted); 1-d
    and 2-d kernels add whole rows (a zero tap adds ``0 * v``, zero for finite ``v``).
    """
    if kernel.ndim <= 3:
        k3 = kernel if kernel.ndim == 3 else kernel[:, None, :]
        o3 = out if out.ndim == 3 else out.reshape(out.shape[0], 1, out.shape[-1])
        p2 = pos if pos.shape[1] == 2 else np.concatenate(
            [np.zeros((len(pos), 1), np.intp), pos], axis=1)
        krev = np.ascontiguousarray(k3[:, :, ::-1]).astype(np.result_type(k3, vals), copy=False)
        scatter_rows_kernel()(np.ascontiguousarray(p2, dtype=np.intp), bidx,
                              np.ascontiguousarray(vals, dtype=krev.dtype), krev, o3)
        return
    kflat = kernel.reshape(kernel.shape[0], -1)
    keep = np.ones(kflat.shape[1], bool) if not np.isfinite(vals).all() else (kflat != 0).any(axis=0)
    taps = np.indices(kernel.shape[1:], dtype=np.intp).reshape(kernel.ndim - 1, -1).T[keep]
    kvals = np.ascontiguousarray(kflat[:, keep])
    flat = out.reshape(out.shape[0], -1)
    scatter_kernel()(np.ascontiguousarray(pos), bidx, vals, np.ascontiguousarray(taps), kvals,
                     flat, np.asarray(out.shape[1:], dtype=np.intp))


def _transform_counts(marks: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Counts by a float64 valid correlation (one per distinct tap mask), rounded."""
    from .._api import correlate
    from ..strategies.fft import InexactError, check_exact

    k = taps.shape[1:]
    out_shape = (marks.shape[0],) + tuple(e - ki + 1 for e, ki in zip(marks.shape[1:], k))
    out = np.empty(out_shape, np.int32)
    nf = math.prod(marks.shape[1:]) or 1
    for b0 in range(marks.shape[0] if taps.shape[0] > 1 else 1):
        sel = slice(b0, b0 + 1) if taps.shape[0] > 1 else slice(None)
        m = marks[sel].astype(np.float64)
        t = taps[b0:b0 + 1].astype(np.float64)
        method: Literal["auto", "direct"]
        try:  # the error bound of a transform, with ||m||_2 <= sqrt(marks)
            check_exact(math.sqrt(float(np.count_nonzero(marks[sel]))), float(t.sum()), nf)
            method = "auto"
        except InexactError:  # pragma: no cover - needs ~1e20 samples
            method = "direct"
        res = correlate(m, t, "valid", method=method)
        np.rint(res, out=res)
        out[sel] = res
    return out


def count(marks: np.ndarray, taps: np.ndarray, *, nmarks: int | None = None) -> np.ndarray:
    """Exact ``#{j : taps[b, j] and marks[b, i + j]}``: int32 of the valid output shape.

    ``marks`` is ``(B, *ext)`` bool, ``taps`` ``(Bk, *K)`` bool with ``Bk`` 1 or ``B``.
    The cheapest exact way is chosen from the number of marks.
    """
    k = taps.shape[1:]
    out_shape = (marks.shape[0],) + tuple(e - ki + 1 for e, ki in zip(marks.shape[1:], k))
    ntaps = int(np.count_nonzero(taps))
    if ntaps == 0 or 0 in out_shape:
        return np.zeros(out_shape, np.int32)
    if taps.all():
        return box_counts(marks, k)
    if nmarks is None:
        nmarks = int(np.count_nonzero(marks))
    if nmarks == 0:
        return np.zeros(out_shape, np.int32)
    n = marks.size
    box_like = BOX_SECONDS * n * (len(k) + 8)  # a transform costs a few passes over the data
    if nmarks * ntaps / max(taps.shape[0], 1) * SCATTER_SECONDS <= box_like:
        where = np.nonzero(marks)
        pos = np.stack(where[1:], axis=1).astype(np.intp)
        acc = np.zeros(out_shape, np.float64)
        scatter(pos, where[0].astype(np.intp), np.ones(len(pos)), taps.astype(np.float64), acc)
        return acc.astype(np.int32)
    return _transform_counts(marks, taps)
