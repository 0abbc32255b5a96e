"""``direct``: the compiled direct sum, reading the input in place (never extending it)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._machine.costs import direct_rate, threads_speedup
from .._machine.threads import PARALLEL_MIN_MACS, threads_for
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["BLOCKED_DTYPES", "PARALLEL_MIN_MACS", "Direct", "blocked_seconds", "threads_for"]

#: Compute dtypes of the register-blocked sum (kept here so planning never loads numba).
BLOCKED_DTYPES = ("float32", "float64", "int64", "uint64")

class Direct:
    """Sum ``k[j] * x~[i + j]`` directly: exact for integers, any dtype, any boundary.

    A numba kernel runs the valid correlation of the extended input in fused row-axpy
    form, parallel over output rows and column chunks; the extension is never built (the
    boundary is followed through row and column index maps).
    """

    name: ClassVar[str] = "direct"

    def applicable(self, problem: Problem) -> str | None:
        return None

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        elements = problem.batch * (math.prod(problem.n) + math.prod(problem.out_len))
        traffic = elements * problem.compute_dtype.itemsize
        fixed = costs["overhead"]["direct"] + traffic * costs["memory_per_byte"]
        threads = threads_for(problem.macs, elements, workers)
        seconds = (fixed + (costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0)
                   + problem.macs * direct_rate(costs, problem.compute_dtype)
                   / threads_speedup(costs, "direct", threads))
        note = f"{problem.macs:.3g} multiply-adds"
        blocked = blocked_seconds(problem, costs, workers)
        if blocked is not None and blocked + fixed < seconds:
            dense = problem.batch * math.prod(problem.out_len) * math.prod(problem.k)
            return Estimate(seconds=blocked + fixed, memory=0, extra={"blocked": True},
                            note=f"{dense:.3g} multiply-adds, register-blocked")
        return Estimate(seconds=seconds, memory=0, note=note)

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        if estimate.extra.get("blocked"):
            from ._small_kernel import prepare as blocked

            return blocked((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                           workers, problem.pad, problem.boundary, problem.cval,
                           x_dtype=problem.x_dtype)
        from ._direct_kernel import prepare

        return prepare((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                       workers, problem.pad, problem.boundary, problem.cval)


def blocked_seconds(problem: Problem, costs: dict, workers: int) -> float | None:
    """Compute time of the register-blocked sum (:mod:`._small_kernel`), or None where it
    does not serve: 1-d and 2-d problems, one kernel of at most 9 x 9 taps, real or
    integer compute dtypes. It multiplies every tap, zero or not."""
    k = problem.k
    if (problem.ndim not in (1, 2) or max(k) > 9 or problem.kernel_batched
            or problem.compute_dtype.name not in BLOCKED_DTYPES or min(problem.n) < 1):
        return None
    rate = costs.get("direct_blocked_per_mac", {}).get(problem.compute_dtype.name)
    if rate is None:
        return None
    outputs = problem.batch * math.prod(problem.out_len)
    macs = outputs * math.prod(k)
    elements = problem.batch * math.prod(problem.n) + outputs
    threads = threads_for(macs, elements, workers)
    return ((costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0)
            + macs * rate / threads_speedup(costs, "direct", threads))


register(Direct())
