"""Cost model of the partitionings: seconds per block, on average and at the worst block.

Built on the core's machine constants (``fftconv calibrate``): the FFT rate per
``n log2 n`` and the multiply-add rates, plus the fixed Python-side cost of running a
stage and of one ``process`` call, measured for this engine (below). The planner takes
the cheapest mean cost per block; the worst block (every stage's chunk completing at
once) is reported, since it bounds what a real-time caller must absorb.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._core import direct_rate, fft_dtypes, fft_rate, machine_costs
from ._partition import Partitioning, Segment, direct, nonuniform, uniform

__all__ = ["CALL_SECONDS", "STAGE_SECONDS", "Estimate", "candidates", "estimate"]

#: Fixed cost of running one FFT stage's chunk (ring copy, two transforms' dispatch,
#: delay-line product, accumulate), and of one internal block of ``process``; measured
#: with benchmarks/bench_stream.py on the reference 2-core machine.
STAGE_SECONDS = 6e-6
CALL_SECONDS = 4e-6
#: The time-domain segment (a window copied out of the ring, then a tap-by-tap update):
#: relative to the core's compiled direct sum it runs this much slower per multiply-add.
DIRECT_SLOWDOWN = 4.0
#: Direct segments are cheap only when short: partitionings whose direct part would
#: exceed this many taps are not offered by ``'auto'`` (an explicit method still is).
DIRECT_AUTO_MAX = 4096


@dataclass(frozen=True, slots=True)
class Estimate:
    """Predicted seconds per block (``mean``) and at the worst block (``worst``)."""

    mean: float
    worst: float
    memory: int


def _segment_chunk(seg: Segment, channels: int, dtype: np.dtype, costs: dict) -> float:
    """Seconds for one chunk of an FFT segment."""
    rdt, cdt, real = fft_dtypes(dtype)
    n = 2 * seg.size
    bins = n // 2 + 1 if real else n
    fft = fft_rate(costs, rdt if real else cdt, n) * n * math.log2(n)
    mac = direct_rate(costs, cdt) * bins * seg.count
    return STAGE_SECONDS + channels * (2 * fft + mac)


def estimate(p: Partitioning, channels: int, dtype: np.dtype) -> Estimate:
    """The cost model's prediction for partitioning ``p``."""
    costs = machine_costs()
    dtype = np.dtype(dtype)
    b = p.block_size
    mean = worst = CALL_SECONDS
    memory = 0
    item = dtype.itemsize
    for seg in p.segments:
        if seg.kind == "direct":
            t = b * seg.size * channels * direct_rate(costs, dtype) * DIRECT_SLOWDOWN
            mean += t
            worst += t
            memory += seg.size * item
        else:
            chunk = _segment_chunk(seg, channels, dtype, costs)
            mean += chunk * b / seg.size
            worst += chunk * max(1, -(-b // seg.size))
            bins = seg.size + 1
            memory += 2 * channels * seg.count * bins * 2 * item + 6 * seg.size * channels * item
    return Estimate(mean, worst, memory)


def candidates(k: int, block: int, latency: int, channels: int,
               dtype: np.dtype) -> list[tuple[Partitioning, Estimate]]:
    """Each method's best partitioning and its estimate: ``direct``, ``uniform``, and
    ``nonuniform`` with the cheapest largest partition size."""
    out = []
    for p in (direct(k, block, latency), uniform(k, block, latency)):
        out.append((p, estimate(p, channels, dtype)))
    best = None
    # At least one doubling, so that 'nonuniform' differs from 'uniform' when it can.
    largest = 2 * block if k > 2 * block else block
    while True:
        p = nonuniform(k, block, latency, largest)
        e = estimate(p, channels, dtype)
        if best is None or e.mean < best[1].mean:
            best = (p, e)
        if largest >= k:
            break
        largest *= 2
    out.append(best)
    return out
