"""Halo and boundary construction: which input samples each output block reads.

Every axis of ``x`` is described by an :class:`Axis`: its length, the kernel length along
it (1 on batch axes), the canonical pads ``(lo, hi)`` of the extended input ``x~`` (the
core's rule: the result is a *valid* correlation of ``x~`` with the prepared kernel) and
the boundary rule. Output block ``[o0, o1)`` reads ``x~[o0 : o1 + k - 1]``; the boundary's
index map turns those positions into samples of ``x`` (or a ``cval`` fill), so every rule
is applied at the true array edges, whatever the chunking: ``wrap`` reads the far chunk,
``reflect``/``symmetric`` mirror inside the edge chunk, extensions wider than the array
repeat the rule as ``numpy.pad`` does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._core import Problem, index_map

__all__ = ["Axis", "BlockSpec", "Run", "block_spec", "bounds", "depth", "out_bounds", "runs",
           "shift", "whole_axes"]

#: A run of an output block's extended input along one axis: the input chunk it comes
#: from (``-1``: a ``cval`` fill), the slice of that chunk, and the run's length.
Run = tuple[int, slice, int]


@dataclass(frozen=True)
class Axis:
    """One axis of the job; batch axes have ``k == 1`` and no pads."""

    n: int
    k: int
    lo: int
    hi: int
    boundary: str
    in_bounds: tuple[int, ...]
    out_bounds: tuple[int, ...]



def whole_axes(chunks: tuple[tuple[int, ...], ...], problem: Problem) -> bool:
    """Whether every task holds whole convolved axes: no halo, and the job's own boundary
    applied by the core's plan on the block (nothing extended or copied for it)."""
    return bool(problem.axes) and all(len(chunks[a]) == 1 for a in problem.axes)


def bounds(chunks: tuple[int, ...]) -> tuple[int, ...]:
    """Cumulative boundaries ``(0, c0, c0 + c1, ..., n)`` of a chunk tuple."""
    return tuple(int(b) for b in np.concatenate([[0], np.cumsum(chunks, dtype=np.int64)]))


def shift(k: int, lo: int, mode: str) -> int:
    """Offset of output boundaries from input boundaries (0 for ``same``)."""
    return 0 if mode == "same" or k == 1 else lo - (k - 1) // 2


def depth(k: int, lo: int, mode: str) -> tuple[int, int]:
    """How far a block's reads reach before and after its input chunk."""
    s = shift(k, lo, mode)
    return lo - s, k - 1 - lo + s


def out_bounds(n: int, k: int, lo: int, out_len: int, mode: str,
               in_bounds: tuple[int, ...]) -> tuple[int, ...]:
    """Output block boundaries aligned with the input chunks.

    ``same`` keeps the input's boundaries (output ``i`` belongs to input sample ``i``).
    ``full`` and ``valid`` put each boundary where the kernel's centre crosses the input
    boundary; blocks that would be empty are dropped.
    """
    s = shift(k, lo, mode)
    inner = [b + s for b in in_bounds[1:-1]]
    cuts = sorted({min(max(b, 0), out_len) for b in inner} - {0, out_len})
    return (0, *cuts, out_len) if out_len else (0,)


def runs(axis: Axis, o0: int, o1: int) -> tuple[Run, ...]:
    """The runs of ``x~[o0 : o1 + k - 1]`` along ``axis``, in order.

    Every run is a slice of one input chunk: ascending (the chunk itself, ``wrap``),
    descending (the mirrors of ``reflect``/``symmetric``) or one sample repeated (``edge``,
    a length-1 slice that broadcasts), so a block is assembled from views, copied once.
    """
    m = index_map(axis.n, axis.lo, axis.hi, axis.boundary) if axis.k > 1 or axis.lo or axis.hi \
        else np.arange(axis.n, dtype=np.intp)
    src = m[o0:o1 + axis.k - 1]
    chunk = np.searchsorted(np.asarray(axis.in_bounds), src, side="right") - 1
    chunk[src < 0] = -1
    s, c = src.tolist(), chunk.tolist()
    out: list[Run] = []
    i, total = 0, len(s)
    while i < total:
        j, e = c[i], i + 1
        if j < 0:
            while e < total and c[e] < 0:
                e += 1
            out.append((-1, slice(0, 0), e - i))
            i = e
            continue
        step = s[i + 1] - s[i] if e < total and c[e] == j else 1
        while e < total and c[e] == j and s[e] - s[e - 1] == step:
            e += 1
        a = s[i] - axis.in_bounds[j]
        length = e - i
        if step == 0:
            sel = slice(a, a + 1)
        else:
            stop = a + step * length
            sel = slice(a, stop if stop >= 0 else None, step)
        out.append((j, sel, length))
        i = e
    return tuple(out)


@dataclass(frozen=True, eq=False)
class BlockSpec:
    """How one task assembles its extended input block from input chunks.

    Attributes
    ----------
    shape : tuple of int
        Shape of the extended block (the chunk plan's input shape).
    deps : tuple of tuple of int
        Input chunk indices the task reads, in the order they are passed to it.
    pieces : tuple
        ``(dep, source selectors, destination slices)`` per piece.
    fill : bool
        Whether part of the block is ``cval`` (the block starts filled with it).
    kernel_index : tuple or None
        For a kernel that varies along batch axes, this block's ``(start, stop)`` on each
        such axis (``None`` on the others).
    """

    shape: tuple[int, ...]
    deps: tuple[tuple[int, ...], ...]
    pieces: tuple[tuple[int, tuple[slice, ...], tuple[slice, ...]], ...]
    fill: bool
    kernel_index: tuple[tuple[int, int] | None, ...] | None


def block_spec(axes: list[Axis], block: tuple[int, ...],
               kernel_batched: tuple[bool, ...]) -> BlockSpec:
    """The :class:`BlockSpec` of output block number ``block`` (one index per axis)."""
    per_axis = []
    for ax, b in zip(axes, block):
        o0, o1 = ax.out_bounds[b], ax.out_bounds[b + 1]
        per_axis.append(runs(ax, o0, o1))
    shape = tuple(sum(r[2] for r in rs) for rs in per_axis)
    offsets = [np.concatenate([[0], np.cumsum([r[2] for r in rs])]).astype(int)
               for rs in per_axis]
    deps: dict[tuple[int, ...], int] = {}
    pieces = []
    fill = any(r[0] < 0 for rs in per_axis for r in rs)
    for combo in itertools.product(*[range(len(rs)) for rs in per_axis]):
        chosen = [rs[i] for rs, i in zip(per_axis, combo)]
        if any(r[0] < 0 for r in chosen):
            continue
        key = tuple(r[0] for r in chosen)
        dep = deps.setdefault(key, len(deps))
        dst = tuple(slice(int(off[i]), int(off[i + 1])) for off, i in zip(offsets, combo))
        pieces.append((dep, tuple(r[1] for r in chosen), dst))
    kernel_index = None
    if any(kernel_batched):
        kernel_index = tuple((ax.out_bounds[b], ax.out_bounds[b + 1]) if kb else None
                             for ax, b, kb in zip(axes, block, kernel_batched))
    return BlockSpec(shape=shape, deps=tuple(deps), pieces=tuple(pieces), fill=fill,
                     kernel_index=kernel_index)
