"""Strategies, cost model and plan cache of :mod:`fftconv.nn`.

``direct``
    The sum itself, by one of two implementations (:data:`DIRECT_IMPLS`), whichever the
    cost model predicts faster: a compiled kernel (:func:`build_kernel`: the input in
    flat phase planes, where every tap is a fixed offset, and blocks of four output
    channels by four taps per pass over strips of outputs; real dtypes), or im2col + one
    matrix product per (group, chunk of output rows) of the whole batch through BLAS
    (:func:`build_im2col`).
``fft``
    Transform every input channel once, sum over input channels in the frequency domain
    (a small matrix product per bin, :mod:`._nn_kernel`), one inverse transform per output
    channel. A stride is served either by *polyphase* decomposition (the input and the
    dilated kernel are split into ``stride`` phases per axis, which become extra input
    channels of a stride-1 problem: only the needed outputs are computed) or by
    computing the stride-1 result and *subsampling* it; the cost model picks. Kernel
    phases that the dilation leaves structurally empty are skipped.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._engine import calls
from .._machine.costs import machine_costs, threads_speedup
from .._machine.fft import TransformPair
from .._numerics.dtypes import fft_dtypes
from .._numerics.fftsize import best_size
from ._problem import NNProblem
from .._machine.threads import parallel_map
from .._machine.threads import PARALLEL_MIN_MACS
from ..strategies.fft import transform_seconds

__all__ = ["NNPlan", "DIRECT_IMPLS", "get_plan", "estimates", "direct_estimates"]

#: Scratch bytes per chunk of work (im2col columns; spectra of one batch chunk). The
#: columns come in large chunks: each BLAS call synchronises BLAS's threads, and on a
#: busy machine many small calls were up to 10x slower than a few large ones.
_COLS_BYTES = 32 << 20
_SPEC_BYTES = 16 << 20
#: Scratch bytes per output channel of the compiled direct kernel's strip (stays in L1),
#: and the multiple of positions a strip is rounded up to (no scalar loop remainder).
_STRIP_BYTES = 2048
_ROUND = 16
#: Weights up to a sixteenth of this are remembered (with their plan) by their bytes.
_CACHE_MAX_BYTES = 256 << 20

#: Implementations of the direct method: the compiled kernel, and im2col + BLAS.
DIRECT_IMPLS = ("kernel", "im2col")

#: ``run(x, out)``: the convolution of ``x`` ``(N, C, *S)`` into ``out`` ``(N, O, *L)``.
Runner = Callable[[np.ndarray, np.ndarray], None]


def _nn_costs() -> tuple[dict, dict]:
    """The machine constants, and their ``nn`` section (BLAS, im2col, spectral sums)."""
    costs = machine_costs()
    return costs, costs["nn"]


@dataclass(frozen=True)
class FFTLayout:
    """Geometry of the FFT path for one problem."""

    polyphase: bool
    phase_stride: tuple[int, ...]   # stride of the phase split (1s when subsampling)
    phases: tuple[int, ...]         # kept phase indices, flattened C-order over phase_stride
    in_len: tuple[int, ...]         # M: samples per input phase
    k_len: tuple[int, ...]          # Q: taps per kernel phase
    step: tuple[int, ...]           # output subsampling step
    fft_shape: tuple[int, ...]


def fft_layout(p: NNProblem, polyphase: bool, weights: dict) -> FFTLayout:
    """Phase split and transform size (circular aliasing never reaches a kept output)."""
    real = fft_dtypes(p.dtype)[2]
    ps = p.stride if polyphase else (1,) * len(p.n)
    step = (1,) * len(p.n) if polyphase else p.stride
    m = tuple(-(-n // s) for n, s in zip(p.padded, ps))
    q = tuple(-(-e // s) for e, s in zip(p.span, ps))
    per_axis = [sorted({(j * d) % s for j in range(k)})
                for k, d, s in zip(p.k, p.dilation, ps)]
    flat = tuple(int(np.ravel_multi_index(t, ps)) for t in itertools.product(*per_axis))
    need = tuple(max(mi, qi - 1 + (li - 1) * st + 1)
                 for mi, qi, li, st in zip(m, q, p.out_len, step))
    fshape = tuple(best_size(n, weights, real and i == len(need) - 1) for i, n in enumerate(need))
    return FFTLayout(polyphase, ps, flat, m, q, step, fshape)


def _fft_seconds(p: NNProblem, lay: FFTLayout, costs: dict, nn: dict, workers: int) -> float:
    rdt, cdt, real = fft_dtypes(p.dtype)
    ce = p.channels * len(lay.phases)
    nbins = math.prod(lay.fft_shape[:-1]) * (lay.fft_shape[-1] // 2 + 1 if real else
                                             lay.fft_shape[-1])
    t = transform_seconds(lay.fft_shape, p.batch * (ce + p.out_channels), rdt, costs, real)
    t += (p.batch * p.out_channels * (ce // p.groups) * nbins
          * nn["spectral_per_mac"][cdt.name])
    passes = (ce + p.out_channels) * math.prod(lay.fft_shape) * 3
    if max(lay.phase_stride) > 1:  # zero-extend, reorder and select the input phases
        passes += p.channels * math.prod(m * s for m, s in zip(lay.in_len, lay.phase_stride)) * 4
    t += p.batch * passes * rdt.itemsize * costs["memory_per_byte"]
    speed = threads_speedup(costs, "overlap", min(workers, p.batch))
    return costs["overhead"]["fft"] + t / speed


def _kernel_seconds(p: NNProblem, costs: dict, nn: dict, workers: int) -> float:
    """The compiled direct kernel (:func:`build_kernel`).

    Work is counted over the positions it computes: strips of fused rows (rounded up to
    ``_ROUND``) also compute the gaps between rows, each pass of four taps
    costs ``kernel_pass_positions`` more, and output channels left over from blocks of
    four cost ``kernel_single_factor`` times more. Plus the copy of the input into phase
    planes.
    """
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
    og = p.out_channels // p.groups
    channels = (og - og % 4 + og % 4 * nn["kernel_single_factor"]) * p.groups
    t = positions * channels * nn["kernel_per_mac"][p.dtype.name]
    if max(p.stride) > 1 or any(lo or hi for lo, hi in p.pad):
        t += 2 * p.batch * p.channels * len(phases) * math.prod(m) * p.dtype.itemsize \
            * costs["memory_per_byte"]
    if workers > 1 and p.macs >= PARALLEL_MIN_MACS:
        return nn["kernel_overhead"] + costs["overhead"]["parallel"] \
            + t / threads_speedup(costs, "direct", workers)
    return nn["kernel_overhead"] + t


def direct_estimates(p: NNProblem, workers: int) -> dict[str, float]:
    """Predicted seconds of each implementation of the direct method (:data:`DIRECT_IMPLS`;
    the compiled kernel serves real dtypes only)."""
    costs, nn = _nn_costs()
    out = {"im2col": (costs["overhead"]["direct"]
                      + (p.macs * nn["gemm_per_mac"][p.dtype.name]
                         + p.macs // (p.out_channels // p.groups) * nn["im2col_per_element"])
                      / threads_speedup(costs, "direct", workers))}
    if p.dtype.kind == "f":
        out["kernel"] = _kernel_seconds(p, costs, nn, workers)
    return out


def estimates(p: NNProblem, workers: int) -> dict[str, tuple[float, object]]:
    """Predicted seconds of every strategy, with its best variant:
    ``{'direct': (t, implementation), 'fft': (t, layout)}``."""
    costs, nn = _nn_costs()
    w = costs["prime_weight"]
    direct = direct_estimates(p, workers)
    impl = min(direct, key=lambda k: direct[k])
    variants = (False, True) if max(p.stride) > 1 else (False,)  # polyphase?
    layouts = [fft_layout(p, poly, w) for poly in variants]
    timed = [(_fft_seconds(p, lay, costs, nn, workers), lay) for lay in layouts]
    return {"direct": (direct[impl], impl), "fft": min(timed, key=lambda t: t[0])}


def _pad(x: np.ndarray, p: NNProblem) -> np.ndarray:
    widths = [(0, 0), (0, 0), *p.pad]
    if all(lo == hi == 0 for lo, hi in p.pad):
        return x
    return np.pad(x, widths, mode=p.boundary)


def _chunks(n: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(n, parts))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def build_im2col(p: NNProblem, w: np.ndarray, workers: int) -> Runner:
    """The direct method by im2col + BLAS.

    Per group and chunk of output rows, the columns ``(C/groups * prod(k), N * rows * ...)``
    of the whole batch are gathered, then one matrix product with the
    ``(O/groups, C/groups * prod(k))`` weight runs in BLAS's own threads. Everything runs in
    the calling thread: threads of ours next to BLAS's (which spin for a while after each
    product) would oversubscribe the cores.
    """
    d, g = len(p.n), p.groups
    cg, og = p.channels // g, p.out_channels // g
    wg = [np.ascontiguousarray(w[i * og:(i + 1) * og].reshape(og, -1)) for i in range(g)]
    length, nb = p.out_len, p.batch
    row = nb * cg * math.prod(p.k) * math.prod(length[1:]) * p.dtype.itemsize
    rows = max(1, min(length[0], _COLS_BYTES // max(row, 1)))
    out_axes = (1, 0, *range(2, d + 2))  # (O/g, N, *L) -> (N, O/g, *L)

    def run(x: np.ndarray, out: np.ndarray) -> None:
        xp = _pad(x, p)
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
                out[:, i * og:(i + 1) * og, r0:r1] = res.reshape(
                    og, nb, r1 - r0, *length[1:]).transpose(out_axes)

    return run


def _kept_phases(p: NNProblem) -> list[list[int]]:
    """Per axis, the phases ``j * d % s`` some tap ``j`` reads (a dilation may leave some
    phases empty)."""
    return [sorted({(j * dl) % s for j in range(k)})
            for k, dl, s in zip(p.k, p.dilation, p.stride)]


def _phases(p: NNProblem) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The phases the compiled direct kernel splits the input into, and their length.

    Tap ``j`` of an axis reads phase ``j * d % s`` at offset ``j * d // s``, so a strided
    problem becomes a stride-1 one on the phase planes; phases no tap reads are dropped.
    Returns the kept phases (flat indices over ``stride``, C order, as :func:`_split`
    takes them) and the samples ``m`` per axis of a phase plane.
    """
    kept = _kept_phases(p)
    phases = tuple(int(np.ravel_multi_index(t, p.stride)) for t in itertools.product(*kept))
    return phases, tuple(-(-n // s) for n, s in zip(p.padded, p.stride))


def _tap_offsets(p: NNProblem, phases: tuple[int, ...], m: tuple[int, ...]) -> np.ndarray:
    """The flat offset of every tap, in the weight's ``(C/groups, *k)`` order, from an
    output's position in the phase planes of its group (see :func:`_phases`)."""
    kept = _kept_phases(p)
    mstr = [math.prod(m[a + 1:]) for a in range(len(m))]
    nstr = [math.prod(len(q) for q in kept[a + 1:]) for a in range(len(kept))]
    phase = np.zeros(p.k, np.intp)
    off = np.zeros(p.k, np.intp)
    for a, (k, dl, s) in enumerate(zip(p.k, p.dilation, p.stride)):
        j = np.arange(k) * dl
        shape = [1] * len(p.k)
        shape[a] = k
        phase += (np.searchsorted(kept[a], j % s) * nstr[a]).reshape(shape)
        off += ((j // s) * mstr[a]).reshape(shape)
    c = np.arange(p.channels // p.groups, dtype=np.intp)[:, None]
    toff = (c * len(phases) + phase.ravel()) * math.prod(m) + off.ravel()
    return np.ascontiguousarray(toff.ravel())


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
    """The direct method by the compiled kernel :func:`._nn_kernel.direct_sum`, and the
    bytes its plan keeps.

    The input is copied into phase planes (one plane per channel at stride 1), padding
    included; every tap is then a fixed offset into the flat planes, and runs of output
    rows are computed as contiguous strips, four output channels and four taps per pass.
    The planes live in buffers kept per thread: zero padding and the planes' tails are
    written once, and each call copies only the input samples. The work runs on
    ``workers`` threads of ours (the kernel releases the GIL), in pieces handed out on
    demand: whole batch items when they share out evenly -- each thread copies its item
    and convolves it while it is in cache -- else strips of the whole batch, copied first.
    """
    from ._kernel import direct_sum

    phases, m = _phases(p)
    toff = _tap_offsets(p, phases, m)
    d, length, nph = len(p.n), p.out_len, len(phases)
    mstr = [math.prod(m[a + 1:]) for a in range(d)]
    rows = np.zeros(length[:-1], np.intp)
    for a in range(d - 1):
        shape = [1] * (d - 1)
        shape[a] = length[a]
        rows = rows + (np.arange(length[a], dtype=np.intp) * mstr[a]).reshape(shape)
    rows = np.ascontiguousarray(rows.ravel())
    strip = max(_STRIP_BYTES // p.dtype.itemsize, 1)
    segs = _segments(rows, length[-1], m[-1], strip)
    nseg = len(segs)
    og = p.out_channels // p.groups
    group_step = p.channels // p.groups * nph * math.prod(m)
    size = p.channels * nph * math.prod(m)  # per batch item
    wt = np.ascontiguousarray(w.reshape(p.out_channels, -1))
    threads = 1 if p.macs < PARALLEL_MIN_MACS else workers
    per_item = threads == 1 or p.batch % threads == 0 or p.batch >= 4 * threads
    ntasks = p.batch * nseg
    nparts = max(1, min(ntasks, 4 * threads))
    bounds = [ntasks * i // nparts for i in range(nparts + 1)]
    zeros = p.boundary == "constant"
    in_place = max(p.stride) == 1 and all(lo == hi == 0 for lo, hi in p.pad)
    start = tuple(lo for lo, _ in p.pad) if zeros else (0,) * d  # else np.pad pads first
    copies = _phase_copies(p.stride, phases, m, start, p.n if zeros else p.padded)
    local = threading.local()

    def planes(xs: np.ndarray) -> np.ndarray:
        """The phase planes of ``xs`` ``(B, C, *n)``, flat (1-d, ``_ROUND`` spare zeros at
        the end)."""
        if in_place:
            return xs.reshape(-1)
        if not zeros:
            xs = _pad(xs, p)
        bufs = local.__dict__.setdefault("bufs", {})
        flat = bufs.get(len(xs))
        if flat is None:
            flat = bufs[len(xs)] = np.zeros(len(xs) * size + _ROUND, p.dtype)
        buf = flat[:len(xs) * size].reshape(len(xs), p.channels, nph, *m)
        for dst, src in copies:
            buf[dst] = xs[src]
        return flat

    def run(x: np.ndarray, out: np.ndarray) -> None:
        ov = out.reshape(p.batch, p.out_channels, rows.size, length[-1])
        if not toff.size:  # no input channels: an empty sum
            out.fill(0)
            return
        # Work is handed out on demand (next() on a shared iterator holds the GIL), so a
        # thread that starts late -- or shares its core -- takes fewer pieces.
        if per_item:
            items = iter(range(p.batch))

            def worker(_: int) -> None:
                for n in items:
                    direct_sum(planes(x[n:n + 1]), size, toff, wt, og, group_step, rows, segs,
                               strip, _ROUND, ov[n:n + 1], 0, nseg)
        else:
            xf = planes(x)
            parts = iter(range(nparts))

            def worker(_: int) -> None:
                for i in parts:
                    direct_sum(xf, size, toff, wt, og, group_step, rows, segs, strip, _ROUND,
                               ov, bounds[i], bounds[i + 1])
        parallel_map(worker, range(threads), threads)

    item_bytes = 0 if in_place else size * p.dtype.itemsize
    held = threads * item_bytes if per_item else p.batch * item_bytes
    return run, wt.nbytes + toff.nbytes + held


def build_direct(p: NNProblem, w: np.ndarray, workers: int, impl: str) -> tuple[Runner, int]:
    """The direct method by implementation ``impl`` (one of :data:`DIRECT_IMPLS`), and the
    bytes its plan keeps."""
    if impl == "kernel":
        return build_kernel(p, w, workers)
    return build_im2col(p, w, workers), w.nbytes


def _split(a: np.ndarray, lead: int, ps: tuple[int, ...], size: tuple[int, ...],
           phases: tuple[int, ...]) -> np.ndarray:
    """``a`` ``(*lead, *spatial)`` split into phases, each zero-extended to ``size``.

    Returns ``(*lead, len(phases), *size)`` (C-contiguous) with
    ``out[..., q, m] = a[..., m * ps + q]`` (``q`` flattened in C order), zero past the end
    of ``a``: one strided copy per phase.
    """
    out = np.zeros((*a.shape[:lead], len(phases), *size), a.dtype)
    for i, flat in enumerate(phases):
        q = np.unravel_index(flat, ps)
        src = a[(Ellipsis, *(slice(qa, None, s) for qa, s in zip(q, ps)))]
        sub = tuple(slice(0, min(m, n)) for m, n in zip(size, src.shape[lead:]))
        out[(slice(None),) * lead + (i, *sub)] = src[(Ellipsis, *sub)]
    return out


def build_fft(p: NNProblem, w: np.ndarray, lay: FFTLayout, workers: int
              ) -> tuple[Runner, int]:
    """The FFT path with the geometry ``lay``, and the bytes its plan keeps.

    The plan keeps the weight spectra and, per calling thread, the transform buffers of
    one batch chunk.
    """
    if p.channels == 0 or p.batch == 0:  # nothing to transform: the bias alone, or no output
        return (lambda x, out: out.fill(0)), 0
    from ._kernel import blocked, spectral_sum

    d, fshape = len(p.n), lay.fft_shape
    nf = math.prod(fshape)
    ph = len(lay.phases)
    ce, o = p.channels * ph, p.out_channels
    # Weight spectrum: dilate, split into phases, reverse (correlation), transform.
    wd = np.zeros((o, w.shape[1], *p.span), p.dtype)
    wd[(slice(None), slice(None), *(slice(None, None, dl) for dl in p.dilation))] = w
    wq = _split(wd, 2, lay.phase_stride, lay.k_len, lay.phases)
    wq = wq.reshape(o * w.shape[1] * ph, *lay.k_len)[(slice(None), *(slice(None, None, -1),) * d)]
    kp = TransformPair(wq.shape[0], fshape, p.dtype, workers)
    kp.inbuf[(slice(None), *(slice(0, q) for q in lay.k_len))] = wq
    wspec = kp.forward().reshape(o, w.shape[1] * ph, -1) * (1.0 / nf)
    del kp
    wr, wi = blocked(wspec.real), blocked(wspec.imag)
    # Batch chunks: one per thread at least, more if the spectra would be too large.
    rdt, cdt, _ = fft_dtypes(p.dtype)  # each pair: input, spectrum, output buffers
    per_item = (ce + o) * (2 * nf * rdt.itemsize + wr.shape[0] * wr.shape[3] * cdt.itemsize)
    chunks = _chunks(p.batch, max(workers, -(-p.batch * per_item // _SPEC_BYTES)))
    threads = max(1, workers // len(chunks))
    crop = (slice(None), *(slice(q - 1, q - 1 + (n - 1) * s + 1, s)
                           for q, n, s in zip(lay.k_len, p.out_len, lay.step)))
    split = max(lay.phase_stride) > 1
    region = (slice(None), *(slice(0, m) for m in (lay.in_len if split else p.padded)))
    local = threading.local()

    def pairs(nb: int) -> tuple[TransformPair, TransformPair]:
        cache = local.__dict__.setdefault("pairs", {})
        if nb not in cache:
            cache[nb] = (TransformPair(nb * ce, fshape, p.dtype, threads),
                         TransformPair(nb * o, fshape, p.dtype, threads))
        return cache[nb]

    def part(bounds: tuple[int, int], x: np.ndarray, out: np.ndarray) -> None:
        a, b = bounds
        fwd, inv = pairs(b - a)
        xp = _pad(x[a:b], p)
        if split:
            xp = _split(xp, 2, lay.phase_stride, lay.in_len, lay.phases)
        fwd.inbuf[region] = xp.reshape(-1, *xp.shape[-d:])
        xs = fwd.forward().reshape(b - a, ce, -1)
        spectral_sum(xs, wr, wi, inv.spec.reshape(b - a, o, -1), p.groups)
        out[a:b] = inv.inverse()[crop].reshape(b - a, o, *p.out_len)

    def run(x: np.ndarray, out: np.ndarray) -> None:
        parallel_map(lambda c: part(c, x, out), chunks, workers)

    chunk = max(b - a for a, b in chunks)
    return run, wr.nbytes + wi.nbytes + min(workers, len(chunks)) * chunk * per_item


class NNPlan:
    """A planned ``conv{d}d`` in the torch layout: weight prepared (and transformed) once.

    Non-finite values make an FFT smear NaN over whole outputs, so ``'auto'`` never uses
    the FFT path for a non-finite weight, and falls back to ``direct`` for a non-finite
    input; an explicit ``method='fft'`` with a non-finite weight is an error.

    Parameters
    ----------
    p : NNProblem
    w : ndarray
        The weight ``(O, C/groups, *k)``, C-contiguous, in the compute dtype.
    method : str
        ``'auto'``, ``'direct'`` or ``'fft'``.
    workers : int
    direct : str, optional
        The implementation of the direct method (one of :data:`DIRECT_IMPLS`); by default
        the cheaper estimate.

    Attributes
    ----------
    problem : NNProblem
    method : str
        ``'direct'`` or ``'fft'``.
    direct : str
        The implementation of the direct method (used by ``method='direct'``, and by
        ``'auto'`` for a non-finite input): ``'kernel'`` or ``'im2col'``.
    estimates : dict
        Predicted seconds of every strategy (``'direct'``: its chosen implementation).
    direct_estimates : dict
        Predicted seconds of every implementation of the direct method.
    layout : FFTLayout or None
        The FFT geometry (``polyphase`` tells how a stride is served).
    memory : int
        Bytes the plan keeps (weight spectra, transform buffers).
    """

    def __init__(self, p: NNProblem, w: np.ndarray, method: str, workers: int,
                 direct: str | None = None) -> None:
        est = estimates(p, workers)
        self.problem, self.estimates = p, {k: v[0] for k, v in est.items()}
        self.direct_estimates = direct_estimates(p, workers)
        if direct is not None and direct not in self.direct_estimates:
            raise ValueError(f"direct={direct!r} cannot serve dtype {p.dtype}; expected one of "
                             + ", ".join(repr(k) for k in self.direct_estimates))
        self.direct = direct or str(est["direct"][1])
        finite = bool(np.isfinite(w).all())
        if method == "fft" and not finite:
            raise ValueError("method='fft' cannot serve a weight with non-finite values "
                             "(a transform spreads them over every output); use "
                             "method='direct' or 'auto'")
        if method == "auto":
            method = min(est, key=lambda k: est[k][0]) if finite else "direct"
        self.method = method
        self._w, self._workers = w, workers
        self.layout = est["fft"][1] if method == "fft" else None
        if self.layout is not None:
            self._run, self.memory = build_fft(p, w, self.layout, workers)
        else:
            self._run, self.memory = build_direct(p, w, workers, self.direct)
        self._fallback: list[Runner] = []

    def __call__(self, x: np.ndarray, bias: np.ndarray | None, *, auto: bool = True) -> np.ndarray:
        """The convolution of ``x`` ``(N, C, *S)`` (compute dtype) plus ``bias``."""
        p = self.problem
        out = np.empty((p.batch, p.out_channels, *p.out_len), p.dtype)
        x = np.ascontiguousarray(x)
        run = self._run
        if auto and self.method == "fft" and not np.isfinite(x).all():
            if not self._fallback:
                self._fallback.append(build_direct(p, self._w, self._workers, self.direct)[0])
            run = self._fallback[0]
        if out.size:
            run(x, out)
        if bias is not None:
            out += bias.reshape(-1, *(1,) * len(p.n))
        return out


def get_plan(p: NNProblem, w: np.ndarray, method: str, workers: int) -> NNPlan:
    """A plan for ``p`` and weight ``w``, reused while the same weight comes back.

    Plans live in the engine's one call memo, keyed by the weight's bytes; a remembered
    plan owns a copy of its weight, so changing the caller's array cannot reach it.
    """
    if w.nbytes > _CACHE_MAX_BYTES // 16:
        return NNPlan(p, w, method, workers)
    key = ("nn", p, method, workers, w.shape, w.tobytes())
    plan = calls.get(key)
    if plan is not None:
        return plan  # type: ignore[return-value]
    owned = np.array(w, order="C")
    owned.flags.writeable = False
    plan = NNPlan(p, owned, method, workers)
    calls.put(key, plan, plan.memory + owned.nbytes)
    return plan
