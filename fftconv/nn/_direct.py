"""The ``direct`` strategy of :mod:`fftconv.nn`: the sum itself, by one of two
implementations (:data:`DIRECT_IMPLS`), whichever the cost model predicts faster.

``kernel``
    A compiled kernel (:func:`build_kernel`): the input in flat phase planes, where every
    tap is a fixed offset, and blocks of four output channels by four taps per pass over
    strips of outputs; real dtypes.
``im2col``
    im2col + one matrix product per (group, chunk of output rows) of the whole batch
    through BLAS (:func:`build_im2col`).
"""

from __future__ import annotations

import itertools
import math
import threading
from typing import NamedTuple

import numpy as np

from .._machine.costs import threads_speedup
from .._machine.threads import parallel_map
from ..strategies import Estimate
from ._pieces import OUT_BLOCK, channel_blocks, pieces, ranges, threads_for
from ._problem import NNProblem, Runner, kept_phases, nn_costs, pad

__all__ = ["DIRECT_IMPLS", "KernelSplit", "build_direct", "build_im2col", "build_kernel",
           "direct_estimates", "im2col_memory", "kernel_memory", "kernel_seconds",
           "kernel_split"]


#: Scratch bytes per chunk of im2col columns. The columns come in large chunks: each BLAS
#: call synchronises BLAS's threads, and on a busy machine many small calls were up to 10x
#: slower than a few large ones.
_COLS_BYTES = 32 << 20
#: Scratch bytes per output channel of the compiled direct kernel's strip (stays in L1),
#: and the multiple of positions a strip is rounded up to (no scalar loop remainder).
_STRIP_BYTES = 2048

_ROUND = 16


#: Implementations of the direct method: the compiled kernel, and im2col + BLAS.
DIRECT_IMPLS = ("kernel", "im2col")


def _kernel_work(p: NNProblem, nn: dict, costs: dict) -> float:
    """Single-thread seconds of the compiled kernel's sums and plane copies (no fixed cost)."""
    phases, m = _phases(p)
    strip = _STRIP_BYTES // p.dtype.itemsize
    length = p.out_len
    rows, lc, pitch = math.prod(length[:-1]), length[-1], m[-1]
    if lc >= strip:
        nseg, wide = rows * -(-lc // strip), -(-lc // -(-lc // strip))
    else:  # runs of rows, broken where the row pitch changes (next plane of a 3-d input)
        inner = length[-2] if len(length) > 1 else 1
        per = min(inner, (strip - lc) // pitch + 1)
        nseg, wide = rows // inner * -(-inner // per), (per - 1) * pitch + lc
    taps = p.channels // p.groups * math.prod(p.k)
    positions = p.batch * nseg * (-(-wide // _ROUND) * _ROUND + nn["kernel_pass_positions"]) * taps
    out_per_group = p.out_channels // p.groups
    channels = (out_per_group - out_per_group % 4 + out_per_group % 4 * nn["kernel_single_factor"]) * p.groups
    t = positions * channels * nn["kernel_per_mac"][p.dtype.name]
    if not _in_place(p):
        t += 2 * p.batch * p.channels * len(phases) * math.prod(m) * p.dtype.itemsize \
            * costs["memory_per_byte"]
    return t


def _in_place(p: NNProblem) -> bool:
    """Whether the kernel reads the input itself (stride 1, no padding): no plane copies."""
    return max(p.stride) == 1 and all(lo == hi == 0 for lo, hi in p.pad)


class KernelSplit(NamedTuple):
    """How the compiled kernel shares out one problem (:func:`kernel_split`)."""

    #: Threads taking pieces (1: the calling thread alone).
    threads: int
    #: Pieces the call is cut into.
    pieces: int
    #: Whether the pieces are ranges of whole batch items, each item copied into phase
    #: planes by the thread that convolves it while they are in cache; else the planes of
    #: the whole batch are copied first and the pieces are (item, output channels, strips).
    per_item: bool


def kernel_split(p: NNProblem, workers: int) -> KernelSplit:
    """The pieces of the compiled kernel on ``workers`` threads: several per thread, each
    at most about ``PIECE_SECONDS``; one thread for a call too short to repay a second."""
    costs, nn = nn_costs()
    seconds = nn["kernel_overhead"] + _kernel_work(p, nn, costs)
    threads = threads_for(seconds, workers, costs, "direct")
    count = pieces(seconds, threads, 1 << 20)
    return KernelSplit(threads, count, count <= p.batch)


def kernel_seconds(p: NNProblem, costs: dict, nn: dict, workers: int) -> float:
    """The compiled direct kernel (:func:`build_kernel`).

    Work is counted over the positions it computes: strips of fused rows (rounded up to
    ``_ROUND``) also compute the gaps between rows, each pass of four taps
    costs ``kernel_pass_positions`` more, and output channels left over from blocks of
    four cost ``kernel_single_factor`` times more. Plus the copy of the input into phase
    planes. On more than one thread (:func:`kernel_split`), the measured cost of waking
    them is added and the work is divided by the measured speed-up.
    """
    t = _kernel_work(p, nn, costs)
    if threads_for(nn["kernel_overhead"] + t, workers, costs, "direct") > 1:
        return nn["kernel_overhead"] + costs["overhead"]["parallel"] \
            + t / threads_speedup(costs, "direct", workers)
    return nn["kernel_overhead"] + t


def kernel_memory(p: NNProblem, workers: int) -> int:
    """Scratch bytes of the compiled kernel: the weight and tap offsets, the phase planes
    (one item per thread, or the whole batch; none when read in place) and the strips."""
    phases, m = _phases(p)
    split = kernel_split(p, workers)
    item = 0 if _in_place(p) else (p.channels * len(phases) * math.prod(m) + _ROUND) \
        * p.dtype.itemsize
    planes = split.threads * item if split.per_item else p.batch * item
    strips = split.threads * 2 * OUT_BLOCK * (_STRIP_BYTES + _ROUND * p.dtype.itemsize)
    taps = p.channels // max(p.groups, 1) * math.prod(p.k)
    return p.out_channels * taps * p.dtype.itemsize + taps * 8 + planes + strips


def _im2col_rows(p: NNProblem) -> int:
    """Output rows per chunk of im2col columns (at most ``_COLS_BYTES`` of columns)."""
    row = p.batch * p.channels // p.groups * math.prod(p.k) * math.prod(p.out_len[1:]) \
        * p.dtype.itemsize
    return max(1, min(p.out_len[0], _COLS_BYTES // max(row, 1)))


def im2col_memory(p: NNProblem) -> int:
    """Scratch bytes of im2col + BLAS: the padded input, the weight per group, and per
    chunk the gathered columns, their product and its reordered copy."""
    cg, out_per_group = p.channels // p.groups, p.out_channels // p.groups
    padded = 0 if all(lo == hi == 0 for lo, hi in p.pad) else \
        p.batch * p.channels * math.prod(p.padded)
    columns = p.batch * _im2col_rows(p) * math.prod(p.out_len[1:])
    return (padded + p.out_channels * cg * math.prod(p.k)
            + columns * (cg * math.prod(p.k) + 2 * out_per_group)) * p.dtype.itemsize


def direct_estimates(p: NNProblem, workers: int) -> dict[str, Estimate]:
    """The estimate (seconds and scratch memory) of each implementation of the direct
    method (:data:`DIRECT_IMPLS`; the compiled kernel serves real dtypes only)."""
    costs, nn = nn_costs()
    per_column = p.macs // max(p.out_channels // max(p.groups, 1), 1)
    out = {"im2col": Estimate(
        seconds=costs["overhead"]["direct"]
        + (p.macs * nn["gemm_per_mac"][p.dtype.name] + per_column * nn["im2col_per_element"])
        / threads_speedup(costs, "direct", workers),
        memory=im2col_memory(p), note="im2col + BLAS")}
    if p.dtype.kind == "f":
        out["kernel"] = Estimate(seconds=kernel_seconds(p, costs, nn, workers),
                                 memory=kernel_memory(p, workers), note="compiled kernel")
    return out


def build_im2col(p: NNProblem, w: np.ndarray, workers: int) -> Runner:
    """The direct method by im2col + BLAS.

    Per group and chunk of output rows, the columns ``(C/groups * prod(k), N * rows * ...)``
    of the whole batch are gathered, then one matrix product with the
    ``(O/groups, C/groups * prod(k))`` weight runs in BLAS's own threads. Everything runs in
    the calling thread: threads of ours next to BLAS's (which spin for a while after each
    product) would oversubscribe the cores.
    """
    d, g = len(p.n), p.groups
    cg, out_per_group = p.channels // g, p.out_channels // g
    wg = [np.ascontiguousarray(w[i * out_per_group:(i + 1) * out_per_group]
                               .reshape(out_per_group, -1)) for i in range(g)]
    length, nb = p.out_len, p.batch
    rows = _im2col_rows(p)
    out_axes = (1, 0, *range(2, d + 2))  # (O/g, N, *L) -> (N, O/g, *L)

    def run(x: np.ndarray, out: np.ndarray) -> None:
        xp = pad(x, p)
        st = xp.strides
        for i in range(g):
            v = np.lib.stride_tricks.as_strided(
                xp[:, i * cg:(i + 1) * cg], (cg, *p.k, nb, *length),
                (st[1], *(s * dl for s, dl in zip(st[2:], p.dilation)), st[0],
                 *(s * sd for s, sd in zip(st[2:], p.stride))), writeable=False)
            for r0 in range(0, length[0], rows):
                r1 = min(length[0], r0 + rows)
                cols = v[(slice(None),) * (d + 2) + (slice(r0, r1),)].reshape(
                    wg[i].shape[1], nb * (r1 - r0) * math.prod(length[1:]))
                res = wg[i] @ cols
                out[:, i * out_per_group:(i + 1) * out_per_group, r0:r1] = res.reshape(
                    out_per_group, nb, r1 - r0, *length[1:]).transpose(out_axes)

    return run


def _phases(p: NNProblem) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The phases the compiled direct kernel splits the input into, and their length.

    Tap ``j`` of an axis reads phase ``j * d % s`` at offset ``j * d // s``, so a strided
    problem becomes a stride-1 one on the phase planes; phases no tap reads are dropped.
    Returns the kept phases (flat indices over ``stride``, C order, as :func:`_split`
    takes them) and the samples ``m`` per axis of a phase plane.
    """
    kept = kept_phases(p.k, p.dilation, p.stride)
    phases = tuple(int(np.ravel_multi_index(t, p.stride)) for t in itertools.product(*kept))
    return phases, tuple(-(-n // s) for n, s in zip(p.padded, p.stride))


def _tap_offsets(p: NNProblem, phases: tuple[int, ...], m: tuple[int, ...]) -> np.ndarray:
    """The flat offset of every tap, in the weight's ``(C/groups, *k)`` order, from an
    output's position in the phase planes of its group (see :func:`_phases`)."""
    kept = kept_phases(p.k, p.dilation, p.stride)
    plane_strides = [math.prod(m[a + 1:]) for a in range(len(m))]
    nstr = [math.prod(len(q) for q in kept[a + 1:]) for a in range(len(kept))]
    phase = np.zeros(p.k, np.intp)
    off = np.zeros(p.k, np.intp)
    for a, (k, dl, s) in enumerate(zip(p.k, p.dilation, p.stride)):
        j = np.arange(k) * dl
        shape = [1] * len(p.k)
        shape[a] = k
        phase += (np.searchsorted(kept[a], j % s) * nstr[a]).reshape(shape)
        off += ((j // s) * plane_strides[a]).reshape(shape)
    c = np.arange(p.channels // p.groups, dtype=np.intp)[:, None]
    tap_offsets = (c * len(phases) + phase.ravel()) * math.prod(m) + off.ravel()
    return np.ascontiguousarray(tap_offsets.ravel())


def _segments(rows: np.ndarray, length: int, pitch: int, strip: int) -> np.ndarray:
    """``(r0, r1, c0, c1)`` runs of output rows of at most ``strip`` wide positions.

    Rows join a run while their pitch is ``pitch`` (one phase-plane row) and the run,
    gaps included, fits in ``strip``; a row longer than ``strip`` is cut into column chunks.
    """
    segs = []
    r, nr = 0, rows.size
    while r < nr:
        if length >= strip:
            segs += [(r, r + 1, c, min(length, c + strip)) for c in range(0, length, strip)]
            r += 1
            continue
        r1 = r + 1
        while (r1 < nr and rows[r1] - rows[r1 - 1] == pitch
               and rows[r1] - rows[r] + length <= strip):
            r1 += 1
        segs.append((r, r1, 0, length))
        r = r1
    return np.array(segs, dtype=np.intp).reshape(-1, 4)


def _phase_copies(stride: tuple[int, ...], phases: tuple[int, ...], m: tuple[int, ...],
                  lo: tuple[int, ...], n: tuple[int, ...]) -> list[tuple[tuple, tuple]]:
    """``(dst, src)`` index pairs that copy an input ``(B, C, *n)`` into phase planes
    ``(B, C, len(phases), *m)``: ``dst[..., i, j] = src[..., j * s + q_i - lo]`` where that
    is inside the input; the rest of the planes (zero padding, tails) is never written.
    """
    copies = []
    for i, flat in enumerate(phases):
        dst, src = [], []
        for q, s, la, na, ma in zip(np.unravel_index(flat, stride), stride, lo, n, m):
            j0 = max(0, -(-(la - int(q)) // s))  # first plane sample inside the input
            x0 = j0 * s + int(q) - la
            cnt = max(0, min(ma - j0, -(-(na - x0) // s)))
            dst.append(slice(j0, j0 + cnt))
            src.append(slice(x0, x0 + max(cnt - 1, 0) * s + 1 if cnt else x0, s))
        copies.append(((slice(None), slice(None), i, *dst), (slice(None), slice(None), *src)))
    return copies


def build_kernel(p: NNProblem, w: np.ndarray, workers: int) -> tuple[Runner, int]:
    """The direct method by the compiled kernel :func:`._kernel.direct_sum`, and the
    bytes its plan keeps.

    The input is copied into phase planes (one plane per channel at stride 1), padding
    included; every tap is then a fixed offset into the flat planes, and runs of output
    rows are computed as contiguous strips, four output channels and four taps per pass.
    The planes live in buffers kept per thread: zero padding and the planes' tails are
    written once, and each call copies only the input samples.

    The work goes through fftconv's shared queue in bounded pieces (:func:`kernel_split`;
    the kernel releases the GIL): ranges of whole batch items when there are enough of
    them -- each thread copies an item and convolves it while it is in cache -- else the
    planes of the whole batch are copied (one piece per item), then every item is cut
    into pieces of output channels (whole groups, or blocks of four within one) and
    output strips. Every output is summed the same way whatever the split.
    """
    from ._kernel import direct_sum

    phases, m = _phases(p)
    tap_offsets = _tap_offsets(p, phases, m)
    d, length, n_phases = len(p.n), p.out_len, len(phases)
    plane_strides = [math.prod(m[a + 1:]) for a in range(d)]
    rows = np.zeros(length[:-1], np.intp)
    for a in range(d - 1):
        shape = [1] * (d - 1)
        shape[a] = length[a]
        rows = rows + (np.arange(length[a], dtype=np.intp) * plane_strides[a]).reshape(shape)
    rows = np.ascontiguousarray(rows.ravel())
    strip = max(_STRIP_BYTES // p.dtype.itemsize, 1)
    segs = _segments(rows, length[-1], m[-1], strip)
    nseg = len(segs)
    out_per_group = p.out_channels // p.groups
    group_step = p.channels // p.groups * n_phases * math.prod(m)
    size = p.channels * n_phases * math.prod(m)  # per batch item
    wt = np.ascontiguousarray(w.reshape(p.out_channels, -1))
    split = kernel_split(p, workers)
    threads = split.threads
    if split.per_item:
        items = ranges(p.batch, split.pieces)
    else:  # (item, group, first and stop output channel, first and stop segment)
        per_item = -(-split.pieces // max(p.batch, 1))
        seg_parts = min(nseg, per_item)
        blocks = channel_blocks(p.out_channels, p.groups, -(-per_item // seg_parts))
        fine = [(n, g, o0, o1, s0, s1) for n in range(p.batch) for g, o0, o1 in blocks
                for s0, s1 in ranges(nseg, seg_parts)]
    zeros = p.boundary == "constant"
    in_place = _in_place(p)
    start = tuple(lo for lo, _ in p.pad) if zeros else (0,) * d  # else np.pad pads first
    copies = _phase_copies(p.stride, phases, m, start, p.n if zeros else p.padded)
    local = threading.local()

    def buffer(count: int) -> np.ndarray:
        """This thread's flat planes for ``count`` items (``_ROUND`` spare zeros at the end)."""
        bufs = local.__dict__.setdefault("bufs", {})
        flat = bufs.get(count)
        if flat is None:
            flat = bufs[count] = np.zeros(count * size + _ROUND, p.dtype)
        return flat

    def copy_planes(xs: np.ndarray, flat: np.ndarray, first: int) -> None:
        """Items ``xs`` ``(B, C, *n)`` into the planes of items ``first ..`` of ``flat``."""
        if not zeros:
            xs = pad(xs, p)
        buf = flat[first * size:(first + len(xs)) * size].reshape(len(xs), p.channels,
                                                                  n_phases, *m)
        for dst, src in copies:
            buf[dst] = xs[src]

    def run(x: np.ndarray, out: np.ndarray) -> None:
        ov = out.reshape(p.batch, p.out_channels, rows.size, length[-1])
        if not tap_offsets.size:  # no input channels: an empty sum
            out.fill(0)
            return
        if split.per_item:
            def item_range(r: tuple[int, int]) -> None:
                for n in range(*r):
                    if in_place:
                        flat = x[n].reshape(-1)
                    else:
                        flat = buffer(1)
                        copy_planes(x[n:n + 1], flat, 0)
                    direct_sum(flat, size, tap_offsets, wt, out_per_group, group_step, rows,
                               segs, strip, _ROUND, ov[n:n + 1], 0, nseg)

            parallel_map(item_range, items, threads)
            return
        if in_place:
            flat = x.reshape(-1)
        else:
            flat = buffer(p.batch)  # the calling thread's; the pieces fill it
            parallel_map(lambda n: copy_planes(x[n:n + 1], flat, n), range(p.batch), threads)

        def piece(t: tuple[int, int, int, int, int, int]) -> None:
            n, g, o0, o1, s0, s1 = t
            direct_sum(flat[n * size + g * group_step:], size, tap_offsets, wt[o0:o1], o1 - o0,
                       0, rows, segs, strip, _ROUND, ov[n:n + 1, o0:o1], s0, s1)

        parallel_map(piece, fine, threads)

    return run, kernel_memory(p, workers)


def build_direct(p: NNProblem, w: np.ndarray, workers: int, impl: str) -> tuple[Runner, int]:
    """The direct method by implementation ``impl`` (one of :data:`DIRECT_IMPLS`), and the
    bytes its plan keeps."""
    if impl == "kernel":
        return build_kernel(p, w, workers)
    return build_im2col(p, w, workers), im2col_memory(p)
