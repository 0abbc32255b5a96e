"""Learned corrections of the cost model: every executed plan times itself.

The shipped constants describe one machine and ``fftconv calibrate`` measures this one,
but until it runs, or when the machine changes under it (another load, other caches),
the estimates can be wrong by a factor. So each call of a plan is timed (a clock pair),
and ``log(measured / estimated)`` is kept per strategy and *size class* (the problem's
output size, in steps of 4x). The correction in force for a class is the median of its
last :data:`WINDOW` ratios once it has :data:`MIN_OBSERVATIONS`, and moves at most a
factor :data:`MAX_STEP` per observation: one 100x outlier moves nothing, while a
constant that is 10x wrong is corrected within a handful of calls.

Corrections are relative to the constants in force (shipped or calibrated), so they are
kept under a digest of those constants: a new calibration starts them afresh. They are
written beside the calibration (same signature, atomic), merged with what other
processes wrote, at most every :data:`SAVE_INTERVAL` seconds and at exit. The first call
of each plan is not counted: it pays one-time costs (compilation, scratch buffers).

Calls made while other work held half the CPUs or more teach corrections of their own,
which price plans made under such load (:func:`under_load`; :mod:`.learned_keys`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from . import learned_file as _file
from . import learned_keys as _keys
from . import threads as _threads
from .costs import machine_costs
from .learned_file import LEARNED_FILE
from .learned_keys import size_class, subject

__all__ = ["LEARNED_FILE", "clock", "corrected", "correction", "corrections", "describe",
           "enabled", "evidence", "observe", "on_change", "reset", "save", "set_clock",
           "settle", "size_class", "subject", "table", "timed", "under_load"]

ENV = "FFTCONV_LEARN"
#: Ratios kept per (strategy, size class).
WINDOW = 31
#: Observations before a class's correction leaves 1.
MIN_OBSERVATIONS = 3
#: Largest factor by which one observation may move a correction.
MAX_STEP = 2.0
#: Seconds between saves of new observations (plus one at exit).
SAVE_INTERVAL = 30.0
#: Observations kept pending before the corrections are brought up to date, or seconds
#: of timed calls among them (so that long calls correct the model as soon as short ones).
FLUSH_EVERY = 32
FLUSH_SECONDS = 0.05
#: A correction change larger than this (relative) makes the planner plan afresh.
_REPLAN = 0.1

_lock = threading.RLock()
_clock: Callable[[], float] = time.perf_counter
_ratios: dict[str, list[float]] = {}  # log ratios, oldest first
_applied: dict[str, float] = {}  # correction in force
_pooled: dict[str, Any] = {}  # figures pooled from _applied (family medians, load factor)
_has_busy = False  # whether any correction learned under load is in force
_planned: dict[str, float] = {}  # correction at the last generation bump
_unsaved: dict[str, list[float]] = {}
_loaded_for: tuple[dict, str] | None = None  # the constants the state is for, their digest
_generation = 0
_last_save = 0.0
_pending_seconds = 0.0  # seconds of the timed calls pending
_atexit = False
_listeners: list[Callable[[], None]] = []
_pending: list[tuple[str, int, float, float]] = []  # observations not yet folded in
_model_seconds: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def clock() -> Callable[[], float]:
    """The clock plans time themselves with (``time.perf_counter`` unless replaced)."""
    return _clock


def set_clock(fn: Callable[[], float] | None) -> None:
    """Replace the clock (tests inject a fake one); None restores ``perf_counter``."""
    global _clock
    _clock = time.perf_counter if fn is None else fn


def _ensure_loaded() -> None:
    """Load the saved corrections for the constants in force (again after they change)."""
    global _loaded_for, _generation, _atexit, _last_save, _has_busy
    costs = machine_costs()
    if _loaded_for is not None and _loaded_for[0] is costs:
        return
    old, _loaded_for = _loaded_for, (costs, _file.digest(costs))
    digest = _loaded_for[1]
    if old is not None and old[1] == digest:  # the same constants, in a new dict
        return
    _ratios.clear()
    _applied.clear()
    _pooled.clear()
    _planned.clear()
    _unsaved.clear()
    _generation += 1
    _last_save = _clock()
    for key, ratios in _file.read(digest, WINDOW).items():
        _ratios[key] = ratios
        if len(ratios) >= MIN_OBSERVATIONS:
            _applied[key] = _planned[key] = _keys.factor(ratios)
    _has_busy = any(map(_keys.is_busy, _applied))
    if not _atexit:
        atexit.register(_save_at_exit)
        _atexit = True


def enabled() -> bool:
    """Whether plans learn (``FFTCONV_LEARN=off`` turns it off, e.g. for reproducible
    test suites)."""
    value = os.environ.get(ENV)
    return value is None or value.lower() not in ("0", "off", "no", "false")


_enabled_seen: tuple[float, bool] = (-1.0, True)


def _enabled_now() -> bool:
    """:func:`enabled`, read at most every 0.1 s (:func:`reset` reads it afresh)."""
    global _enabled_seen
    now = time.perf_counter()
    if now - _enabled_seen[0] > 0.1:
        _enabled_seen = (now, enabled())
    return _enabled_seen[1]


def correction(strategy: str, points: int, busy: bool = False) -> float:
    """Factor to multiply the model's estimate for ``strategy`` by, at this size; under
    load (``busy``: :func:`under_load`) its own learned so, else idle x the load factor."""
    return corrections(points, busy)(strategy)


def corrections(points: int, busy: bool = False) -> Callable[[str], float]:
    """:func:`correction` at this size for any strategy, with what does not depend on the
    strategy (learning on, pending timings folded in, the file read) done once."""
    if not _enabled_now():
        return lambda strategy: 1.0
    settle()
    with _lock:
        _ensure_loaded()
    return functools.partial(_own, points=points, busy=busy)


def _own(strategy: str, points: int, busy: bool) -> float:  # in force, else 1
    with _lock:
        key = _keys.key(strategy, points)
        found = _applied.get(_keys.busy_key(key)) if busy else None
        if found is None:
            found = _applied.get(key)
            load = _pooled_figure("load") if busy else None
            found = found if load is None else load * (1.0 if found is None else found)
    return 1.0 if found is None else found


def evidence(strategy: str, points: int, busy: bool = False) -> float | None:
    """The correction timings back for ``strategy`` at this size: its own, else the
    median of its family's (same strategy, dtype and threads, other sizes and branches),
    else None; under load (``busy``), its own under load, else the idle figure times the
    load factor. Only the choice of one thread over several asks for it: on several
    threads a family's corrections vary with the size (small jobs' threads gain little)."""
    if not _enabled_now():
        return None
    settle()
    with _lock:
        _ensure_loaded()
        key = _keys.key(strategy, points)
        found = _applied.get(_keys.busy_key(key)) if busy else None
        if found is not None:
            return found
        found = _applied.get(key)
        if found is None:
            found = _pooled_figure("family").get(_keys.family(strategy))
        load = _pooled_figure("load") if busy and found is not None else None
        return found if load is None else found * load


def _pooled_figure(name: str) -> Any:
    """``"family"`` (medians by family) or ``"load"`` (the load factor), computed once
    per change of the corrections in force (under _lock)."""
    if not _pooled:
        _pooled.update(family=_keys.family_medians(_applied),
                       load=_keys.load_factor(_applied))
    return _pooled[name]


def under_load() -> bool:
    """Whether plans made now are priced for a loaded machine: other work has held half
    the CPUs or more (:func:`~fftconv._machine.threads.loaded`), and calls under load
    have taught a correction (until then the idle figures serve either way)."""
    return _has_busy and _enabled_now() and _threads.loaded()


def observe(strategy: str, points: int, estimated: float, measured: float) -> None:
    """Record one timed call: ``measured`` seconds against the model's ``estimated``.

    Cheap (a list append): the statistics are brought up to date every
    :data:`FLUSH_EVERY` observations, when the planner decides, and before any reading
    of them.
    """
    if not (estimated > 0 and measured > 0 and math.isfinite(measured)):
        return
    global _pending_seconds
    _pending.append((strategy, points, estimated, measured))  # atomic under the GIL
    _pending_seconds += measured
    if len(_pending) >= FLUSH_EVERY or _pending_seconds > FLUSH_SECONDS:
        settle()


def settle() -> None:
    """Fold the pending observations into the corrections; tell the listeners when one
    moved enough to make remembered decisions stale (a no-op when nothing is pending)."""
    global _generation, _pending_seconds, _has_busy
    _pending_seconds = 0.0
    if not _pending:
        return
    if not enabled():
        _pending.clear()
        return
    moved = False
    with _lock:
        _ensure_loaded()
        batch = _pending[:]
        del _pending[:len(batch)]
        new: dict[str, int] = {}
        for strategy, points, estimated, measured in batch:
            ratio = math.log(measured / estimated)
            key = _keys.key(strategy, points)
            ratios = _ratios.setdefault(key, [])
            ratios.append(ratio)
            _unsaved.setdefault(key, []).append(ratio)
            if len(ratios) >= MIN_OBSERVATIONS:  # observations that may move the correction
                new[key] = new.get(key, 0) + 1
        if new:  # pooled figures are recomputed from the corrections now in force
            _pooled.clear()
        for key, count in new.items():
            ratios = _ratios[key]
            del ratios[:-WINDOW]
            old = _applied.get(key, 1.0)
            step = MAX_STEP ** count  # at most MAX_STEP per observation
            _applied[key] = value = min(max(_keys.factor(ratios), old / step), old * step)
            _has_busy = _has_busy or _keys.is_busy(key)
            if abs(math.log(value / _planned.get(key, 1.0))) > math.log1p(_REPLAN):
                _planned[key] = value
                _generation += 1
                moved = True
        due = _clock() - _last_save > SAVE_INTERVAL
    if moved:
        for listener in tuple(_listeners):
            listener()
    if due:
        save()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener()`` whenever a correction moved enough to make remembered plans
    and decisions stale (the planner forgets them)."""
    _listeners.append(listener)


def corrected(strategy: str, points: int, estimate: Any, factor: float | None = None) -> Any:
    """``estimate`` (an :class:`~fftconv.strategies.Estimate`) with the learned correction
    applied (``factor``, when the caller has read it already); :func:`model_seconds`
    still gives the model's own figure."""
    if factor is None:
        factor = correction(strategy, points)
    if factor == 1.0:
        return estimate
    once = getattr(estimate, "once", 0.0)  # paid once: not what the timings correct
    out = object.__new__(type(estimate))  # a copy with new seconds (dataclasses.replace
    # runs every field through __init__: 40 calls, for every candidate of every planning)
    out.__dict__.update(estimate.__dict__, seconds=(estimate.seconds - once) * factor + once)
    with _lock:
        _model_seconds[out] = estimate.seconds
    return out


def model_seconds(estimate: Any) -> float:
    """The cost model's own figure behind a (possibly corrected) estimate."""
    with _lock:
        return _model_seconds.get(estimate, estimate.seconds)


def timed(plan: Any, start: float) -> None:
    """Count one call of ``plan`` that began at ``clock()() == start``.

    A plan's first call is not counted (it pays for compilation and scratch buffers)
    unless the plan was made for that call alone (``plan.__dict__["_learn_once"]``: the
    clock before it was built; what every such call costs is its making and one call).
    Nor is a call that ran on fewer threads than planned
    (:func:`~fftconv._machine.threads.reduced`). A call made under load
    (:func:`~fftconv._machine.threads.loaded`) teaches the corrections under load; one
    beside work seen only in passing (:func:`~fftconv._machine.threads.crowded`), neither.
    """
    elapsed = _clock() - start
    contended = _threads.reduced()  # asked on every call: asking clears it
    state = plan.__dict__
    seen, first = state.get("_learning_key"), False
    if seen is None:  # the first call: only marked (most one-shot plans have no second)
        state["_learning_key"] = ()
        made = state.pop("_learn_once", None)
        if made is None:
            return
        elapsed, first = elapsed + start - made, True  # from before the plan was made
    if contended or not _enabled_now():
        return
    load = _keys.BUSY if _threads.loaded() else ""
    if not load and _threads.crowded():
        return
    if first or not seen:  # a first call pays the estimate's one-time part; others not
        est = plan.estimate
        seen = (subject(plan.method, est, plan.problem.compute_dtype, plan.threads),
                math.prod(plan.problem.out_shape),
                model_seconds(est) - (0.0 if first else getattr(est, "once", 0.0)))
        if not first:
            state["_learning_key"] = seen
    observe(seen[0] + load, seen[1], seen[2], elapsed)


def save() -> None:
    """Merge the new observations into the file (atomically); warn, never raise."""
    global _last_save
    settle()
    with _lock:
        _last_save = _clock()
        if not _unsaved or _loaded_for is None:
            return
        digest, new = _loaded_for[1], {k: list(v) for k, v in _unsaved.items()}
        _unsaved.clear()
        _file.merge(digest, new, WINDOW)


def _save_at_exit() -> None:
    with contextlib.suppress(Exception):  # never fail an interpreter's exit over a cache file
        save()


def reset(*, forget_file: bool = False) -> None:
    """Forget the corrections (after a calibration, or in tests); optionally the file."""
    global _loaded_for, _generation, _enabled_seen, _has_busy
    _enabled_seen = (-1.0, True)
    _has_busy = False
    with _lock:
        _pending.clear()
        _ratios.clear()
        _applied.clear()
        _pooled.clear()
        _planned.clear()
        _unsaved.clear()
        _loaded_for = None
        _generation += 1
        if forget_file:
            from .cache import cache_dir

            with contextlib.suppress(OSError):
                (cache_dir() / LEARNED_FILE).unlink()
    for listener in tuple(_listeners):
        listener()


def table() -> dict[str, tuple[float, int]]:
    """``{"strategy/class": (correction in force, observations)}``."""
    settle()
    with _lock:
        _ensure_loaded()
        return {k: (_applied.get(k, 1.0), len(v)) for k, v in sorted(_ratios.items())}


def describe(strategy: str | None = None, points: int | None = None,
             busy: bool = False) -> str:
    """One line: where the constants come from, and the learned corrections behind them
    (for ``strategy`` at this size: under load where ``busy``)."""
    from .costs import source

    src = source()
    base = "shipped" if src == "shipped defaults" else f"calibrated ({src})"
    if not enabled():  # what is saved is not in force: say so rather than show it
        return f"{base}; learned corrections off ({ENV})"
    rows = table()
    if strategy is not None and points is not None:
        key = _keys.key(strategy, points)
        n = rows.get(_keys.busy_key(key) if busy else key, (1.0, 0))[1]
        where = " under load" if busy else ""
        if n >= MIN_OBSERVATIONS or busy:  # under load, the load factor may stand in
            return (f"{base}; learned x{correction(strategy, points, busy):.3g} for {strategy}"
                    f" at this size{where} ({n} calls{where})")
        return f"{base}; no learned correction for {strategy} at this size ({n} calls)"
    learned = sum(1 for _, n in rows.values() if n >= MIN_OBSERVATIONS)
    return f"{base}; {learned} learned corrections from {sum(n for _, n in rows.values())} calls"
