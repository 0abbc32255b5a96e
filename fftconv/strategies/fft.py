"""``fft``: one whole-array transform per signal (FFTW), kernel spectrum computed once."""

from __future__ import annotations

import math
import threading
from typing import ClassVar

import numpy as np

from .._numerics.boundary import extend, extend_into
from .._machine.costs import fft_rate, machine_costs, threads_speedup
from .._machine.fft import TransformPair, kernel_spectrum
from .._numerics.dtypes import fft_dtypes
from .._numerics.fftsize import best_size, log_factor
from .._errors import InexactError
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["WholeFFT", "InexactError", "check_exact", "finite_only", "transform_seconds"]

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
    # Relative cost per axis -> an effective log factor, scaled by the per-nlogn rate.
    return count * fft_rate(costs, dtype, n) * n * log_factor(shape, costs["prime_weight"], real)


def fft_lengths(problem: Problem, costs: dict) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(minimum lengths, chosen fast lengths) of the whole-array transform."""
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
    return tuple(mins), chosen


def fft_threads(size: int, costs: dict, workers: int) -> int:
    """FFTW threads for a transform of ``size`` points.

    FFTW's threads meet at a barrier after each pass; on a busy machine a descheduled
    thread stalls them all, so only transforms large enough to amortise that use them.
    """
    return workers if size >= costs["fft_threads_min_size"] else 1


def _norm_extended(xb: np.ndarray, problem: Problem) -> float:
    """The 2-norm of the extended input (what the transform sees), in float64."""
    data = xb if problem.zero_fill else extend(xb, problem.pad, problem.boundary, problem.cval)
    return float(np.linalg.norm(data.astype(np.float64).ravel()))


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
        speed = threads_speedup(costs, "fft", fft_threads(nf, costs, workers))
        b, bk = problem.batch, problem.kernel_batch
        t = transform_seconds(fshape, 2 * b + bk, rdt, costs, real) / speed
        buf = nf * (2 * rdt.itemsize + cdt.itemsize // (2 if real else 1))
        ext = 0 if problem.zero_fill else b * math.prod(problem.extended) * rdt.itemsize
        spec = bk * nf * cdt.itemsize // (2 if real else 1)
        room = min(CHUNK_BYTES, problem.max_memory - ext - spec)
        chunk = max(1, min(b, room // max(buf, 1)))
        passes = (3 * b * nf * rdt.itemsize + ext) * costs["memory_per_byte"]
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
        threads = fft_threads(nf, machine_costs(), workers)
        spec = kernel_spectrum(kernel, fshape, compute, threads, effort)
        chunk = estimate.batch
        exact = problem.is_exact_integer
        kl1 = float(np.abs(kernel).sum()) if exact else 0.0
        if problem.zero_fill:
            start = tuple(k - 1 - lo for k, (lo, _) in zip(problem.k, problem.pad))
        else:
            start = tuple(k - 1 for k in problem.k)
        crop = (slice(None),) + tuple(slice(s, s + n) for s, n in zip(start, problem.out_len))
        local = threading.local()
        pad, boundary, cval = problem.pad, problem.boundary, problem.cval
        zero_fill = problem.zero_fill

        def pair(c: int) -> TransformPair:
            pairs = local.__dict__.setdefault("pairs", {})
            if c not in pairs:
                pairs[c] = TransformPair(c, fshape, compute, threads, effort)
            return pairs[c]

        region = (slice(None),) + tuple(
            slice(0, s) for s in (problem.n if zero_fill else problem.extended))

        def execute(xb: np.ndarray, out: np.ndarray) -> None:
            if exact:
                check_exact(_norm_extended(xb, problem), kl1, nf)
            B = xb.shape[0]
            for b0 in range(0, B, chunk):
                c = min(chunk, B - b0)
                tp = pair(c)
                if zero_fill:
                    tp.inbuf[region] = xb[b0:b0 + c]
                else:
                    extend_into(xb[b0:b0 + c], pad, boundary, cval, tp.inbuf[region])
                s = tp.forward()
                np.multiply(s, spec if spec.shape[0] == 1 else spec[b0:b0 + c], out=s)
                res = tp.inverse()[crop]
                if exact:
                    np.rint(res, out=res)
                out[b0:b0 + c] = res

        return execute


register(WholeFFT())
