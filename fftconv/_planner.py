"""The planner: ask every registered strategy, pick by cost (or by measuring), build."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from ._costs import machine_costs
from ._plan import Candidate, Plan, PlanReport
from ._problem import Problem
from .strategies import Estimate, registry

__all__ = ["candidates", "choose", "build_plan", "cached_plan"]

#: Decisions of ``effort='measure'``, by (problem, workers).
_measured: dict[tuple[Problem, int], tuple[str, dict[str, float]]] = {}
_measured_lock = threading.Lock()
#: Recently used plans of one-shot calls, by (problem, kernel digest, method, workers).
_plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()
_plans_lock = threading.Lock()
_PLAN_CACHE_SIZE = 8
_PLAN_CACHE_MAX_BYTES = 64 << 20


def candidates(problem: Problem, workers: int) -> list[Candidate]:
    """Every registered strategy with its estimate, or the reason it does not apply."""
    costs = machine_costs()
    out = []
    for name, strategy in registry().items():
        why = strategy.applicable(problem)
        est = strategy.estimate(problem, costs, workers) if why is None else None
        out.append(Candidate(name=name, estimate=est, rejected=why))
    return out


def choose(problem: Problem, cands: list[Candidate], method: str) -> str:
    """The strategy to use: the named one (if it applies) or the cheapest."""
    if method != "auto":
        for c in cands:
            if c.name == method and c.rejected:
                raise ValueError(f"method={method!r} cannot serve this problem: {c.rejected}")
        return method
    usable = [c for c in cands if c.rejected is None and c.estimate is not None]
    return min(usable, key=lambda c: c.estimate.seconds).name  # type: ignore[union-attr]


def _finish(cands: list[Candidate], chosen: str, measured: dict[str, float]) -> tuple[Candidate, ...]:
    out = []
    for c in cands:
        rejected = c.rejected
        if rejected is None and c.name != chosen:
            rejected = "measured slower" if measured.get(c.name) is not None else "higher estimate"
            if c.estimate is None:
                rejected = "not estimated"
        out.append(Candidate(c.name, c.estimate, None if c.name == chosen else rejected,
                             measured.get(c.name), c.name == chosen))
    return tuple(out)


def _sample_input(problem: Problem) -> np.ndarray:
    rng = np.random.default_rng(0)
    if problem.compute_dtype.kind in "iu":
        return rng.integers(0, 4, size=problem.x_shape).astype(problem.x_dtype)
    x = rng.standard_normal(problem.x_shape)
    if problem.x_dtype.kind == "c":
        x = x + 1j * rng.standard_normal(problem.x_shape)
    return x.astype(problem.x_dtype)


def build_plan(problem: Problem, kernel: np.ndarray, *, method: str, effort: str,
               workers: int, dtype: object = None) -> Plan:
    """Plan ``problem`` for the prepared kernel ``(Bk, *K)`` (flipped/conjugated already)."""
    cands = candidates(problem, workers)
    measured: dict[str, float] = {}
    if effort == "measure" and method == "auto":
        key = (problem, workers)
        with _measured_lock:
            memo = _measured.get(key)
        if memo is None:
            usable = sorted((c for c in cands if c.rejected is None),
                            key=lambda c: c.estimate.seconds)[:3]  # type: ignore[union-attr]
            x = _sample_input(problem)
            for c in usable:
                plan = _make(problem, kernel, cands, c.name, "auto", effort, workers, dtype, {})
                plan(x)  # first call: FFTW plans, numba compilation
                t0 = time.perf_counter()
                plan(x)
                measured[c.name] = time.perf_counter() - t0
            memo = (min(measured, key=measured.__getitem__), measured)
            with _measured_lock:
                _measured[key] = memo
        chosen, measured = memo[0], dict(memo[1])
    else:
        chosen = choose(problem, cands, method)
    return _make(problem, kernel, cands, chosen, method, effort, workers, dtype, measured)


def _make(problem: Problem, kernel: np.ndarray, cands: list[Candidate], chosen: str,
          requested: str, effort: str, workers: int, dtype: object,
          measured: dict[str, float]) -> Plan:
    strategies = registry()
    est = next(c.estimate for c in cands if c.name == chosen)
    assert est is not None
    execute = strategies[chosen].build(problem, kernel, est, workers)
    direct: list[Any] = []

    def fallback() -> Any:
        if not direct:
            d = strategies["direct"]
            direct.append(d.build(problem, kernel, d.estimate(problem, machine_costs(), workers),
                                  workers))
        return direct[0]

    report = PlanReport(problem=problem, candidates=_finish(cands, chosen, measured),
                        method=chosen, requested=requested, effort=effort, workers=workers)
    return Plan(problem=problem, method=chosen, estimate=est, workers=workers,
                _report=report, _kernel=kernel, _execute=execute, _fallback=fallback,
                _explicit=requested != "auto", _dtype_override=dtype)


def cached_plan(problem: Problem, kernel: np.ndarray, *, method: str, effort: str,
                workers: int, dtype: object = None) -> Plan:
    """:func:`build_plan`, reusing a recent plan for the same kernel (one-shot calls)."""
    if kernel.nbytes > _PLAN_CACHE_MAX_BYTES // 4:
        return build_plan(problem, kernel, method=method, effort=effort, workers=workers, dtype=dtype)
    key = (problem, kernel.tobytes(), kernel.shape, method, effort, workers, str(dtype))
    with _plans_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    plan = build_plan(problem, kernel, method=method, effort=effort, workers=workers, dtype=dtype)
    spec_bytes = plan.estimate.memory
    if spec_bytes <= _PLAN_CACHE_MAX_BYTES:
        with _plans_lock:
            _plans[key] = plan
            while len(_plans) > _PLAN_CACHE_SIZE:
                _plans.popitem(last=False)
    return plan
