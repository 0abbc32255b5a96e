"""``fft``: one whole-array transform per signal (FFTW), kernel spectrum computed once."""

from __future__ import annotations

import math
import threading
from typing import Callable, ClassVar

import numpy as np

from .._numerics.norm import norm1, norm2
from .._errors import InexactError
from .._machine import slabs as _slabs
from .._machine.costs import fft_rate, machine_costs, threads_speedup
from .._machine.fft import TransformPair, kernel_spectrum
from .._machine.threads import (
    PIECE_SECONDS,
    PIECES_PER_THREAD,
    free_threads,
    parallel_map,
    piece_count,
)
from .._numerics.boundary import extend, extend_into
from .._numerics.dtypes import fft_dtypes
from .._numerics.fftsize import best_size, log_factor
from .._numerics.scaling import all_finite, exponent, peak, scale
from .._problem import Problem
from . import Estimate, Executor, offer, register

__all__ = ["InexactError", "WholeFFT", "check_exact", "finite_only", "transform_seconds"]

#: Below this predicted single-thread time, a call runs in the calling thread only:
#: waking pool threads costs more than it saves.
_PARALLEL_MIN_SECONDS = 1e-3

#: Scratch memory a strategy may use for one batch chunk before it splits the batch.
CHUNK_BYTES = 256 << 20


def finite_only(problem: Problem) -> str | None:
    """Transforms spread non-finite kernel values or ``cval`` over the whole output."""
    if not problem.kernel_finite:
        return ("the kernel or cval has non-finite values; only the direct sum gives "
                "their IEEE result")
    return None


def check_exact(xnorm: float, kernel_l1: float, fft_size: int) -> None:
    """Raise :class:`InexactError` unless the float64 FFT result provably rounds exactly.

    The rounding error of an FFT convolution is bounded by
    ``c * eps * log2(n) * ||x||_2 * ||k||_1`` (Higham, *Accuracy and Stability of
    Numerical Algorithms*, §24.1, with ``max|K^| <= ||k||_1``); ``c = 16`` is generous.
    Rounding is exact when the bound is below 1/4. ``xnorm`` bounds the 2-norm of any
    one transformed input.
    """
    bound = 16 * np.finfo(np.float64).eps * (math.log2(max(fft_size, 2)) + 1) * xnorm * kernel_l1
    if not bound < 0.25:
        raise InexactError(
            f"a float64 FFT cannot guarantee the exact integer result for these values "
            f"(rounding-error bound {bound:.3g} >= 0.25)")


def transform_seconds(shape: tuple[int, ...], count: float, dtype: np.dtype, costs: dict,
                      real: bool) -> float:
    """Predicted time of ``count`` transforms of ``shape`` (real-space dtype ``dtype``)."""
    n = math.prod(shape)
    if n <= 1:
        return 0.0
    return count * fft_rate(costs, dtype, n) * n * log_factor(shape, costs["prime_weight"], real)


#: The last :func:`fft_lengths` asked for: (problem, costs, answer). The fft and overlap
#: estimates of one planning both need it.
_LAST_LENGTHS: tuple[object, object, tuple[tuple[int, ...], tuple[int, ...]]] = (None, None, ((), ()))


def fft_lengths(problem: Problem, costs: dict) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(minimum lengths, chosen fast lengths) of the whole-array transform."""
    global _LAST_LENGTHS
    last_problem, last_costs, answer = _LAST_LENGTHS
    if last_problem is problem and last_costs is costs:
        return answer
    real = fft_dtypes(problem.compute_dtype)[2]
    mins = []
    for n, k, length, (lo, hi) in zip(problem.n, problem.k, problem.out_len, problem.pad):
        if problem.zero_fill:  # x placed at the origin; see docs/planner.md for the bound
            mins.append(max(n + lo, k - 1 - lo + length, k))
        else:
            mins.append(n + lo + hi)
    w = costs["prime_weight"]
    last = len(mins) - 1
    chosen = tuple([best_size(m, w, real and i == last) for i, m in enumerate(mins)])
    answer = tuple(mins), chosen
    _LAST_LENGTHS = (problem, costs, answer)
    return answer


def fft_threads(size: int, costs: dict, workers: int) -> int:
    """FFTW threads for a transform of ``size`` points.

    FFTW's threads meet at a barrier after each pass; on a busy machine a descheduled
    thread stalls them all, so only transforms large enough to amortise that use them.
    """
    return workers if size >= costs["fft_threads_min_size"] else 1


def _norm_extended(xb: np.ndarray, problem: Problem) -> float:
    """The 2-norm of the extended input (what the transform sees), in float64."""
    data = xb if problem.zero_fill else extend(xb, problem.pad, problem.boundary, problem.cval)
    return norm2(data)


def _split_threads(fft_shape: tuple[int, ...], item: float, batch: int, workers: int) -> int:
    """Threads for fftconv's own split of a whole-array job (slabs or batch items): one
    when there is nothing to split or too little work to wake the pool for."""
    if batch == 1 and (len(fft_shape) < 2 or not _slabs.available()):
        return 1
    return workers if item * batch > _PARALLEL_MIN_SECONDS else 1


class WholeFFT:
    """Pad to a fast size, multiply spectra, invert; crop the valid region.

    Real inputs use real transforms. With a zero boundary the input is placed at the
    origin unpadded (the transform only needs ``max(n + lo, k - 1 - lo + out)`` samples per
    axis); other boundaries extend the input first. The kernel spectrum is computed at plan
    time; FFTW plans and buffers are kept per calling thread.
    """

    name: ClassVar[str] = "fft"

    def applicable(self, problem: Problem) -> str | None:
        return finite_only(problem)

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        rdt, cdt, real = fft_dtypes(problem.compute_dtype)
        _, fshape = fft_lengths(problem, costs)
        nf = math.prod(fshape)
        b, bk = problem.batch, problem.kernel_batch
        one = transform_seconds(fshape, 1, rdt, costs, real)  # one transform
        item = 3 * one  # one signal's three (as build() counts them)
        threads = _split_threads(fshape, item, b, workers)
        fftw = 1 if threads > 1 else fft_threads(nf, costs, workers)
        speed = threads_speedup(costs, "fft", max(threads, fftw))
        t = (2 * b * one / speed + bk * one / threads_speedup(costs, "fft", fftw)
             + (3 * costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0))
        buf = nf * (2 * rdt.itemsize + cdt.itemsize // (2 if real else 1))
        ext = 0 if problem.zero_fill else b * math.prod(problem.extended) * rdt.itemsize
        spec = bk * nf * cdt.itemsize // (2 if real else 1)
        room = min(CHUNK_BYTES, problem.max_memory - ext - spec)
        chunk = max(1, min(b, room // max(buf, 1)))
        # the input copy, two buffer passes, and the finiteness check of the result
        passes = ((3 * b * nf / speed + b * math.prod(problem.out_len)) * rdt.itemsize + ext) \
            * costs["memory_per_byte"]
        return Estimate(seconds=costs["overhead"]["fft"] + t + passes,
                        memory=chunk * buf + ext + spec, fft_shape=fshape,
                        note="x".join(map(str, fshape)) + (" real" if real else " complex"),
                        batch=chunk)

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        fshape = estimate.fft_shape
        assert fshape is not None
        compute = problem.compute_dtype
        nf = math.prod(fshape)
        costs = machine_costs()
        B = problem.batch
        rdt, _, real = fft_dtypes(compute)
        # single-thread seconds of one signal's three transforms: how finely to split
        item = 3 * transform_seconds(fshape, 1, rdt, costs, real)
        threads = _split_threads(fshape, item, B, workers)
        # One signal (or a few) is split into slabs of row and column passes when that
        # buys parallelism or bounds a long transform; a single thread on a short one
        # keeps FFTW's own multi-dimensional plan.
        slabs = (len(fshape) >= 2 and _slabs.available() and B < 2 * threads + 1
                 and (threads > 1 or item > 3 * PIECE_SECONDS))
        fftw_threads = 1 if slabs or B > 1 else fft_threads(nf, costs, workers)
        spec_threads = fftw_threads  # the kernel's transform (a single one)
        exact = problem.is_exact_integer
        if problem.zero_fill:
            start = tuple(k - 1 - lo for k, (lo, _) in zip(problem.k, problem.pad))
        else:
            start = tuple(k - 1 for k in problem.k)
        pad, boundary, cval = problem.pad, problem.boundary, problem.cval
        zero_fill = problem.zero_fill
        data = problem.n if zero_fill else problem.extended
        scratch = (self._slab_scratch(problem, fshape, start, data, item, threads, effort)
                   if slabs else None)
        short = threads > 1 and item <= 3 * PIECE_SECONDS
        if slabs and short:
            # On a busy machine the job gets one thread: then FFTW's own multi-dimensional
            # plan (buffers made on first need) beats the slab passes run one by one.
            fftw_threads = 1
        # chunks of signals are the pieces: bounded in time, several per thread
        chunk = max(1, min(estimate.batch, int(PIECE_SECONDS / max(item, 1e-9))))
        if threads > 1:  # batch items are the pieces: every thread gets several
            chunk = max(1, min(chunk, B // (PIECES_PER_THREAD * threads)))
        crop = (slice(None),) + tuple(slice(s, s + n) for s, n in zip(start, problem.out_len))
        local = threading.local()

        def pair(c: int) -> TransformPair:
            pairs = local.__dict__.setdefault("pairs", {})
            if c not in pairs:
                pairs[c] = TransformPair(c, fshape, compute, fftw_threads, effort)
            return pairs[c]

        region = (slice(None),) + tuple(slice(0, s) for s in data)

        def run(xb: np.ndarray, out: np.ndarray, b0: int, c: int, scaled: bool,
                spec: np.ndarray) -> None:
            tp = pair(c)
            if zero_fill:
                tp.inbuf[region] = xb[b0:b0 + c]
            else:
                extend_into(xb[b0:b0 + c], pad, boundary, cval, tp.inbuf[region])
            e = exponent(peak(tp.inbuf[region])) if scaled else 0
            scale(tp.inbuf[region], -e)
            s = tp.forward()
            np.multiply(s, spec if spec.shape[0] == 1 else spec[b0:b0 + c], out=s)
            res = tp.inverse()[crop]
            if exact:
                np.rint(res, out=res)
            scale(res, e)
            out[b0:b0 + c] = res

        def batched(xb: np.ndarray, out: np.ndarray, spec: np.ndarray, kl1: float) -> None:
            if exact:
                check_exact(_norm_extended(xb, problem), kl1, nf)

            nb = xb.shape[0]  # the plan's batch, or a part of it (non-finite handling)

            def part(b0: int) -> None:
                c = min(chunk, nb - b0)
                with np.errstate(over="ignore", invalid="ignore"):
                    run(xb, out, b0, c, False, spec)
                    # finite input (the plan checked), non-finite result: the transform
                    # overflowed; again at a peak of about 1 (see _numerics/scaling.py)
                    if not exact and not all_finite(out[b0:b0 + c]):
                        run(xb, out, b0, c, True, spec)

            parallel_map(part, range(0, nb, chunk), threads)

        def bind(k: np.ndarray) -> Executor:
            """The executor for the values of ``k`` (of the shape and dtype planned for):
            its spectrum is new, the layout, scratch and transforms are this plan's."""
            spec = kernel_spectrum(k, fshape, compute, spec_threads, effort, threads)
            kl1 = norm1(k) if exact else 0.0

            def execute(xb: np.ndarray, out: np.ndarray) -> None:
                batched(xb, out, spec, kl1)

            chosen: Executor = execute
            if scratch is not None:
                slab_execute = self._slab_executor(problem, scratch, spec, fshape, start, data,
                                                   threads, kl1 if exact else None)
                chosen = slab_execute
                if short:
                    def either(xb: np.ndarray, out: np.ndarray) -> None:
                        (slab_execute if free_threads(threads) > 1 else execute)(xb, out)

                    chosen = either
            return offer(chosen, with_kernel=bind)

        return bind(kernel)

    @staticmethod
    def _slab_scratch(problem: Problem, fft_shape: tuple[int, ...], start: tuple[int, ...],
                      data: tuple[int, ...], item: float, threads: int,
                      effort: str) -> _slabs.SlabScratch:
        """The slab passes' buffers and transforms, one set per calling thread."""
        keep = (start[0], start[0] + problem.out_len[0])
        pieces = piece_count(item / 3, threads, 1 << 12)
        return _slabs.SlabScratch(fft_shape, problem.compute_dtype, data[0], keep, pieces,
                                  effort)

    @staticmethod
    def _slab_executor(problem: Problem, scratch: _slabs.SlabScratch, spec: np.ndarray,
                       fft_shape: tuple[int, ...], start: tuple[int, ...],
                       data: tuple[int, ...], threads: int, kl1: float | None) -> Executor:
        """Signal by signal, each as slabs of row and column passes on ``threads``."""
        length = problem.out_len
        rest = tuple(slice(s, s + n) for s, n in zip(start[1:], length[1:]))
        inner = tuple(slice(0, s) for s in data[1:])
        zero_fill = problem.zero_fill
        pad, boundary, cval = problem.pad, problem.boundary, problem.cval
        exact = kl1 is not None
        nf = math.prod(fft_shape)

        def execute(xb: np.ndarray, out: np.ndarray) -> None:
            if exact:
                check_exact(_norm_extended(xb, problem), kl1 or 0.0, nf)
            conv = scratch.get()

            def one(b: int, e: int) -> None:
                """Signal ``b``, its input scaled by ``2**-e`` and its result by ``2**e``."""
                x = xb[b]
                y = out[b]
                fill: Callable[[int, int, np.ndarray], None] | None = None
                if zero_fill:
                    def fill_rows(r0: int, r1: int, rows: np.ndarray, x: np.ndarray = x) -> None:
                        rows[(slice(None), *inner)] = x[r0:r1]
                        scale(rows[(slice(None), *inner)], -e)

                    fill = fill_rows
                else:  # the slab passes read the extended input from the buffer itself
                    region = conv.inbuf[tuple(slice(0, s) for s in data)]
                    extend_into(xb[b:b + 1], pad, boundary, cval, region[None])
                    scale(region, -e)

                def emit(r0: int, r1: int, rows: np.ndarray, y: np.ndarray = y) -> None:
                    res = rows[(slice(None), *rest)]
                    if exact:
                        np.rint(res, out=res)
                    scale(res, e)
                    y[r0:r1] = res

                conv.run(fill, spec[b if spec.shape[0] > 1 else 0], emit, threads)

            for b in range(xb.shape[0]):
                with np.errstate(over="ignore", invalid="ignore"):
                    one(b, 0)
                    # finite input, non-finite result: the transform overflowed; again at
                    # a peak of about 1 (see _numerics/scaling.py)
                    if not exact and not all_finite(out[b]):
                        edge = abs(cval) if boundary == "constant" else 0.0
                        one(b, exponent(max(peak(xb[b]), edge)))

        return execute


register(WholeFFT())
