"""Extension rules: numpy.pad's boundaries as index maps, whole arrays and blocks.

The extension ``x~`` of an axis of length ``n`` padded by ``(lo, hi)`` is *defined* as
``numpy.pad``'s (so extensions wider than the input repeat the rule exactly as numpy does):

=============  ===============================
``constant``   ``k k k | a b c d | k k k``
``reflect``    ``d c b | a b c d | c b a``
``symmetric``  ``c b a | a b c d | d c b``
``edge``       ``a a a | a b c d | d d d``
``wrap``       ``b c d | a b c d | a b c``
=============  ===============================
"""

from __future__ import annotations

import functools
from typing import Any, Literal, get_args

import numpy as np

__all__ = ["index_map", "extend", "extend_into", "gather"]

#: The canonical boundaries, which are numpy.pad's modes of the same names.
PadMode = Literal["constant", "reflect", "symmetric", "edge", "wrap"]
_PAD_MODE: dict[str, PadMode] = {mode: mode for mode in get_args(PadMode)}


@functools.lru_cache(maxsize=512)  # read-only, shared: a new kernel reuses its problem's
def index_map(n: int, lo: int, hi: int, boundary: str) -> np.ndarray:
    """Source index in ``[0, n)`` of each extended position; ``-1`` marks a ``cval`` fill."""
    base = np.arange(n, dtype=np.intp)
    if boundary == "constant":
        out = np.pad(base, (lo, hi), mode="constant", constant_values=-1)
    else:
        out = np.pad(base, (lo, hi), mode=_PAD_MODE[boundary])
    out.flags.writeable = False
    return out


def extend(xb: np.ndarray, pad: tuple[tuple[int, int], ...], boundary: str,
           cval: complex | float | int) -> np.ndarray:
    """Return ``x~`` for a ``(B, *spatial)`` array: the trailing axes padded by ``pad``."""
    widths = [(0, 0)] * (xb.ndim - len(pad)) + [tuple(p) for p in pad]
    if all(p == (0, 0) for p in widths):
        return np.ascontiguousarray(xb)
    if boundary == "constant":  # much cheaper than np.pad for small arrays
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(xb.shape, widths))
        out = np.zeros(shape, xb.dtype) if cval == 0 else np.full(shape, cval, xb.dtype)
        out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(xb.shape, widths))] = xb
        return out
    return np.pad(xb, widths, mode=_PAD_MODE[boundary])


def extend_into(xb: np.ndarray, pad: tuple[tuple[int, int], ...], boundary: str,
                cval: complex | float | int, out: np.ndarray) -> None:
    """Write ``x~`` of ``xb`` ``(B, *n)`` into ``out`` ``(B, *(n + lo + hi))`` without allocating.

    Axis by axis, each border slab is taken from ``out`` itself through the boundary's
    index map, over the full extent of the other axes (so corners follow the rule as in
    ``numpy.pad``).
    """
    lead = xb.ndim - len(pad)
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(xb.shape[lead:], pad))
    out[(slice(None),) * lead + inner] = xb
    if boundary == "constant":
        for a, ((lo, hi), n) in enumerate(zip(pad, xb.shape[lead:])):
            sel = [slice(None)] * out.ndim
            sel[lead + a] = slice(0, lo)
            out[tuple(sel)] = cval
            sel[lead + a] = slice(lo + n, lo + n + hi)
            out[tuple(sel)] = cval
        return
    for a, ((lo, hi), n) in enumerate(zip(pad, xb.shape[lead:])):
        if not lo and not hi:
            continue
        src = index_map(n, lo, hi, boundary) + lo  # positions in out along this axis
        axis = lead + a
        for part in (slice(0, lo), slice(lo + n, lo + n + hi)):
            idx = np.arange(part.start, part.stop)
            if idx.size:
                sel = [slice(None)] * out.ndim
                sel[axis] = part
                out[tuple(sel)] = np.take(out, src[idx], axis=axis)


def gather(xb: np.ndarray, b: int, maps: list[np.ndarray], lo: tuple[int, ...],
           start: tuple[int, ...], size: tuple[int, ...], boundary: str,
           cval: complex | float | int, dest: np.ndarray) -> None:
    """Copy the block ``x~[b, start:start+size]`` into ``dest[:size]`` without extending ``x``.

    ``maps`` are :func:`index_map` arrays; ``lo`` the low pads. Interior blocks are plain
    slices. A block reaching into a constant extension is ``cval`` plus the slice it
    overlaps; other extensions use fancy indexing through the maps.
    """
    n = xb.shape[1:]
    target = dest[tuple(slice(0, z) for z in size)]
    if boundary == "constant":  # cval, then the part of x the block overlaps
        src, dst = [], []
        for first, s, z, ni in zip(lo, start, size, n):
            a, e = max(s, first), min(s + z, first + ni)
            if e <= a:
                target[...] = cval
                return
            src.append(slice(a - first, e - first))
            dst.append(slice(a - s, e - s))
        if any(d.start or d.stop != z for d, z in zip(dst, size)):
            target[...] = cval
        where: tuple[Any, ...] = (b, *src)
        target[tuple(dst)] = xb[where]
        return
    index: list[Any] = []
    fills: list[np.ndarray | None] = []
    interior = True
    for m, first, s, z, ni in zip(maps, lo, start, size, n):
        if s >= first and s + z <= first + ni:
            index.append(slice(s - first, s - first + z))
            fills.append(None)
        else:
            interior = False
            idx = m[s:s + z]
            neg = idx < 0
            index.append(np.where(neg, 0, idx))
            fills.append(neg if neg.any() else None)
    if interior:
        inside: tuple[Any, ...] = (b, *index)
        target[...] = xb[inside]
        return
    ix = np.ix_(*[np.arange(i.start, i.stop) if isinstance(i, slice) else i for i in index])
    target[...] = xb[b][ix]
    for axis, fill in enumerate(fills):
        if fill is not None:
            sel: list[Any] = [slice(None)] * len(size)
            sel[axis] = fill
            target[tuple(sel)] = cval
