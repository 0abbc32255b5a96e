"""``overlap``: blocked overlap-save FFT with memory bounded by the block."""

from __future__ import annotations

import itertools
import math
import threading
from typing import ClassVar

import numpy as np

from .._boundary import gather, index_map
from .._costs import threads_speedup
from .._fft import TransformPair, fft_dtypes, kernel_spectrum
from .._fftsize import best_size
from .._problem import Problem
from .._threads import parallel_map
from . import Estimate, Executor, register
from .fft import check_exact, fft_lengths, finite_only, transform_seconds

__all__ = ["OverlapSave"]

#: Block edge lengths tried by the planner (then rounded to fast sizes per axis).
_EDGES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536, 262144)


def _blocks(problem: Problem, fb: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(output block lengths, block counts) for transform lengths ``fb``."""
    lb = tuple(max(1, min(f - k + 1, n)) for f, k, n in zip(fb, problem.k, problem.out_len))
    counts = tuple(-(-n // b) if n else 0 for n, b in zip(problem.out_len, lb))
    return lb, counts


class OverlapSave:
    """Overlap-save: output blocks of ``fb - k + 1`` samples from transforms of length ``fb``.

    Each block gathers its slice of the extended input straight from ``x`` (boundary
    applied by index maps), so scratch memory is a few blocks, whatever the image size.
    The kernel spectrum at the block size is computed once. Blocks run in parallel on
    ``workers`` threads (FFTW and numpy release the GIL), each with single-threaded FFTW.
    """

    name: ClassVar[str] = "overlap"

    def applicable(self, problem: Problem) -> str | None:
        return finite_only(problem)

    def _cost(self, problem: Problem, fb: tuple[int, ...], costs: dict,
              workers: int) -> tuple[float, int]:
        rdt, cdt, real = fft_dtypes(problem.compute_dtype)
        _, counts = _blocks(problem, fb)
        nblocks = problem.batch * math.prod(counts)
        nf = math.prod(fb)
        par = min(workers, max(nblocks, 1))
        per_block = (transform_seconds(fb, 2, rdt, costs, real)
                     + 4 * nf * rdt.itemsize * costs["memory_per_byte"]
                     + costs["overhead"]["block"])
        seconds = (costs["overhead"]["fft"]
                   + transform_seconds(fb, problem.kernel_batch, rdt, costs, real)
                   + nblocks * per_block / threads_speedup(costs, "overlap", par))
        buf = nf * (2 * rdt.itemsize + cdt.itemsize // (2 if real else 1))
        spec = problem.kernel_batch * nf * cdt.itemsize // (2 if real else 1)
        return seconds, par * buf + spec

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        _, real = fft_dtypes(problem.compute_dtype)[1:]
        w = costs["prime_weight"]
        whole = fft_lengths(problem, costs)[1]
        best = None
        for edge in _EDGES:
            fb = tuple(min(best_size(max(edge, 2 * k - 1), w, real and i == len(whole) - 1),
                           best_size(k - 1 + n, w, real and i == len(whole) - 1))
                       for i, (k, n) in enumerate(zip(problem.k, problem.out_len)))
            seconds, memory = self._cost(problem, fb, costs, workers)
            fits = memory <= problem.max_memory
            if best is None or (fits, -seconds) > (best[3], -best[0]):
                best = (seconds, memory, fb, fits)
            if all(f >= m for f, m in zip(fb, whole)):
                break
        assert best is not None
        seconds, memory, fb, _ = best
        lb, counts = _blocks(problem, fb)
        return Estimate(seconds=seconds, memory=memory, fft_shape=fb, block_shape=lb,
                        note=f"{math.prod(counts)} block{'s' if math.prod(counts) != 1 else ''} of "
                        + "x".join(map(str, lb))
                        + " via " + "x".join(map(str, fb)))

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        fb, lb = estimate.fft_shape, estimate.block_shape
        assert fb is not None and lb is not None
        compute = problem.compute_dtype
        spec = kernel_spectrum(kernel, fb, compute, 1, effort)
        exact = problem.is_exact_integer
        kl1 = float(np.abs(kernel).sum()) if exact else 0.0
        k, out_len, cval = problem.k, problem.out_len, problem.cval
        lo = tuple(p[0] for p in problem.pad)
        maps = [index_map(n, p0, p1, problem.boundary) for n, (p0, p1) in zip(problem.n, problem.pad)]
        ext = problem.extended
        counts = _blocks(problem, fb)[1]
        local = threading.local()

        def run_block(xb: np.ndarray, out: np.ndarray, b: int, idx: tuple[int, ...]) -> None:
            tp = getattr(local, "pair", None)
            if tp is None:
                tp = local.pair = TransformPair(1, fb, compute, 1, effort)
            o = tuple(i * s for i, s in zip(idx, lb))
            n_out = tuple(min(s, L - oi) for s, L, oi in zip(lb, out_len, o))
            size = tuple(min(f, e - oi) for f, e, oi in zip(fb, ext, o))
            if size != fb:
                tp.inbuf[...] = 0
            gather(xb, b, maps, lo, o, size, cval, tp.inbuf[0])
            s = tp.forward()
            np.multiply(s, spec[b if spec.shape[0] > 1 else 0], out=s)
            res = tp.inverse()[(0,) + tuple(slice(kk - 1, kk - 1 + m) for kk, m in zip(k, n_out))]
            if exact:
                res = np.rint(res)
            out[(b,) + tuple(slice(oi, oi + m) for oi, m in zip(o, n_out))] = res

        def execute(xb: np.ndarray, out: np.ndarray) -> None:
            if exact:
                peak = max(float(np.abs(xb).max(initial=0)), abs(cval))
                check_exact(peak * math.sqrt(math.prod(fb)), kl1, math.prod(fb))
            tasks = [(b, idx) for b in range(xb.shape[0])
                     for idx in itertools.product(*(range(c) for c in counts))]
            parallel_map(lambda task: run_block(xb, out, *task), tasks, workers)

        return execute


register(OverlapSave())
