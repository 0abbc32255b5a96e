"""``direct``: the compiled direct sum over the explicitly extended input."""

from __future__ import annotations

import math
import threading
from typing import ClassVar

import numpy as np

from .._boundary import extend_into
from .._costs import direct_rate, threads_speedup
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["Direct", "PARALLEL_MIN_MACS"]

#: Below this many multiply-adds one thread is faster: waking pool threads costs more.
PARALLEL_MIN_MACS = 8_000_000


class Direct:
    """Sum ``k[j] * x~[i + j]`` directly: exact for integers, any dtype, any boundary.

    The input is extended into a buffer each calling thread keeps, then a numba kernel
    runs the valid correlation in fused row-axpy form, parallel over output rows and
    column chunks.
    """

    name: ClassVar[str] = "direct"

    def applicable(self, problem: Problem) -> str | None:
        return None

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        ext = problem.batch * math.prod(problem.extended) * problem.compute_dtype.itemsize
        threads = workers if problem.macs >= PARALLEL_MIN_MACS else 1
        seconds = (costs["overhead"]["direct"]
                   + (costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0)
                   + problem.macs * direct_rate(costs, problem.compute_dtype)
                   / threads_speedup(costs, "direct", threads)
                   + ext * costs["memory_per_byte"])
        return Estimate(seconds=seconds, memory=0 if problem.pad_is_zero else ext,
                        note=f"{problem.macs:.3g} multiply-adds")

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        from ._direct_kernel import prepare

        pad, boundary, cval = problem.pad, problem.boundary, problem.cval
        ext_shape = (problem.batch, *problem.extended)
        run = prepare(ext_shape, kernel, (problem.batch, *problem.out_len), workers)
        if problem.pad_is_zero:
            return run
        local = threading.local()  # the extended input, reused by each calling thread

        def execute(xb: np.ndarray, out: np.ndarray) -> None:
            buf = getattr(local, "buf", None)
            ready = buf is not None
            if not ready:
                buf = local.buf = np.empty(ext_shape, xb.dtype)
            extend_into(xb, pad, boundary, cval, buf, borders_ready=ready)
            run(buf, out)

        return execute


register(Direct())
