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
from dataclasses import dataclass

from typing import Any

import numpy as np

from .._machine.costs import threads_speedup
from .._machine.fft import TransformPair
from .._machine.threads import parallel_map
from .._numerics.dtypes import fft_dtypes
from .._numerics.fftsize import best_size
from .._numerics.scaling import all_finite, exponent, peak, scale
from ..strategies.fft import transform_seconds
from ._problem import NNProblem, Runner, kept_phases, pad

__all__ = ["FFTLayout", "build_fft", "fft_layout", "fft_seconds"]


#: Scratch bytes of the spectra of one batch chunk.
_SPEC_BYTES = 16 << 20


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


def fft_seconds(p: NNProblem, lay: FFTLayout, costs: dict, nn: dict, workers: int) -> float:
    rdt, cdt, real = fft_dtypes(p.dtype)
    phase_channels = p.channels * len(lay.phases)
    nbins = math.prod(lay.fft_shape[:-1]) * (lay.fft_shape[-1] // 2 + 1 if real else
                                             lay.fft_shape[-1])
    t = transform_seconds(lay.fft_shape, p.batch * (phase_channels + p.out_channels), rdt, costs, real)
    t += (p.batch * p.out_channels * (phase_channels // p.groups) * nbins
          * nn["spectral_per_mac"][cdt.name])
    passes = (phase_channels + p.out_channels) * math.prod(lay.fft_shape) * 3
    if max(lay.phase_stride) > 1:  # zero-extend, reorder and select the input phases
        passes += p.channels * math.prod(m * s for m, s in zip(lay.in_len, lay.phase_stride)) * 4
    t += p.batch * passes * rdt.itemsize * costs["memory_per_byte"]
    speed = threads_speedup(costs, "overlap", min(workers, p.batch))
    return costs["overhead"]["fft"] + t / speed


def _chunks(n: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(n, parts))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


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

    The plan keeps the weight spectra and, per calling thread, the transform buffers of
    one batch chunk.
    """
    if p.channels == 0 or p.batch == 0:  # nothing to transform: the bias alone, or no output
        return (lambda x, out: out.fill(0)), 0
    from ._kernel import blocked, spectral_sum

    d, fshape = len(p.n), lay.fft_shape
    nf = math.prod(fshape)
    ph = len(lay.phases)
    phase_channels, o = p.channels * ph, p.out_channels
    # Weight spectrum: dilate, split into phases, reverse (correlation), transform.
    wd = np.zeros((o, w.shape[1], *p.span), p.dtype)
    wd[(slice(None), slice(None), *(slice(None, None, dl) for dl in p.dilation))] = w
    wq = _split(wd, 2, lay.phase_stride, lay.k_len, lay.phases)
    wq = wq.reshape(o * w.shape[1] * ph, *lay.k_len)[(slice(None), *(slice(None, None, -1),) * d)]
    kp = TransformPair(wq.shape[0], fshape, p.dtype, workers)
    kp.inbuf[(slice(None), *(slice(0, q) for q in lay.k_len))] = wq
    e_w = exponent(peak(wq))  # transformed at a peak of about 1: huge taps cannot overflow
    scale(kp.inbuf, -e_w)
    wspec = kp.forward().reshape(o, w.shape[1] * ph, -1) * (1.0 / nf)
    scale(wspec, e_w)
    del kp
    wr, wi = blocked(wspec.real), blocked(wspec.imag)
    # Batch chunks: one per thread at least, more if the spectra would be too large.
    rdt, cdt, _ = fft_dtypes(p.dtype)  # each pair: input, spectrum, output buffers
    per_item = (phase_channels + o) * (2 * nf * rdt.itemsize + wr.shape[0] * wr.shape[3] * cdt.itemsize)
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
            cache[nb] = (TransformPair(nb * phase_channels, fshape, p.dtype, threads),
                         TransformPair(nb * o, fshape, p.dtype, threads))
        return cache[nb]

    def part(bounds: tuple[int, int], x: np.ndarray, out: np.ndarray) -> None:
        a, b = bounds
        fwd, inv = pairs(b - a)
        xp = pad(x[a:b], p)
        if split:
            xp = _split(xp, 2, lay.phase_stride, lay.in_len, lay.phases)
        fwd.inbuf[region] = xp.reshape(-1, *xp.shape[-d:])
        with np.errstate(over="ignore", invalid="ignore"):
            transform(fwd, inv, a, b, out, 0)
            # finite input (the plan checked), non-finite result: the transform
            # overflowed; again at a peak of about 1 (see _numerics/scaling.py)
            if not all_finite(out[a:b]):
                e = exponent(peak(fwd.inbuf))
                scale(fwd.inbuf, -e)
                transform(fwd, inv, a, b, out, e)

    def transform(fwd: TransformPair, inv: TransformPair, a: int, b: int, out: np.ndarray,
                  e: int) -> None:
        xs = fwd.forward().reshape(b - a, phase_channels, -1)
        spectral_sum(xs, wr, wi, inv.spec.reshape(b - a, o, -1), p.groups)
        res = inv.inverse()[crop]
        scale(res, e)
        out[a:b] = res.reshape(b - a, o, *p.out_len)

    def run(x: np.ndarray, out: np.ndarray) -> None:
        parallel_map(lambda c: part(c, x, out), chunks, workers)

    chunk = max(b - a for a, b in chunks)
    return run, wr.nbytes + wi.nbytes + min(workers, len(chunks)) * chunk * per_item
