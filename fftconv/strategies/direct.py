"""``direct``: the compiled direct sum over the explicitly extended input."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._boundary import extend
from .._costs import direct_rate, threads_speedup
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["Direct"]


class Direct:
    """Sum ``k[j] * x~[i + j]`` directly: exact for integers, any dtype, any boundary.

    The input is extended once (``numpy.pad``), then a numba kernel runs the valid
    correlation in row-axpy form, parallel over output rows and column chunks.
    """

    name: ClassVar[str] = "direct"

    def applicable(self, problem: Problem) -> str | None:
        return None

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        ext = problem.batch * math.prod(problem.extended) * problem.compute_dtype.itemsize
        seconds = (costs["overhead"]["direct"]
                   + problem.macs * direct_rate(costs, problem.compute_dtype)
                   / threads_speedup(costs, "direct", workers)
                   + ext * costs["memory_per_byte"])
        return Estimate(seconds=seconds, memory=0 if problem.pad_is_zero else ext,
                        note=f"{problem.macs:.3g} multiply-adds")

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        from ._direct_kernel import prepare

        pad, boundary, cval = problem.pad, problem.boundary, problem.cval
        run = prepare((problem.batch, *problem.extended), kernel,
                      (problem.batch, *problem.out_len), workers)

        def execute(xb: np.ndarray, out: np.ndarray) -> None:
            run(extend(xb, pad, boundary, cval), out)

        return execute


register(Direct())
