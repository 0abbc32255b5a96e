"""The planner: ask every registered strategy, pick by cost (or by measuring), build."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
import threading
import time
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from ._machine import learning as _learning
from ._machine.cache import read_json, write_json
from ._machine.costs import machine_costs
from ._plan import Candidate, Plan, PlanReport
from ._problem import Problem
from ._errors import FFTConvWarning
from .strategies import registry

__all__ = ["candidates", "choose", "build_plan", "cached_plan"]

#: Decisions of ``effort='measure'``, by problem key; loaded from the cache directory.
_measured: dict[str, tuple[str, dict[str, float]]] | None = None
_measured_lock = threading.Lock()
_DECISIONS_FILE = "decisions.json"
#: Recently used plans of one-shot calls, by (problem, kernel digest, method, workers).
_plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()
_plans_lock = threading.Lock()
_PLAN_CACHE_SIZE = 8
_PLAN_CACHE_MAX_BYTES = 64 << 20


def _decision_key(problem: Problem, workers: int) -> str:
    """Stable across processes: the memory budget (which follows free memory) is left out;
    a remembered choice the budget now rejects is measured again."""
    return hashlib.sha1(repr((replace(problem, max_memory=0), workers)).encode()).hexdigest()


def _recall(key: str) -> tuple[str, dict[str, float]] | None:
    """A measured decision from this process or an earlier one."""
    global _measured
    with _measured_lock:
        if _measured is None:
            saved = read_json(_DECISIONS_FILE) or {}
            _measured = {k: (v[0], dict(v[1])) for k, v in saved.items()
                         if isinstance(v, list) and len(v) == 2}
        return _measured.get(key)


def _remember(key: str, decision: tuple[str, dict[str, float]]) -> None:
    """Keep a decision in memory and in the cache directory (merged, written atomically)."""
    with _measured_lock:
        assert _measured is not None
        _measured[key] = decision
        saved = read_json(_DECISIONS_FILE) or {}
        saved[key] = [decision[0], decision[1]]
        try:
            write_json(_DECISIONS_FILE, saved)
        except OSError as exc:
            warnings.warn(f"could not save the measured decision: {exc}", FFTConvWarning,
                          stacklevel=4)


def candidates(problem: Problem, workers: int) -> list[Candidate]:
    """Every registered strategy with its estimate, or the reason it does not apply."""
    costs = machine_costs()
    points = math.prod(problem.out_shape)
    out = []
    for name, strategy in registry().items():
        why = strategy.applicable(problem)
        est = strategy.estimate(problem, costs, workers) if why is None else None
        if est is not None:
            est = _learning.corrected(name, points, est)
        if est is not None and est.memory > problem.max_memory:
            why = (f"needs {_bytes(est.memory)} of scratch memory, over the max_memory budget "
                   f"of {_bytes(problem.max_memory)}")
        out.append(Candidate(name=name, estimate=est, rejected=why))
    return out


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n < 2**30 else f"{n / 2**30:.2f} GiB"


def choose(problem: Problem, cands: list[Candidate], method: str) -> str:
    """The strategy to use: the named one (if it applies) or the cheapest."""
    if method != "auto":
        for c in cands:
            if c.name == method and c.rejected:
                raise ValueError(f"method={method!r} cannot serve this problem: {c.rejected}")
        return method
    usable = [c for c in cands if c.rejected is None and c.estimate is not None]
    if not usable:
        reasons = "; ".join(f"{c.name}: {c.rejected}" for c in cands)
        raise ValueError(f"no strategy can serve this problem ({reasons})")
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
    """Plan ``problem`` for the prepared kernel ``(Bk, *K)`` (flipped/conjugated already).

    With ``effort='measure'`` and ``method='auto'``, the best candidates (by estimate) are
    timed once on the real shapes with FFTW's MEASURE planner; the decision is kept in
    memory and in the cache directory, so the same problem is never measured again.
    """
    cands = candidates(problem, workers)
    measured: dict[str, float] = {}
    if effort == "measure" and method == "auto":
        key = _decision_key(problem, workers)
        memo = _recall(key)
        if memo is None or memo[0] not in {c.name for c in cands if c.rejected is None}:
            memo = _measure(problem, kernel, cands, workers, dtype)
            _remember(key, memo)
        chosen, measured = memo[0], dict(memo[1])
    else:
        chosen = choose(problem, cands, method)
    plan = _make(problem, kernel, cands, chosen, method, effort, workers, dtype, measured)
    if effort == "measure":
        from ._machine.fft import save_wisdom

        save_wisdom()
    return plan


def _measure(problem: Problem, kernel: np.ndarray, cands: list[Candidate], workers: int,
             dtype: object) -> tuple[str, dict[str, float]]:
    """Time the (at most three) best candidates within 4x of the best estimate."""
    usable = sorted((c for c in cands if c.rejected is None),
                    key=lambda c: c.estimate.seconds)  # type: ignore[union-attr]
    best = usable[0].estimate.seconds  # type: ignore[union-attr]
    usable = [c for c in usable[:3] if c.estimate.seconds <= 4 * best]  # type: ignore[union-attr]
    x = _sample_input(problem)
    times: dict[str, float] = {}
    for c in usable:
        plan = _make(problem, kernel, cands, c.name, "auto", "measure", workers, dtype, {})
        plan(x)  # first call: numba compilation, scratch buffers
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            plan(x)
            runs.append(time.perf_counter() - t0)
            if sum(runs) > 1.0:
                break
        times[c.name] = min(runs)
    return min(times, key=times.__getitem__), times


def _make(problem: Problem, kernel: np.ndarray, cands: list[Candidate], chosen: str,
          requested: str, effort: str, workers: int, dtype: object,
          measured: dict[str, float]) -> Plan:
    strategies = registry()
    est = next(c.estimate for c in cands if c.name == chosen)
    assert est is not None
    execute = strategies[chosen].build(problem, kernel, est, workers, effort)
    direct: list[Any] = []

    def fallback() -> Any:
        if not direct:
            d = strategies["direct"]
            direct.append(d.build(problem, kernel, d.estimate(problem, machine_costs(), workers),
                                  workers))
        return direct[0]

    report = PlanReport(problem=problem, candidates=_finish(cands, chosen, measured),
                        method=chosen, requested=requested, effort=effort, workers=workers,
                        constants=_learning.describe(chosen, math.prod(problem.out_shape)))
    return Plan(problem=problem, method=chosen, estimate=est, workers=workers,
                _report=report, _kernel=kernel, _execute=execute, _fallback=fallback,
                _explicit=requested != "auto", _dtype_override=dtype)


def _forget_plans() -> None:
    """Learned corrections moved: the remembered one-shot plans may be the wrong choice."""
    with _plans_lock:
        _plans.clear()


_learning.on_change(_forget_plans)


def cached_plan_is_kept(plan: Plan) -> bool:
    """Whether :func:`cached_plan` keeps ``plan`` (so a weak reference to it is useful)."""
    with _plans_lock:
        return any(p is plan for p in _plans.values())


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
