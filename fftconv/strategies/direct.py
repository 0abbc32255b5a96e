"""``direct``: the compiled direct sum, reading the input in place (never extending it)."""

from __future__ import annotations

from typing import Any

import math
from typing import ClassVar

import numpy as np

from .._machine.costs import direct_rate, threads_speedup
from .._machine.threads import PARALLEL_MIN_MACS, threads_for
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["BLOCKED_DTYPES", "BLOCKED_MAX_TAPS", "PARALLEL_MIN_MACS", "Direct", "best_sum",
           "blocked_sum",
           "threads_for"]

#: Compute dtypes of the register-blocked sum (kept here so planning never loads numba).
BLOCKED_DTYPES = ("float32", "float64", "int64", "uint64")
#: Largest kernel extent per axis of the dense register-blocked sum (fully unrolled).
BLOCKED_MAX_TAPS = 9


class Direct:
    """Sum ``k[j] * x~[i + j]`` directly: exact for integers, any dtype, any boundary.

    A numba kernel runs the valid correlation of the extended input in fused row-axpy
    form, parallel over output rows and column chunks; the extension is never built (the
    boundary is followed through row and column index maps). Small and sparse 1-d and
    2-d kernels use a register-blocked sum instead where its rate is lower
    (:func:`best_sum`).
    """

    name: ClassVar[str] = "direct"

    def applicable(self, problem: Problem) -> str | None:
        return None

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        elements = problem.batch * (math.prod(problem.n) + math.prod(problem.out_len))
        traffic = elements * problem.compute_dtype.itemsize
        fixed = costs["overhead"]["direct"] + traffic * costs["memory_per_byte"]
        seconds, _, note = best_sum(problem, costs, workers)
        return Estimate(seconds=fixed + seconds, memory=0, note=note)

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        from .._machine.costs import machine_costs

        kind = best_sum(problem, machine_costs(), workers)[1]
        if kind != "axpy":
            from ._small_kernel import prepare as blocked

            return blocked((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                           workers, problem.pad, problem.boundary, problem.cval,
                           x_dtype=problem.x_dtype, sparse=kind == "sparse")
        from ._direct_kernel import prepare

        return prepare((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                       workers, problem.pad, problem.boundary, problem.cval)


def _compute_seconds(problem: Problem, costs: dict, workers: int, macs: int,
                     rate: float) -> float:
    elements = problem.batch * (math.prod(problem.n) + math.prod(problem.out_len))
    threads = threads_for(macs, elements, workers)
    return ((costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0)
            + macs * rate / threads_speedup(costs, "direct", threads))


def best_sum(problem: Problem, costs: dict, workers: int) -> tuple[float, str, str]:
    """The cheapest of the direct sums: ``(compute seconds, kind, note)``.

    Kinds: ``'axpy'`` (:mod:`._direct_kernel`, any problem, zero taps skipped),
    ``'dense'`` (:mod:`._small_kernel`'s register-blocked sum over every tap of a kernel
    of at most :data:`BLOCKED_MAX_TAPS` per axis) and ``'sparse'`` (the same blocks over
    the non-zero taps only, any kernel length). The blocked sums serve 1-d and 2-d
    problems with one kernel and a real or integer compute dtype; each is costed by the
    taps it multiplies, at its own rate. The sparse sum is offered for one-row kernels
    (lines, motion blurs), where it measured 25-30 % faster than row-axpy; over several
    rows it gained under 10 %, and with int64 nothing (the multiplies bound both), so
    those keep row-axpy (no shipped rate for integers).
    """
    macs = problem.macs
    best = (_compute_seconds(problem, costs, workers, macs,
                             direct_rate(costs, problem.compute_dtype)),
            "axpy", f"{macs:.3g} multiply-adds")
    name = problem.compute_dtype.name
    if (problem.ndim not in (1, 2) or problem.kernel_batched or name not in BLOCKED_DTYPES
            or min(problem.n) < 1):
        return best
    outputs = problem.batch * math.prod(problem.out_len)
    dense_rate = costs.get("direct_blocked_per_mac", {}).get(name)
    if dense_rate is not None and max(problem.k) <= BLOCKED_MAX_TAPS:
        dense = outputs * math.prod(problem.k)
        t = _compute_seconds(problem, costs, workers, dense, dense_rate)
        if t < best[0]:
            best = (t, "dense", f"{dense:.3g} multiply-adds, register-blocked")
    sparse_rate = costs.get("direct_sparse_per_mac", {}).get(name)
    if sparse_rate is not None and problem.kernel_nonzero >= 0 and (problem.ndim == 1
                                                                    or problem.k[0] == 1):
        t = _compute_seconds(problem, costs, workers, macs, sparse_rate)
        if t < best[0]:
            note = (f"{macs:.3g} multiply-adds, register-blocked over "
                    f"{problem.kernel_nonzero} non-zero taps")
            best = (t, "sparse", note)
    return best


register(Direct())


def blocked_sum(*args: Any, **kwargs: Any) -> Any:
    """The register-blocked sum's executor, as the strategy builds it (``fftconv calibrate``
    times it on its own); the arguments are :func:`._small_kernel.prepare`'s."""
    from ._small_kernel import prepare

    return prepare(*args, **kwargs)
