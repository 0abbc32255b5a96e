"""Timings under load teach corrections of their own, which price plans made under load.

A call made while other work holds half the CPUs or more measures the machine as it is
then; the idle corrections stay as the idle calls taught them (injectable clock and
injectable count of other runnable threads).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from learning_util import FakeClock
from test_learning import KERNEL, SHAPE

import fftconv
from fftconv._machine import learning, threads
from fftconv._machine.cache import cache_dir

POINTS = SHAPE[0] * SHAPE[1]


@pytest.fixture
def load(monkeypatch):
    """``load(n)``: ``n`` other runnable threads on a 2-CPU machine (1 holds half)."""
    monkeypatch.setattr(threads, "_cpus", 2)
    yield lambda n: threads.set_probe(lambda: n)
    threads.set_probe(lambda: 0)


def _plan() -> fftconv.Plan:
    return fftconv.plan_correlate(SHAPE, KERNEL, "same", workers=1)


def _truth() -> dict[str, float]:
    """What each strategy costs idle here: the shipped model's own estimates."""
    return {c.name: c.estimate.seconds for c in _plan().report().candidates if c.estimate}


def _calls(clock: FakeClock, seconds: dict[str, float], n: int) -> list[str]:
    """``n`` times: plan, and call the plan twice (its first call is not counted), each
    call lasting ``seconds[strategy]``; the strategies picked."""
    x, picks = np.ones(SHAPE), []
    for _ in range(n):
        p = _plan()
        clock.step = seconds[p.method]
        p(x)
        p(x)
        picks.append(p.method)
    return picks


def test_a_strategy_slow_only_under_load_is_left_under_load_and_kept_idle(learn, load):
    """Idle, the model is right and auto keeps its pick. Under load, that pick runs 10x
    slower than estimated while the others would run as estimated: within a few calls
    auto leaves it under load, and goes back to it as soon as the machine is idle,
    since the idle corrections never saw those calls."""
    truth = _truth()
    idle_pick = _plan().method
    assert len(truth) >= 2 and idle_pick in ("fft", "overlap", "direct")
    load(1)
    assert threads.loaded() and not learning.under_load()  # nothing learned under load yet
    slow = {**truth, idle_pick: 10 * truth[idle_pick]}
    picks = _calls(learn, slow, 8)
    assert picks[0] == idle_pick
    moved = next((i for i, m in enumerate(picks) if m != idle_pick), None)
    assert moved is not None and moved <= 5, picks
    assert idle_pick not in picks[moved:], picks
    assert learning.under_load()
    taught = learning.table()  # only the corrections under load: every call was under load
    assert any(k.startswith(idle_pick + ":") for k in taught)
    assert taught and all(":busy/" in k for k in taught), taught
    assert "under load" in _plan().report().constants
    load(0)
    assert not learning.under_load()
    assert _plan().method == idle_pick
    assert "under load" not in _plan().report().constants


def test_the_load_factor_prices_a_subject_timed_only_idle(learn):
    """Under load a subject is priced by its own timings under load, else by its idle
    correction times the median ``loaded / idle`` of the subjects timed both ways, so
    the one strategy in use does not look slower than the rest merely for being timed."""
    both, idle_only, never = "fft:float64:512x512", "overlap:float64:256x256", "direct:float64"
    for _ in range(4):
        learning.observe(both, POINTS, 1e-3, 1e-3)
        learning.observe(both + ":busy", POINTS, 1e-3, 3e-3)
        learning.observe(idle_only, POINTS, 1e-3, 1.5e-3)
    assert learning.correction(both, POINTS) == pytest.approx(1.0)
    assert learning.correction(both, POINTS, busy=True) == pytest.approx(3.0)
    assert learning.correction(idle_only, POINTS) == pytest.approx(1.5)
    assert learning.correction(idle_only, POINTS, busy=True) == pytest.approx(4.5)
    assert learning.correction(never, POINTS, busy=True) == pytest.approx(3.0)
    assert learning.correction(never, POINTS) == 1.0
    # the evidence for one thread under load: its own, or the idle evidence times the
    # load factor; none where there is no idle evidence either
    assert learning.evidence(idle_only, POINTS, busy=True) == pytest.approx(4.5)
    assert learning.evidence("overlap:float64:128x128", POINTS, busy=True) == pytest.approx(4.5)
    assert learning.evidence(never, POINTS, busy=True) is None


def test_without_a_subject_timed_both_ways_the_idle_corrections_serve(learn):
    learning.observe("fft:float64:512x512:busy", POINTS, 1e-3, 3e-3)
    for _ in range(3):
        learning.observe("fft:float64:512x512:busy", POINTS, 1e-3, 3e-3)
        learning.observe("overlap:float64:256x256", POINTS, 1e-3, 2e-3)
    assert learning.correction("overlap:float64:256x256", POINTS, busy=True) == pytest.approx(2.0)
    assert learning.correction("direct:float64", POINTS, busy=True) == 1.0


def test_a_remembered_plan_is_checked_when_the_machine_comes_under_load(learn, load):
    """The one-shot path's remembered plan carries the prices it was chosen at: when the
    machine comes under load (and load has taught a correction) it is checked again,
    and kept where auto would still choose it."""
    x = np.ones(SHAPE)
    fftconv.correlate(x, KERNEL, "same", workers=1)
    ((before, _),) = fftconv._engine.calls._data.values()
    assert before.__dict__["_stamp"][1] is False
    for _ in range(4):  # load taught something, of a subject this problem does not use
        learning.observe("direct:float32:dense:busy", 64, 1e-3, 1e-3)
    learning.settle()  # (the next plan or timed call folds them in)
    load(1)
    assert fftconv._planner.stamp()[1] is True
    fftconv.correlate(x, KERNEL, "same", workers=1)
    ((after, _),) = fftconv._engine.calls._data.values()
    assert after is before and before.__dict__["_stamp"] == fftconv._planner.stamp()


def test_corrections_under_load_persist_beside_the_idle_ones(learn, load):
    load(1)
    for _ in range(4):
        learning.observe("fft:float64:512x512:busy", POINTS, 1e-3, 3e-3)
    learning.save()
    saved = json.loads((cache_dir() / learning.LEARNED_FILE).read_text())
    assert any(":busy/" in key for key in json.dumps(saved).split('"'))
    learning.reset()
    assert learning.correction("fft:float64:512x512", POINTS, busy=True) == pytest.approx(3.0)
    assert learning.correction("fft:float64:512x512", POINTS) == 1.0
    assert learning.under_load()
