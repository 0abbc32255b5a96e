"""``direct``: the compiled direct sum, reading the input in place (never extending it)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._machine.costs import direct_rate, threads_speedup
from .._machine.threads import PARALLEL_MIN_MACS, threads_for
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["Direct", "PARALLEL_MIN_MACS", "threads_for"]

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
        threads = threads_for(problem.macs, elements, workers)
        seconds = (costs["overhead"]["direct"]
                   + (costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0)
                   + problem.macs * direct_rate(costs, problem.compute_dtype)
                   / threads_speedup(costs, "direct", threads)
                   + traffic * costs["memory_per_byte"])
        return Estimate(seconds=seconds, memory=0,
                        note=f"{problem.macs:.3g} multiply-adds")

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        from ._direct_kernel import prepare

        return prepare((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                       workers, problem.pad, problem.boundary, problem.cval)


register(Direct())
