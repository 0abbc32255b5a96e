"""Strategies, cost model and plan cache of :mod:`fftconv.nn`.

``direct``
    im2col + one matrix product per (group, chunk of output rows) of the whole batch,
    through BLAS.
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
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._costs import machine_costs, threads_speedup
from ._fft import TransformPair, fft_dtypes
from ._fftsize import best_size
from ._nn_problem import NNProblem
from ._threads import parallel_map
from .strategies.fft import transform_seconds

__all__ = ["NNPlan", "get_plan", "estimates"]

#: Scratch bytes per chunk of work (im2col columns; spectra of one batch chunk). The
#: columns come in large chunks: each BLAS call synchronises BLAS's threads, and on a
#: busy machine many small calls were up to 10x slower than a few large ones.
_COLS_BYTES = 32 << 20
_SPEC_BYTES = 16 << 20
#: Plans kept for repeated weights: at most this many, holding at most this many bytes.
_CACHE_SIZE = 8
_CACHE_MAX_BYTES = 256 << 20

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


def estimates(p: NNProblem, workers: int) -> dict[str, tuple[float, FFTLayout | None]]:
    """Predicted seconds of every strategy: ``{'direct': (t, None), 'fft': (t, layout)}``."""
    costs, nn = _nn_costs()
    w = costs["prime_weight"]
    direct = (costs["overhead"]["direct"]
              + (p.macs * nn["gemm_per_mac"][p.dtype.name]
                 + p.macs // (p.out_channels // p.groups) * nn["im2col_per_element"])
              / threads_speedup(costs, "direct", workers))
    variants = (False, True) if max(p.stride) > 1 else (False,)  # polyphase?
    layouts = [fft_layout(p, poly, w) for poly in variants]
    timed = [(_fft_seconds(p, lay, costs, nn, workers), lay) for lay in layouts]
    return {"direct": (direct, None), "fft": min(timed, key=lambda t: t[0])}


def _pad(x: np.ndarray, p: NNProblem) -> np.ndarray:
    widths = [(0, 0), (0, 0), *p.pad]
    if all(lo == hi == 0 for lo, hi in p.pad):
        return x
    return np.pad(x, widths, mode=p.boundary)


def _chunks(n: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(n, parts))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def build_direct(p: NNProblem, w: np.ndarray, workers: int) -> Runner:
    """im2col + BLAS.

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
                cols = v[(slice(None),) * (d + 2) + (slice(r0, r1),)].reshape(wg[i].shape[1], -1)
                res = wg[i] @ cols
                out[:, i * og:(i + 1) * og, r0:r1] = res.reshape(
                    og, nb, r1 - r0, *length[1:]).transpose(out_axes)

    return run


def _split(a: np.ndarray, lead: int, ps: tuple[int, ...], size: tuple[int, ...],
           phases: tuple[int, ...]) -> np.ndarray:
    """``a`` ``(*lead, *spatial)`` zero-extended to ``size * ps`` and split into phases.

    Returns ``(*lead, len(phases), *size)`` with ``out[..., q, m] = a[..., m * ps + q]``
    (``q`` flattened in C order).
    """
    shape, d = a.shape[:lead], len(size)
    z = np.zeros((*shape, *(m * s for m, s in zip(size, ps))), a.dtype)
    z[(Ellipsis, *(slice(0, n) for n in a.shape[lead:]))] = a
    if all(s == 1 for s in ps):
        return z.reshape(*shape, 1, *size)
    z = z.reshape(*shape, *itertools.chain.from_iterable(zip(size, ps)))
    order = (*range(lead), *(lead + 2 * i + 1 for i in range(d)), *(lead + 2 * i for i in range(d)))
    z = z.transpose(order).reshape(*shape, math.prod(ps), *size)
    return z[(slice(None),) * lead + (list(phases),)]


def build_fft(p: NNProblem, w: np.ndarray, lay: FFTLayout, workers: int
              ) -> tuple[Runner, int]:
    """The FFT path with the geometry ``lay``, and the bytes its plan keeps.

    The plan keeps the weight spectra and, per calling thread, the transform buffers of
    one batch chunk.
    """
    from ._nn_kernel import blocked, spectral_sum

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

    Attributes
    ----------
    problem : NNProblem
    method : str
        ``'direct'`` or ``'fft'``.
    estimates : dict
        Predicted seconds of every strategy.
    layout : FFTLayout or None
        The FFT geometry (``polyphase`` tells how a stride is served).
    memory : int
        Bytes the plan keeps (weight spectra, transform buffers).
    """

    def __init__(self, p: NNProblem, w: np.ndarray, method: str, workers: int) -> None:
        est = estimates(p, workers)
        self.problem, self.estimates = p, {k: v[0] for k, v in est.items()}
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
            self._run, self.memory = build_direct(p, w, workers), w.nbytes
        self._direct: list[Runner] = []

    def __call__(self, x: np.ndarray, bias: np.ndarray | None, *, auto: bool = True) -> np.ndarray:
        """The convolution of ``x`` ``(N, C, *S)`` (compute dtype) plus ``bias``."""
        p = self.problem
        out = np.empty((p.batch, p.out_channels, *p.out_len), p.dtype)
        x = np.ascontiguousarray(x)
        run = self._run
        if auto and self.method == "fft" and not np.isfinite(x).all():
            if not self._direct:
                self._direct.append(build_direct(p, self._w, self._workers))
            run = self._direct[0]
        if out.size:
            run(x, out)
        if bias is not None:
            out += bias.reshape(-1, *(1,) * len(p.n))
        return out


_plans: OrderedDict[tuple, NNPlan] = OrderedDict()
_plans_lock = threading.Lock()


def get_plan(p: NNProblem, w: np.ndarray, method: str, workers: int) -> NNPlan:
    """A plan for ``p`` and weight ``w``, reused while the same weight comes back."""
    if w.nbytes > _CACHE_MAX_BYTES // 16:
        return NNPlan(p, w, method, workers)
    key = (p, method, workers, w.tobytes())
    with _plans_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    plan = NNPlan(p, w, method, workers)
    if plan.memory > _CACHE_MAX_BYTES // 2:
        return plan
    with _plans_lock:
        _plans[key] = plan
        while (len(_plans) > _CACHE_SIZE
               or sum(q.memory for q in _plans.values()) > _CACHE_MAX_BYTES):
            _plans.popitem(last=False)
    return plan
