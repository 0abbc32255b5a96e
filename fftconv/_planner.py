"""The planner: ask every registered strategy, pick by cost (or by measuring), build.

Decisions are remembered per ``(Problem, workers)``: the candidates with their estimates
or the reasons they do not apply, and the choice of ``method='auto'`` -- or that no
strategy applies. A problem describes shapes, dtypes, options and the kernel's facts, not
its values, so a new kernel of the same kind reuses the decision. A decision measured
with ``effort='measure'`` also serves later ``'estimate'`` requests (as FFTW's wisdom
does), and is kept in the cache directory for other processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from ._machine import jit as _jit
from ._machine import learning as _learning
from ._machine import measured as _measured
from ._machine.costs import dtype_name, machine_costs
from ._plan import Candidate, LazyExecutor, Plan, PlanReport, needs_finite_check
from ._problem import Problem
from .strategies import Estimate, registry

__all__ = ["Decision", "build_plan", "candidates", "choose", "clear_decisions", "decide",
           "rebound", "report_for", "stamp", "still_chosen"]


@dataclass(frozen=True)
class Decision:
    """What the planner concluded about one ``(Problem, workers)``, idle or under load.

    Attributes
    ----------
    candidates : tuple of Candidate
        Every registered strategy with its estimate, or the reason it does not apply.
    best : str or None
        The choice of ``method='auto'``; None when no strategy can serve the problem.
    measured : mapping of str to float
        Seconds measured per strategy, when ``effort='measure'`` made the decision.
    busy : bool
        Whether the estimates are priced for the machine under load.
    """

    candidates: tuple[Candidate, ...]
    best: str | None
    measured: Mapping[str, float] = field(default_factory=dict)
    busy: bool = False

    @property
    def effort(self) -> str:
        """``'measure'`` when timings made the decision, else ``'estimate'``."""
        return "measure" if self.measured else "estimate"


#: Decisions of this process, by (problem, workers, priced under load, with compiled
#: code's loading to pay).
_decisions: dict[tuple[Problem, int, bool, bool], Decision] = {}
_DECISIONS_MAX = 1024


def clear_decisions() -> None:
    """Forget this process's decisions and the loaded copy of the measured ones."""
    _decisions.clear()
    _measured.forget()


def candidates(problem: Problem, workers: int, busy: bool = False) -> tuple[Candidate, ...]:
    """Every registered strategy with its estimate, or the reason it does not apply
    (priced for a machine under load where ``busy``: :func:`~._machine.learning.under_load`)."""
    costs = machine_costs()
    points = math.prod(problem.out_shape)
    corrections = _learning.corrections(points, busy)  # read once for every candidate
    dtype = dtype_name(problem.compute_dtype)  # and the dtype's name in their keys
    out = []
    for name, strategy in registry().items():
        why = strategy.applicable(problem)
        est, threads = None, None
        if why is None:
            est, threads = _estimated(name, strategy, problem, costs, workers, points, busy,
                                      corrections, dtype)
        if est is not None and est.memory > problem.max_memory:
            why = (f"needs {_bytes(est.memory)} of scratch memory, over the max_memory budget "
                   f"of {_bytes(problem.max_memory)}")
        out.append(Candidate(name=name, estimate=est, rejected=why, threads=threads))
    return tuple(out)


def _estimated(name: str, strategy: Any, problem: Problem, costs: dict, workers: int,
               points: int, busy: bool, corrections: Callable[[str], float],
               dtype: str) -> tuple[Any, int | None]:
    """A strategy's corrected estimate on ``workers`` threads, or on one thread (then
    ``1``) where the learned corrections say its threads gain less than the model holds
    and one thread comes out faster.

    That takes timings on one thread too (of this subject, or of its family at other
    sizes): a strategy slower than estimated on two threads may be as slow on one, and
    the shipped constants' figure for one thread is no evidence that it is not.
    """
    est = strategy.estimate(problem, costs, workers)
    key = _learning.subject(name, est, dtype, workers)
    factor = corrections(key)
    many = _learning.corrected(key, points, est, factor)
    if workers > 1 and factor > 1.0:
        one = strategy.estimate(problem, costs, 1)
        key1 = _learning.subject(name, one, dtype, 1)
        single = _learning.evidence(key1, points, busy)
        if single is not None:
            one = _learning.corrected(key1, points, one, single)
            if one.seconds < many.seconds:
                return one, 1
    return many, None


_stamp = 0  # changes whenever learned corrections moved: earlier choices may be stale


def stamp(busy: bool | None = None) -> tuple[int, bool, bool]:
    """Changes whenever remembered choices may be stale: learned corrections moved, the
    machine came under load or left it (where that changes the prices), or compiled code
    no longer has its loading to pay (:func:`~._machine.jit.pending`). ``busy``: the load
    a decision was just priced for, instead of reading it again."""
    return _stamp, _learning.under_load() if busy is None else busy, _jit.pending()


def _forget_decisions() -> None:
    """Learned corrections moved: remembered decisions may be wrong. Remembered one-shot
    plans are checked on their next use (:func:`still_chosen`) rather than dropped: a
    large plan's FFTW plans and spectra cost far more to rebuild than a decision."""
    global _stamp
    _decisions.clear()
    _stamp += 1


def still_chosen(plan: Plan) -> bool:
    """Whether ``auto`` would still choose ``plan``'s strategy for its problem (checked
    once per change of :func:`stamp`; plans of a named method or of measurement always
    stand, except a numpy stand-in once compiled code is worth loading)."""
    made, now = plan.__dict__.get("_stamp"), stamp()
    if made is None or made == now:
        return True
    if plan.estimate.variant == "taps" and not _jit.pending():
        return False  # the numpy stand-in served until compiled code was worth loading
    decision = decide(plan.problem, "auto", "estimate", plan.workers, None)
    if (not plan._explicit and decision.best != plan.method
            and not (plan.__dict__.get("_switched") and _close(decision, plan.method))):
        return False
    plan.__dict__["_stamp"] = now
    return True


#: A remembered plan that already replaced another (``_switched``) stands while its
#: strategy's estimate is within this fraction above the new best's: two strategies priced
#: this close trade places on every move of their corrections, and each trade costs a new
#: plan's FFTW plans and spectra (3-190 ms for a 1024² image and a 127² kernel, several of
#: its calls), which a loop of calls would pay again and again.
KEEP_MARGIN = 0.25


def _close(decision: Decision, method: str) -> bool:
    """Whether ``method`` still applies and its estimate is within :data:`KEEP_MARGIN`
    of the decision's best."""
    seconds = {c.name: c.estimate.seconds for c in decision.candidates
               if c.rejected is None and c.estimate is not None}
    best = seconds.get(decision.best) if decision.best is not None else None
    mine = seconds.get(method)
    return best is not None and mine is not None and mine <= best * (1 + KEEP_MARGIN)


_learning.on_change(_forget_decisions)


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n < 2**30 else f"{n / 2**30:.2f} GiB"


def _cheapest(cands: tuple[Candidate, ...]) -> str | None:
    usable = [(c.estimate.seconds, c.name) for c in cands
              if c.rejected is None and c.estimate is not None]
    return min(usable, key=itemgetter(0))[1] if usable else None


def choose(decision: Decision, method: str) -> str:
    """The strategy to use: the named one (if it applies) or the decision's best."""
    if method != "auto":
        for c in decision.candidates:
            if c.name == method and c.rejected:
                raise ValueError(f"method={method!r} cannot serve this problem: {c.rejected}")
        return method
    if decision.best is None:
        reasons = "; ".join(f"{c.name}: {c.rejected}" for c in decision.candidates)
        raise ValueError(f"no strategy can serve this problem ({reasons})")
    return decision.best


def decide(problem: Problem, method: str, effort: str, workers: int,
           kernel: np.ndarray | None, dtype: object = None) -> Decision:
    """The decision for ``(problem, workers)``: remembered, estimated, or measured.

    Measuring (``effort='measure'`` with ``method='auto'``) needs the prepared ``kernel``;
    it times the best candidates once on the real shapes, and the result is kept in memory
    and in the cache directory, so the same problem is never measured again.
    """
    _learning.settle()  # pending timings may move a correction: decide on the latest
    busy = _learning.under_load()
    key = (problem, workers, busy, _jit.pending())
    decision = _decisions.get(key)
    if decision is None:
        cands = candidates(problem, workers, busy)
        decision = Decision(cands, _cheapest(cands), busy=busy)
    if (effort == "measure" and method == "auto" and not decision.measured
            and decision.best is not None and kernel is not None):
        usable = {c.name for c in decision.candidates if c.rejected is None}
        stable = _measured.key(problem, workers)
        memo = _measured.recall(stable)
        if memo is None or memo[0] not in usable:
            memo = _measure(problem, kernel, list(decision.candidates), workers, dtype)
            _measured.remember(stable, memo)
        decision = Decision(decision.candidates, memo[0], dict(memo[1]), busy)
    if len(_decisions) >= _DECISIONS_MAX:
        _decisions.clear()
    _decisions[key] = decision
    return decision


def report_for(problem: Problem, decision: Decision, method: str, workers: int,
               effort: str = "estimate") -> PlanReport:
    """The report of a plan using ``choose(decision, method)``."""
    chosen = choose(decision, method)
    picked = next(c for c in decision.candidates if c.name == chosen)
    out = []
    for c in decision.candidates:
        rejected = c.rejected
        if rejected is None and c.name != chosen:
            measured = decision.measured.get(c.name) is not None
            rejected = "measured slower" if measured else "higher estimate"
            if c.estimate is None:
                rejected = "not estimated"
        out.append(Candidate(c.name, c.estimate, None if c.name == chosen else rejected,
                             decision.measured.get(c.name), c.name == chosen, c.threads))
    return PlanReport(problem=problem, candidates=tuple(out), method=chosen,
                      requested=method, effort=effort, workers=workers,
                      constants=_learning.describe(_learning.subject(
                          chosen, picked.estimate, problem.compute_dtype,
                          picked.threads or workers), math.prod(problem.out_shape),
                          decision.busy))


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
    """Plan ``problem`` for the prepared kernel ``(Bk, *K)`` (flipped/conjugated already,
    owned by the plan)."""
    decision = decide(problem, method, effort, workers, kernel, dtype)
    plan = _assemble(problem, kernel, decision, method, effort, workers, dtype)
    if (method == "auto" and effort == "estimate") or plan.estimate.variant == "taps":
        plan.__dict__["_stamp"] = stamp(decision.busy)  # what it was priced for
    if effort == "measure":
        from ._machine.fft import save_wisdom

        save_wisdom()
    return plan


def rebound(plan: Plan, problem: Problem, kernel: np.ndarray) -> Plan | None:
    """``plan`` for another kernel of the same problem (the prepared ``kernel``, of the
    same shape and dtype, and facts equal to the plan's), or None where its executor
    cannot take new values (then plan again: the decision memo serves it).

    What the problem's shapes decided (the strategy, its layout, its threads) is kept;
    only the parts made from the kernel's values are made again. A plan from memory of
    the planner's earlier choices is only reused while those stand (:func:`stamp`).
    """
    with_kernel = getattr(plan._execute, "with_kernel", None)
    state = plan.__dict__
    if (with_kernel is None or plan.problem.kernel != problem.kernel
            or state.get("_stamp") not in (None, stamp())):
        return None
    new = object.__new__(Plan)
    fresh = new.__dict__
    fresh.update(state)
    for derived in ("_nonfinite", "_learning_key"):  # made from the old kernel, or per plan
        fresh.pop(derived, None)
    fresh.update(problem=problem, _kernel=kernel, _execute=with_kernel(kernel),
                 _fallback=_direct_fallback(problem, kernel, plan.workers))
    return new


def _direct_fallback(problem: Problem, kernel: np.ndarray, workers: int) -> LazyExecutor:
    """The exact direct executor of a plan, built on first need (integer inputs an FFT
    cannot be proven exact on)."""

    def direct() -> Any:
        d = registry()["direct"]
        return d.build(problem, kernel, d.estimate(problem, machine_costs(), workers), workers)

    return LazyExecutor(direct)


def _measure(problem: Problem, kernel: np.ndarray, cands: list[Candidate], workers: int,
             dtype: object) -> tuple[str, dict[str, float]]:
    """Time the (at most three) best candidates within 4x of the best estimate."""
    usable = sorted((c for c in cands if c.rejected is None), key=lambda c: c.seconds)
    if not usable:
        choose(Decision(tuple(cands), None), "auto")  # raises, naming every strategy's reason
    best = usable[0].seconds
    # ``or``: the best one is timed even when an estimate is not a number
    usable = [c for c in usable[:3] if c.seconds <= 4 * best] or usable[:1]
    x = _sample_input(problem)
    times: dict[str, float] = {}
    for c in usable:
        trial = Decision(tuple(cands), c.name)
        plan = _assemble(problem, kernel, trial, "auto", "measure", workers, dtype)
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


def _assemble(problem: Problem, kernel: np.ndarray, decision: Decision, method: str,
              effort: str, workers: int, dtype: object) -> Plan:
    strategies = registry()
    chosen = choose(decision, method)
    cand = next(c for c in decision.candidates if c.name == chosen)
    est = cand.estimate
    assert est is not None
    threads = cand.threads or workers
    execute = strategies[chosen].build(problem, kernel, est, threads, effort)

    def report() -> PlanReport:
        return report_for(problem, decision, method, workers, effort)

    plan = Plan(problem=problem, method=chosen, estimate=est, workers=workers,
                _report=report, _kernel=kernel, _execute=execute,
                _fallback=_direct_fallback(problem, kernel, workers), _explicit=method != "auto",
                _dtype_override=dtype, _check_finite=needs_finite_check(problem, chosen),
                _threads=cand.threads or 0)
    rent = _rent(decision, est, None if method == "auto" else chosen)
    if rent:
        plan.__dict__["_rent"] = rent
    return plan


def _rent(decision: Decision, est: Estimate,
          named: str | None) -> tuple[float, float] | None:
    """``(seconds, loading)``: what a call of the plan of ``est`` spends over the cheapest
    candidate with compiled code loaded (only the ``named`` strategy's, where the caller
    named one), while that loading is still to pay (:func:`~._machine.jit.rent`); None
    when it spends nothing over it."""
    if not _jit.pending():
        return None
    loaded = [c.estimate.seconds - c.estimate.once if c.estimate.loaded is None
              else c.estimate.loaded
              for c in decision.candidates if c.rejected is None and c.estimate is not None
              and named in (None, c.name)]
    over = est.seconds - est.once - min(loaded, default=math.inf)
    if not over > 0:
        return None
    return over, float(machine_costs()["overhead"]["jit_load"])
