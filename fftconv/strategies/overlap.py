"""``overlap``: blocked overlap-save FFT with memory bounded by the block."""

from __future__ import annotations

import itertools
import math
import threading
from typing import ClassVar

import numpy as np

from .._machine import progress
from .._machine import slabs as _slabs
from .._machine.costs import fft_rate, machine_costs
from .._machine.fft import TransformPair, kernel_spectrum
from .._machine.threads import (
    PIECE_SECONDS,
    PIECES_PER_THREAD,
    parallel_map,
    piece_count,
)
from .._numerics import blockhook as _blockhook
from .._numerics.boundary import gather, index_map
from .._numerics.dtypes import fft_dtypes
from .._numerics.fftsize import best_size, capped_lengths, log_factor
from .._numerics.norm import norm1
from .._numerics.scaling import all_finite, exponent, peak, scale
from .._problem import Problem
from . import Estimate, Executor, offer, register
from .fft import check_exact, fft_lengths, finite_only, transform_seconds

__all__ = ["OverlapSave"]

#: Below this predicted time, blocks run in the calling thread only.
_PARALLEL_MIN_SECONDS = 2e-3

#: Points per batched block transform (amortises the per-block Python work).
_BATCH_POINTS = 1 << 16

#: Block edge lengths tried by the planner (then rounded to fast sizes per axis).
_EDGES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536, 262144)


def _blocks(problem: Problem, fft_block: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(output block lengths, block counts) for transform lengths ``fft_block``."""
    out_block = tuple([max(1, min(f - k + 1, n)) for f, k, n in zip(fft_block, problem.k, problem.out_len)])
    counts = tuple([-(-n // b) if n else 0 for n, b in zip(problem.out_len, out_block)])
    return out_block, counts


class _Prices:
    """The cost model of one problem's blocks. What does not depend on the block size is
    found once: the planner prices up to a dozen sizes per problem."""

    def __init__(self, problem: Problem, costs: dict) -> None:
        self.problem, self.costs = problem, costs
        self.dtypes = fft_dtypes(problem.compute_dtype)
        self.kernels = problem.kernel_batch
        self.overhead = costs["overhead"]
        self.parallel = self.overhead.get("parallel", 0.0)  # waking the pool
        self.efficiency = costs["parallel_efficiency"]["overlap"]  # see threads_speedup

    def cost(self, fft_block: tuple[int, ...], factor: float,
             workers: int) -> tuple[float, int, int, int]:
        """(seconds, scratch bytes, blocks per batched transform, threads) for transform
        size ``fft_block`` (``factor``: its :func:`~fftconv._numerics.fftsize.log_factor`):
        on ``workers`` threads, or on one when the job on one thread is predicted shorter
        than :data:`_PARALLEL_MIN_SECONDS`.

        Priced a dozen times per problem, so in plain arithmetic: conditional expressions
        for ``min`` and ``max``, and inline the block counts (:func:`_blocks`), the
        transform's time (:func:`~fftconv.strategies.fft.transform_seconds`) and the
        threads' speed-up (:func:`~fftconv._machine.costs.threads_speedup`).
        """
        problem, costs, kernels, overhead = self.problem, self.costs, self.kernels, self.overhead
        rdt, cdt, real = self.dtypes
        nblocks, nf = problem.batch, 1
        for f, k, n in zip(fft_block, problem.k, problem.out_len):
            b = f - k + 1
            b = n if b > n else b
            nblocks *= -(-n // (b if b > 1 else 1))
            nf *= f
        buf = nf * (2 * rdt.itemsize + cdt.itemsize // (2 if real else 1))
        spec = kernels * nf * cdt.itemsize // (2 if real else 1)
        one = fft_rate(costs, rdt, nf) * nf * factor if nf > 1 else 0.0  # one transform
        per_block = (2 * one
                     # four buffer passes and the finiteness check of the result
                     + 5 * nf * rdt.itemsize * costs["memory_per_byte"] + overhead["block"])
        fixed = overhead["fft"] + kernels * one
        most = nblocks if nblocks > 1 else 1  # blocks that can run at once
        per_batch = _BATCH_POINTS // nf
        budget = problem.max_memory - spec

        # On one thread; then on ``workers``, unless one is all it may use or the job is
        # too short to wake the pool for.
        for threads in (1, workers):
            par = threads if threads < most else most
            # Blocks transformed together: about 2^16 points per batch, and several batches
            # per thread, so that a thread the OS deschedules holds back little.
            share = nblocks if threads <= 1 else -(-nblocks // (PIECES_PER_THREAD * threads))
            batch = per_batch if per_batch < share else share
            room = budget // (par * buf)
            batch = room if room < batch else batch
            batch = batch if batch > 1 else 1
            seconds = (fixed + (self.parallel if par > 1 else 0.0)
                       + (nblocks * per_block + -(-nblocks // batch) * overhead["call"])
                       / (1.0 + (par - 1) * self.efficiency if par > 1 else 1.0))
            if workers <= 1 or seconds <= _PARALLEL_MIN_SECONDS:
                break
        return seconds, par * batch * buf + spec, batch, threads


class OverlapSave:
    """Overlap-save: output blocks of ``fft_block - k + 1`` samples from transforms of length ``fft_block``.

    Each block gathers its slice of the extended input straight from ``x`` (boundary
    applied by index maps), so scratch memory is a few blocks, whatever the image size.
    The kernel spectrum at the block size is computed once. Blocks run in parallel on
    ``workers`` threads (FFTW and numpy release the GIL), each with single-threaded FFTW.
    """

    name: ClassVar[str] = "overlap"

    def applicable(self, problem: Problem) -> str | None:
        return finite_only(problem)

    def _threads(self, problem: Problem, fft_block: tuple[int, ...], costs: dict,
                 workers: int) -> int:
        """Threads for the blocks: one when the job is too short to wake the pool for
        (the estimate and the executor agree on it)."""
        factor = log_factor(fft_block, costs["prime_weight"], fft_dtypes(problem.compute_dtype)[2])
        return _Prices(problem, costs).cost(fft_block, factor, workers)[3]

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        prices = _Prices(problem, costs)
        real = prices.dtypes[2]
        w = costs["prime_weight"]
        whole = fft_lengths(problem, costs)[1]
        last = len(whole) - 1
        # Per axis and edge: the fast length that holds the edge and the kernel, at most the
        # one that holds the whole output in one block (the largest worth trying); with
        # each length's term of the transform's log factor.
        lengths, terms = zip(*[capped_lengths(_EDGES, 2 * k - 1,
                                              best_size(k - 1 + n, w, real and i == last),
                                              w, real and i == last)
                               for i, (k, n) in enumerate(zip(problem.k, problem.out_len))])
        best = tried = None
        for fft_block, factor_terms in zip(zip(*lengths), zip(*terms)):
            if fft_block == tried:  # the last edge's transform (a long kernel): priced, and
                continue  # neither better than itself nor large enough to stop
            tried = fft_block
            seconds, memory, batch, _ = prices.cost(fft_block, sum(factor_terms), workers)
            fits = memory <= problem.max_memory
            if best is None or (fits, -seconds) > (best[3], -best[0]):
                best = (seconds, memory, fft_block, fits, batch)
            for f, m in zip(fft_block, whole):
                if f < m:
                    break
            else:  # one block holds the whole array
                break
        assert best is not None
        seconds, memory, fft_block, _, batch = best
        out_block, counts = _blocks(problem, fft_block)
        count = math.prod(counts)
        return Estimate(seconds=seconds, memory=memory, fft_shape=fft_block, block_shape=out_block,
                        batch=batch,
                        note=f"{count} block{'s' if count != 1 else ''} of "
                        + "x".join(map(str, out_block)) + " via " + "x".join(map(str, fft_block)))

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        fft_block, out_block = estimate.fft_shape, estimate.block_shape
        assert fft_block is not None and out_block is not None
        compute = problem.compute_dtype
        exact = problem.is_exact_integer
        k, out_len, cval = problem.k, problem.out_len, problem.cval
        boundary = problem.boundary
        lo = tuple(p[0] for p in problem.pad)
        maps = [index_map(n, p0, p1, problem.boundary) for n, (p0, p1) in zip(problem.n, problem.pad)]
        ext = problem.extended
        counts = _blocks(problem, fft_block)[1]
        local = threading.local()
        batch = estimate.batch
        nf = math.prod(fft_block)
        threads = self._threads(problem, fft_block, machine_costs(), workers)

        def pair(c: int, role: str = "data") -> TransformPair:
            """This thread's transforms of ``c`` blocks (``role``: the data, or the weight
            signals of the dense omit: a pair of their own, so that each transform runs
            on as much data as the plain convolution's, in cache alike)."""
            pairs = local.__dict__.setdefault("pairs", {})
            if (c, role) not in pairs:
                pairs[c, role] = TransformPair(c, fft_block, compute, 1, effort)
            return pairs[c, role]

        def transform(tp: TransformPair, chunk: list[tuple[int, tuple[int, ...]]],
                      spec: np.ndarray) -> np.ndarray:
            s = tp.forward()
            if spec.shape[0] > 1:
                np.multiply(s, spec[[b for b, _ in chunk]], out=s)
            else:
                np.multiply(s, spec, out=s)
            return tp.inverse()

        def run_chunk(xb: np.ndarray, out: np.ndarray, chunk: list[tuple[int, tuple[int, ...]]],
                      spec: np.ndarray, hook: _blockhook.BlockHook | None = None) -> None:
            """Gather ``len(chunk)`` blocks, transform them as one batch, scatter the results
            (with a ``hook``, also the blocks' weight signals; see ``_numerics/blockhook.py``)."""
            nb = len(chunk)
            tp = pair(nb)
            where = []
            for i, (b, idx) in enumerate(chunk):
                o = tuple(j * s for j, s in zip(idx, out_block))
                size = tuple(min(f, e - oi) for f, e, oi in zip(fft_block, ext, o))
                if size != fft_block:
                    tp.inbuf[i] = 0
                gather(xb, b, maps, lo, o, size, boundary, cval, tp.inbuf[i])
                where.append((b, o))
            wp = pair(nb, "weight") if hook is not None else None
            marks = hook.split(tp.inbuf, wp.inbuf) if hook is not None and wp is not None else None

            def result(tp: TransformPair, check: bool = True) -> np.ndarray:
                with np.errstate(over="ignore", invalid="ignore"):
                    res = transform(tp, chunk, spec)
                    if check and not exact and not all_finite(res):
                        # finite input (the plan checked), non-finite result: the transform
                        # overflowed; again at a peak of about 1 (see _numerics/scaling.py)
                        e = exponent(peak(tp.inbuf))
                        scale(tp.inbuf, -e)
                        res = transform(tp, chunk, spec)
                        scale(res, e)
                return res

            res = result(tp)
            wres = res
            if hook is not None and wp is not None:  # a weight overflows only if it can
                wres = result(wp, hook.weight_may_overflow(nf, tp.inbuf.dtype))
            for i, (b, o) in enumerate(where):
                n_out = tuple(min(s_, L - oi) for s_, L, oi in zip(out_block, out_len, o))
                crop: tuple[int | slice, ...] = (i, *(slice(kk - 1, kk - 1 + m)
                                                       for kk, m in zip(k, n_out)))
                block = res[crop]
                target = (b,) + tuple(slice(oi, oi + m) for oi, m in zip(o, n_out))
                if hook is not None and marks is not None:
                    hook.finish(block, wres[crop], marks[i], out[target], target)
                    continue
                out[target] = np.rint(block) if exact else block

        # A block whose transforms run longer than a piece should is itself split into
        # slabs of row and column passes, block after block.
        rdt, _, real = fft_dtypes(compute)
        per_block = transform_seconds(fft_block, 2, rdt, machine_costs(), real)
        big = len(fft_block) >= 2 and _slabs.available() and per_block > PIECE_SECONDS
        keep = (k[0] - 1, k[0] - 1 + out_block[0])
        slab_blocks = (_slabs.SlabScratch(fft_block, compute, fft_block[0], keep,
                                          piece_count(per_block / 2, threads, 1 << 12), effort)
                       if big else None)

        def run_big(xb: np.ndarray, out: np.ndarray, b: int, idx: tuple[int, ...],
                    spec: np.ndarray) -> None:
            """One block as slabs of row and column passes on ``threads``."""
            assert slab_blocks is not None
            conv = slab_blocks.get()
            o = tuple(j * s for j, s in zip(idx, out_block))
            size = tuple(min(f, e - oi) for f, e, oi in zip(fft_block, ext, o))
            n_out = tuple(min(s_, L - oi) for s_, L, oi in zip(out_block, out_len, o))
            cols = tuple(slice(kk - 1, kk - 1 + m) for kk, m in zip(k[1:], n_out[1:]))
            whole: tuple[int | slice, ...] = (b, *(slice(oi, oi + m) for oi, m in zip(o, n_out)))

            def once(e: int) -> None:
                """The block, its input scaled by ``2**-e`` and its result by ``2**e``."""
                if size != fft_block:
                    conv.inbuf[...] = 0
                gather(xb, b, maps, lo, o, size, boundary, cval, conv.inbuf)
                scale(conv.inbuf, -e)

                def emit(r0: int, r1: int, rows: np.ndarray) -> None:
                    r1 = min(r1, n_out[0])
                    if r1 > r0:
                        block = rows[(slice(0, r1 - r0), *cols)]
                        scale(block, e)
                        target: tuple[int | slice, ...] = (
                            b, slice(o[0] + r0, o[0] + r1),
                            *(slice(oi, oi + m) for oi, m in zip(o[1:], n_out[1:])))
                        out[target] = np.rint(block) if exact else block

                conv.run(None, spec[b if spec.shape[0] > 1 else 0], emit, threads)

            with np.errstate(over="ignore", invalid="ignore"):
                once(0)
                # finite input, non-finite result: the transform overflowed; again at a
                # peak of about 1 (see _numerics/scaling.py)
                if not exact and not all_finite(out[whole]):
                    once(exponent(max(peak(xb[b]), abs(cval))))

        def blocks(xb: np.ndarray, out: np.ndarray, spec: np.ndarray, kl1: float) -> None:
            hook = _blockhook.current_hook()  # the dense omit, fused into the blocks
            if hook is not None:
                hook.supported = slab_blocks is None and spec.shape[0] == 1 and not exact
                if hook.probe or not hook.supported:
                    return
            if exact:
                top = max(float(np.abs(xb).max(initial=0)), abs(cval))
                check_exact(top * math.sqrt(nf), kl1, nf)
            tasks = [(b, idx) for b in range(xb.shape[0])
                     for idx in itertools.product(*(range(c) for c in counts))]
            if slab_blocks is not None:
                report = progress.current()
                for b, idx in tasks:
                    run_big(xb, out, b, idx, spec)
                    if report is not None:
                        report(1)
                return
            chunks = [tasks[i:i + batch] for i in range(0, len(tasks), batch)]
            report = progress.current()  # captured here: pool threads have no context

            def work(chunk: list[tuple[int, tuple[int, ...]]]) -> None:
                run_chunk(xb, out, chunk, spec, hook)
                if report is not None:
                    report(len(chunk))

            parallel_map(work, chunks, threads)

        def bind(k: np.ndarray) -> Executor:
            """The executor for the values of ``k`` (of the shape and dtype planned for):
            its spectrum is new, the layout, scratch and transforms are this plan's."""
            spec = kernel_spectrum(k, fft_block, compute, 1, effort)
            kl1 = norm1(k) if exact else 0.0

            def execute(xb: np.ndarray, out: np.ndarray) -> None:
                blocks(xb, out, spec, kl1)

            return offer(execute, with_kernel=bind)

        return bind(kernel)


register(OverlapSave())
