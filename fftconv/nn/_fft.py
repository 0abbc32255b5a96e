"""The ``fft`` strategy of :mod:`fftconv.nn`.

Transform every input channel once, sum over input channels in the frequency domain (a
small matrix product per bin, :mod:`._kernel`), one inverse transform per output channel.
A stride is served either by *polyphase* decomposition (the input and the dilated kernel
are split into ``stride`` phases per axis, which become extra input channels of a
stride-1 problem: only the needed outputs are computed) or by computing the stride-1
result and *subsampling* it; the cost model picks. Kernel phases that the dilation leaves
structurally empty are skipped.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._machine.costs import threads_speedup
from .._machine.fft import TransformPair
from .._machine.threads import parallel_map
from .._numerics.dtypes import fft_dtypes
from .._numerics.fftsize import best_size
from .._numerics.scaling import all_finite, exponent, peak, scale
from ..strategies import Estimate
from ..strategies.fft import transform_seconds
from ._pieces import BLOCK, pieces, ranges, threads_for
from ._problem import NNProblem, Runner, kept_phases, nn_costs, pad

__all__ = ["FFTLayout", "FFTSplit", "build_fft", "fft_estimate", "fft_layout", "fft_memory",
           "fft_split"]


#: Scratch bytes of the spectra of one batch chunk.
_SPEC_BYTES = 16 << 20
#: Bytes of weight-spectrum planes zeroed (and so mapped) per piece.
_ZERO_BYTES = 32 << 20


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
    per_axis = kept_phases(p.k, p.dilation, ps)
    flat = tuple(int(np.ravel_multi_index(t, ps)) for t in itertools.product(*per_axis))
    need = tuple(max(mi, qi - 1 + (li - 1) * st + 1)
                 for mi, qi, li, st in zip(m, q, p.out_len, step))
    fshape = tuple(best_size(n, weights, real and i == len(need) - 1) for i, n in enumerate(need))
    return FFTLayout(polyphase, ps, flat, m, q, step, fshape)


def _nbins(lay: FFTLayout, real: bool) -> int:
    """Bins of one spectrum (the last axis halved for real transforms)."""
    return math.prod(lay.fft_shape[:-1]) * (lay.fft_shape[-1] // 2 + 1 if real else
                                            lay.fft_shape[-1])


def _work(p: NNProblem, lay: FFTLayout, costs: dict, nn: dict) -> float:
    """Single-thread seconds of the transforms, the spectral sum and the buffer passes."""
    rdt, cdt, real = fft_dtypes(p.dtype)
    phase_channels = p.channels * len(lay.phases)
    t = transform_seconds(lay.fft_shape, p.batch * (phase_channels + p.out_channels), rdt,
                          costs, real)
    t += (p.batch * p.out_channels * (phase_channels // p.groups) * _nbins(lay, real)
          * nn["spectral_per_mac"][cdt.name])
    passes = (phase_channels + p.out_channels) * math.prod(lay.fft_shape) * 3
    if max(lay.phase_stride) > 1:  # zero-extend, reorder and select the input phases
        passes += p.channels * math.prod(m * s for m, s in zip(lay.in_len, lay.phase_stride)) * 4
    return t + p.batch * passes * rdt.itemsize * costs["memory_per_byte"]


def weight_seconds(p: NNProblem, lay: FFTLayout) -> float:
    """Single-thread seconds of the weight spectra (paid once per plan)."""
    costs = nn_costs()[0]
    rdt, _, real = fft_dtypes(p.dtype)
    kernels = p.out_channels * (p.channels // max(p.groups, 1)) * len(lay.phases)
    return transform_seconds(lay.fft_shape, kernels, rdt, costs, real) \
        + 3 * kernels * math.prod(lay.fft_shape) * rdt.itemsize * costs["memory_per_byte"]


class FFTSplit(NamedTuple):
    """How the FFT path shares out one problem (:func:`fft_split`)."""

    #: Threads taking pieces (1: the calling thread alone).
    threads: int
    #: ``[a, b)`` chunks of batch items, transformed together.
    chunks: tuple[tuple[int, int], ...]
    #: 0: every chunk is one piece; else each chunk runs as three passes of pieces --
    #: ranges of forward transforms, of frequency-bin blocks, of inverse transforms --
    #: about this many each (for a batch too small to share out by items).
    parts: int


def _chunk_bytes(p: NNProblem, lay: FFTLayout, fine: bool) -> int:
    """Scratch bytes per batch item of a chunk: the transform buffers (whole chunk), or
    the shared spectra of a chunk cut into pieces."""
    rdt, cdt, real = fft_dtypes(p.dtype)
    transforms = p.channels * len(lay.phases) + p.out_channels
    nf, spectrum = math.prod(lay.fft_shape), -(-_nbins(lay, real) // BLOCK) * BLOCK
    if fine:
        return transforms * spectrum * cdt.itemsize
    return transforms * (2 * nf * rdt.itemsize + spectrum * cdt.itemsize)


def fft_split(p: NNProblem, lay: FFTLayout, workers: int) -> FFTSplit:
    """The pieces of the FFT path on ``workers`` threads: chunks of batch items when there
    are enough, else chunks cut into ranges of transforms and of bins; each about
    ``PIECE_SECONDS`` at most, and a chunk's spectra at most about ``_SPEC_BYTES``."""
    costs, nn = nn_costs()
    seconds = costs["overhead"]["fft"] + _work(p, lay, costs, nn)
    threads = threads_for(seconds, workers, costs, "overlap")
    count = pieces(seconds, threads, 1 << 20)
    fine = count > p.batch
    by_memory = -(-p.batch * _chunk_bytes(p, lay, fine) // _SPEC_BYTES)
    chunks = tuple(ranges(p.batch, by_memory if fine else max(count, by_memory)))
    return FFTSplit(threads, chunks, -(-count // max(len(chunks), 1)) if fine else 0)


def fft_memory(p: NNProblem, lay: FFTLayout, split: FFTSplit) -> int:
    """Scratch bytes of the FFT path: the weight spectra, the padded (and phase-split)
    input of the chunks in flight, and their transform buffers and spectra."""
    rdt, cdt, real = fft_dtypes(p.dtype)
    ph = len(lay.phases)
    nf, spectrum = math.prod(lay.fft_shape), -(-_nbins(lay, real) // BLOCK) * BLOCK
    weights = p.out_channels * (p.channels // max(p.groups, 1)) * ph * spectrum * cdt.itemsize
    chunk = max((b - a for a, b in split.chunks), default=0)
    item_in = p.channels * (math.prod(p.padded) + ph * math.prod(lay.in_len)) * rdt.itemsize
    if split.parts:  # one chunk at a time: shared spectra, and each thread's piece buffers
        transforms = -(-chunk * (p.channels * ph + p.out_channels) // split.parts)
        return (weights + chunk * (item_in + _chunk_bytes(p, lay, True))
                + split.threads * transforms * (2 * nf * rdt.itemsize + spectrum * cdt.itemsize))
    return weights + min(split.threads, len(split.chunks)) * chunk * (
        item_in + _chunk_bytes(p, lay, False))


def fft_estimate(p: NNProblem, lay: FFTLayout, workers: int) -> Estimate:
    """Seconds and scratch memory of the FFT path with geometry ``lay``."""
    costs, nn = nn_costs()
    split = fft_split(p, lay, workers)
    t = _work(p, lay, costs, nn)
    if split.parts:  # the spectra copied out of and into the pieces' buffers
        rdt, cdt, real = fft_dtypes(p.dtype)
        t += (2 * p.batch * (p.channels * len(lay.phases) + p.out_channels)
              * _nbins(lay, real) * cdt.itemsize * costs["memory_per_byte"])
    if split.threads > 1:
        calls = 3 * len(split.chunks) if split.parts else 1
        t = calls * costs["overhead"]["parallel"] + t / threads_speedup(costs, "overlap",
                                                                         split.threads)
    return Estimate(seconds=costs["overhead"]["fft"] + t, memory=fft_memory(p, lay, split),
                    fft_shape=lay.fft_shape)


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
        phase: tuple[Any, ...] = (Ellipsis, *(slice(qa, None, s) for qa, s in zip(q, ps)))
        src = a[phase]
        sub = tuple(slice(0, min(m, n)) for m, n in zip(size, src.shape[lead:]))
        head: tuple[Any, ...] = (Ellipsis, *sub)
        out[(slice(None),) * lead + (i, *sub)] = src[head]
    return out


def build_fft(p: NNProblem, w: np.ndarray, lay: FFTLayout, workers: int
              ) -> tuple[Runner, int]:
    """The FFT path with the geometry ``lay``, and the bytes its plan keeps.

    The plan keeps the weight spectra and, per calling thread, the transform buffers.
    The work goes through fftconv's shared queue in the pieces of :func:`fft_split`, with
    single-threaded FFTW (whose own threads stall behind a descheduled one): chunks of
    batch items, each transformed, summed and inverted by one thread; or, for a batch too
    small for that, every chunk in three passes of pieces -- ranges of the forward
    transforms, of the frequency-bin blocks of the channel sum, of the inverse transforms.
    """
    if p.channels == 0 or p.batch == 0:  # nothing to transform: the bias alone, or no output
        return (lambda x, out: out.fill(0)), 0
    from ._kernel import spectral_sum

    d, fshape = len(p.n), lay.fft_shape
    nf = math.prod(fshape)
    ph = len(lay.phases)
    phase_channels, o = p.channels * ph, p.out_channels
    split = fft_split(p, lay, workers)
    threads = split.threads
    local = threading.local()

    def pair(count: int) -> TransformPair:
        """This thread's single-threaded transforms of ``count`` signals."""
        cache = local.__dict__.setdefault("pairs", {})
        if count not in cache:
            cache[count] = TransformPair(count, fshape, p.dtype, 1)
        return cache[count]

    # Weight spectra: dilate, split into phases, reverse (correlation), transform -- in
    # pieces of a few kernels, straight into the blocked planes of the spectral sum.
    wd = np.zeros((o, w.shape[1], *p.span), p.dtype)
    wd[(slice(None), slice(None), *(slice(None, None, dl) for dl in p.dilation))] = w
    wq = _split(wd, 2, lay.phase_stride, lay.k_len, lay.phases)
    cgp = w.shape[1] * ph
    wq = wq.reshape(o * cgp, *lay.k_len)[(slice(None), *(slice(None, None, -1),) * d)]
    del wd
    rdt, cdt, real = fft_dtypes(p.dtype)
    nbins = _nbins(lay, real)
    nblk, full = -(-nbins // BLOCK), nbins // BLOCK
    wr = np.empty((nblk, o, cgp, BLOCK), rdt)
    wi = np.empty((nblk, o, cgp, BLOCK), rdt)
    taps = (slice(None), *(slice(0, q) for q in lay.k_len))
    kernels = o * cgp

    def weights(r: tuple[int, int]) -> None:
        tp = TransformPair(r[1] - r[0], fshape, p.dtype, 1)  # not kept: used once
        tp.inbuf[taps] = wq[r[0]:r[1]]
        e = exponent(peak(tp.inbuf))  # at a peak of about 1: huge taps cannot overflow
        scale(tp.inbuf, -e)
        spec = tp.forward().reshape(r[1] - r[0], -1) * (1.0 / nf)
        scale(spec, e)
        for dst, part in ((wr, spec.real), (wi, spec.imag)):  # block-major, as summed
            planes = dst.reshape(nblk, kernels, BLOCK)[:, r[0]:r[1]]
            planes[:full] = part[:, :full * BLOCK].reshape(len(part), full, BLOCK).transpose(1, 0, 2)
            if full < nblk:
                planes[full, :, :nbins - full * BLOCK] = part[:, full * BLOCK:]

    seconds = weight_seconds(p, lay)
    wthreads = threads_for(seconds, workers, nn_costs()[0], "overlap")
    # Zeroed in pieces first: every kernel's piece writes across all blocks, so the first
    # one would otherwise take the page faults of all of the planes, in one long piece.
    def zero(r: tuple[int, int]) -> None:
        wr[r[0]:r[1]] = 0
        wi[r[0]:r[1]] = 0

    parallel_map(zero, ranges(nblk, -(-2 * wr.nbytes // _ZERO_BYTES)), wthreads)
    parallel_map(weights, ranges(kernels, pieces(seconds, wthreads, kernels)), wthreads)
    crop = (slice(None), *(slice(q - 1, q - 1 + (n - 1) * s + 1, s)
                           for q, n, s in zip(lay.k_len, p.out_len, lay.step)))
    phased = max(lay.phase_stride) > 1
    region = (slice(None), *(slice(0, m) for m in (lay.in_len if phased else p.padded)))

    def inputs(x: np.ndarray, a: int, b: int) -> np.ndarray:
        """The signals to transform of items ``a .. b-1``: ``(nb * C * phases, *region)``."""
        xp = pad(x[a:b], p)
        if phased:
            xp = _split(xp, 2, lay.phase_stride, lay.in_len, lay.phases)
        return xp.reshape(-1, *xp.shape[-d:])

    def finish(res: np.ndarray, e: int, dst: np.ndarray) -> None:
        res = res[crop]
        scale(res, e)
        dst[...] = res.reshape(dst.shape)

    def whole(c: tuple[int, int], x: np.ndarray, out: np.ndarray, e: int) -> None:
        """Chunk ``c`` by this thread alone, its input scaled by ``2**-e``."""
        a, b = c
        fwd, inv = pair((b - a) * phase_channels), pair((b - a) * o)
        fwd.inbuf[region] = inputs(x, a, b)
        scale(fwd.inbuf, -e)
        xs = fwd.forward().reshape(b - a, phase_channels, -1)
        spectral_sum(xs, wr, wi, inv.spec.reshape(b - a, o, -1), p.groups, 0, nblk)
        finish(inv.inverse(), e, out[a:b])

    def in_pieces(c: tuple[int, int], x: np.ndarray, out: np.ndarray, e: int) -> None:
        """Chunk ``c`` in three passes of pieces, its input scaled by ``2**-e``."""
        a, b = c
        nb = b - a
        src = inputs(x, a, b)
        spectra = local.__dict__.setdefault("spectra", {})
        if nb not in spectra:
            spectra[nb] = (np.empty((nb, phase_channels, nbins), cdt),
                           np.empty((nb, o, nbins), cdt))
        xs, ys = spectra[nb]
        xs2, ys2 = xs.reshape(nb * phase_channels, -1), ys.reshape(nb * o, -1)
        dst = out[a:b].reshape(nb * o, *p.out_len)

        def forward(r: tuple[int, int]) -> None:
            tp = pair(r[1] - r[0])
            tp.inbuf[region] = src[r[0]:r[1]]
            scale(tp.inbuf, -e)
            spec = tp.forward().reshape(r[1] - r[0], -1)
            xs2[r[0]:r[1]] = spec

        def inverse(r: tuple[int, int]) -> None:
            tp = pair(r[1] - r[0])
            tp.spec.reshape(r[1] - r[0], -1)[...] = ys2[r[0]:r[1]]
            finish(tp.inverse(), e, dst[r[0]:r[1]])

        parallel_map(forward, ranges(nb * phase_channels, split.parts), threads)
        parallel_map(lambda r: spectral_sum(xs, wr, wi, ys, p.groups, r[0], r[1]),
                     ranges(nblk, split.parts), threads)
        parallel_map(inverse, ranges(nb * o, split.parts), threads)

    def run(x: np.ndarray, out: np.ndarray) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            if split.parts:
                for c in split.chunks:
                    checked(in_pieces, c, x, out)
            else:
                parallel_map(lambda c: checked(whole, c, x, out), split.chunks, threads)

    def checked(how: Callable, c: tuple[int, int], x: np.ndarray, out: np.ndarray) -> None:
        how(c, x, out, 0)
        # finite input (the plan checked), non-finite result: the transform overflowed;
        # again at a peak of about 1 (see _numerics/scaling.py)
        if not all_finite(out[c[0]:c[1]]):
            how(c, x, out, exponent(peak(inputs(x, *c))))

    return run, fft_memory(p, lay, split)
