"""``direct``: the compiled direct sum, reading the input in place (never extending it)."""

from __future__ import annotations

from typing import Any

import math
from typing import ClassVar

import numpy as np

from .._machine import jit
from .._machine.costs import direct_rate, dtype_name, threads_speedup
from .._machine.threads import ELEMENT_MACS, PARALLEL_MIN_MACS
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["BLOCKED_DTYPES", "BLOCKED_MAX_TAPS", "BLOCKED_MAX_TAPS_3D", "PARALLEL_MIN_MACS",
           "PARALLEL_MIN_SECONDS", "Direct", "best_sum", "blocked_sum", "sum_rate", "sum_threads"]

#: Compute dtypes of the register-blocked sum (kept here so planning never loads numba).
BLOCKED_DTYPES = ("float32", "float64", "int64", "uint64")
#: Largest kernel extent per axis of the dense register-blocked sum (fully unrolled).
BLOCKED_MAX_TAPS = 9
#: The same for 3-d kernels.
BLOCKED_MAX_TAPS_3D = 5
#: A direct sum estimated to take less than this on one thread, plus the time it takes
#: to win back waking the pool (see :func:`sum_threads`), runs on the calling thread.
PARALLEL_MIN_SECONDS = 3e-4


def sum_rate(costs: dict, dtype: np.dtype, kind: str) -> float:
    """Single-thread seconds per multiply-add of a direct sum of ``kind`` (see
    :func:`best_sum`); the row-axpy rate where the blocked sum has none for ``dtype``."""
    key = {"dense": "direct_blocked_per_mac", "sparse": "direct_sparse_per_mac"}.get(kind)
    rate = costs.get(key, {}).get(dtype_name(dtype)) if key else None
    return rate if rate is not None else direct_rate(costs, dtype)


def sum_threads(seconds: float, workers: int, costs: dict | None = None) -> int:
    """Threads for a direct sum estimated at ``seconds`` on one thread: all ``workers``
    only when the job is long enough to win back waking them.

    Threads save ``seconds * (1 - 1/speedup)`` and cost the measured wake-up and
    hand-over of the pool (``costs['overhead']['parallel']``); a job is split when it is
    at least :data:`PARALLEL_MIN_SECONDS` longer than that break-even point. Timed in
    seconds, not multiply-adds, since the blocked sums run about 5x more multiply-adds
    per second than the row-axpy sum (a count threshold fitted to one misjudges the
    other: at 256² with 3 x 3 taps two threads ran 2x slower than one).
    """
    if workers <= 1:
        return 1
    if costs is None:
        from .._machine.costs import machine_costs

        costs = machine_costs()
    saved = 1.0 - 1.0 / threads_speedup(costs, "direct", workers)
    wake = costs["overhead"].get("parallel", 0.0)
    if saved <= 0:
        return 1
    return workers if seconds >= PARALLEL_MIN_SECONDS + wake / saved else 1


class Direct:
    """Sum ``k[j] * x~[i + j]`` directly: exact for integers, any dtype, any boundary.

    A numba kernel runs the valid correlation of the extended input in fused row-axpy
    form, parallel over output rows and column chunks; the extension is never built (the
    boundary is followed through row and column index maps). Small and sparse 1-d and
    2-d kernels use a register-blocked sum instead where its rate is lower
    (:func:`best_sum`). Before compiled code is worth loading in a process, small
    problems are summed tap by tap in numpy (:mod:`._taps`).
    """

    name: ClassVar[str] = "direct"

    def applicable(self, problem: Problem) -> str | None:
        return None

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        elements = problem.batch * (math.prod(problem.n) + math.prod(problem.out_len))
        traffic = elements * problem.compute_dtype.itemsize
        fixed = costs["overhead"]["direct"] + traffic * costs["memory_per_byte"]
        compiled = best_sum(problem, costs, workers, taps=False)
        seconds, kind, note = _stand_in(problem, costs, compiled)
        once = 0.0 if kind == "taps" else jit.load_seconds(costs)
        if once:
            note += f", +{once:.2g} s to load compiled code"
        loaded = fixed + compiled[0] if kind == "taps" else None
        return Estimate(seconds=fixed + seconds + once, memory=0, note=note, variant=kind,
                        once=once, loaded=loaded)

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        kind = estimate.variant  # the estimate made for these workers chose the sum
        if kind not in ("axpy", "dense", "sparse", "taps"):  # an estimate from elsewhere
            from .._machine.costs import machine_costs

            kind = best_sum(problem, machine_costs(), workers)[1]
        if kind == "taps":
            from . import _taps

            return _taps.prepare(problem, kernel)
        if kind != "axpy":
            from ._small_kernel import prepare as blocked

            return blocked((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                           workers, problem.pad, problem.boundary, problem.cval,
                           x_dtype=problem.x_dtype, sparse=kind == "sparse")
        from ._direct_kernel import prepare

        return prepare((problem.batch, *problem.n), kernel, (problem.batch, *problem.out_len),
                       workers, problem.pad, problem.boundary, problem.cval)


def _compute_seconds(problem: Problem, costs: dict, workers: int, macs: int,
                     rate: float, axpy: bool = False) -> float:
    """Compute seconds of a sum of ``macs`` at ``rate``, on the threads it would use (the
    row-axpy sum also counts :data:`ELEMENT_MACS` per element read or written when
    deciding them, as its executor does)."""
    seconds = macs * rate
    if axpy:
        elements = problem.batch * (math.prod(problem.n) + math.prod(problem.out_len))
        threads = sum_threads((macs + ELEMENT_MACS * elements) * rate, workers, costs)
    else:
        threads = sum_threads(seconds, workers, costs)
    return ((costs["overhead"].get("parallel", 0.0) if threads > 1 else 0.0)
            + seconds / threads_speedup(costs, "direct", threads))


def best_sum(problem: Problem, costs: dict, workers: int,
             taps: bool = True) -> tuple[float, str, str]:
    """The cheapest of the direct sums: ``(compute seconds, kind, note)``.

    ``taps=False`` leaves out the tap-by-tap numpy sum (kind ``'taps'``, :mod:`._taps`),
    which otherwise competes while compiled code has its loading to pay
    (:func:`jit.pending`), whose cost the caller adds to the compiled kinds.

    Kinds: ``'axpy'`` (:mod:`._direct_kernel`, any problem, zero taps skipped),
    ``'dense'`` (:mod:`._small_kernel`'s register-blocked sum over every tap of a kernel
    of at most :data:`BLOCKED_MAX_TAPS` per axis, :data:`BLOCKED_MAX_TAPS_3D` in 3-d) and
    ``'sparse'`` (the same blocks over the non-zero taps only, any kernel length). The
    blocked sums serve problems with a real or integer compute dtype, the dense sum in 1-d,
    2-d and 3-d (also one kernel per batch element), the sparse sum in 1-d and 2-d (one
    kernel); each is costed by the taps it multiplies, at its
    own rate. The sparse sum is offered for one-row kernels
    (lines, motion blurs), where it measured 25-30 % faster than row-axpy; over several
    rows it gained under 10 %, and with int64 nothing (the multiplies bound both), so
    those keep row-axpy (no shipped rate for integers).
    """
    macs = problem.macs
    best = (_compute_seconds(problem, costs, workers, macs,
                             direct_rate(costs, problem.compute_dtype), axpy=True),
            "axpy", f"{macs:.3g} multiply-adds")
    compiled = _best_compiled(problem, costs, workers, best)
    return _stand_in(problem, costs, compiled) if taps else compiled


def _stand_in(problem: Problem, costs: dict,
              compiled: tuple[float, str, str]) -> tuple[float, str, str]:
    """The tap-by-tap numpy sum where it costs less than the ``compiled`` one with its
    loading (:func:`jit.load_seconds`: none once compiled code is loaded), else
    ``compiled``."""
    load = jit.load_seconds(costs)
    if not load:
        return compiled
    from . import _taps

    t = _taps.seconds(problem, costs)
    if t < compiled[0] + load:
        return t, "taps", f"{problem.macs:.3g} multiply-adds, tap by tap in numpy"
    return compiled


def _best_compiled(problem: Problem, costs: dict, workers: int,
                   best: tuple[float, str, str]) -> tuple[float, str, str]:
    """The cheapest compiled sum, starting from the row-axpy one (``best``)."""
    macs = problem.macs
    name = dtype_name(problem.compute_dtype)
    if problem.ndim not in (1, 2, 3) or name not in BLOCKED_DTYPES or min(problem.n) < 1:
        return best
    outputs = problem.batch * math.prod(problem.out_len)
    dense_rate = costs.get("direct_blocked_per_mac", {}).get(name)
    most = BLOCKED_MAX_TAPS if problem.ndim < 3 else BLOCKED_MAX_TAPS_3D
    if dense_rate is not None and max(problem.k) <= most:
        dense = outputs * math.prod(problem.k)
        t = _compute_seconds(problem, costs, workers, dense, dense_rate)
        if t < best[0]:
            best = (t, "dense", f"{dense:.3g} multiply-adds, register-blocked")
    sparse_rate = costs.get("direct_sparse_per_mac", {}).get(name)
    if (sparse_rate is not None and problem.kernel_nonzero >= 0 and not problem.kernel_batched
            and (problem.ndim == 1 or (problem.ndim == 2 and problem.k[0] == 1))):
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
