"""The planner learns this machine from the plans' own timings (injectable clock)."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest

import fftconv
from fftconv import FFTConvWarning
from fftconv._machine import costs as _costs
from fftconv._machine import learning
from fftconv.strategies import Estimate
from fftconv._machine.cache import cache_dir
from learning_util import FakeClock

SHAPE, KSHAPE = (256, 256), (31, 31)
#: Not separable: the choice is between the direct sum and the FFTs.
KERNEL = np.random.default_rng(0).standard_normal(KSHAPE)


def _true_seconds() -> dict[str, float]:
    """What each strategy 'really' costs here: the shipped model's own estimates."""
    plan = fftconv.plan_correlate(SHAPE, KERNEL, "same")
    return {c.name: c.estimate.seconds for c in plan.report().candidates if c.estimate}


def _call(clock: FakeClock, truth: dict[str, float], x, k, outlier: float = 1.0) -> str:
    """Plan, and call the plan twice (its first call is not counted), each call lasting
    what its strategy really costs (times ``outlier``); return the strategy."""
    p = fftconv.plan_correlate(x.shape, k, "same")
    clock.step = truth[p.method] * outlier
    p(x)
    p(x)
    return p.method


def _one_shot_method() -> str:
    """The strategy of the plan the one-shot path remembered for its last call."""
    ((plan, _),) = fftconv._engine.calls._data.values()
    return plan.method


def test_direct_ten_times_too_cheap_is_corrected_within_bounded_calls(learn):
    truth = _true_seconds()
    assert truth["direct"] > 3 * min(truth["fft"], truth["overlap"])  # an FFT really wins
    wrong = copy.deepcopy(_costs.machine_costs())
    for name in wrong["direct_per_mac"]:
        wrong["direct_per_mac"][name] /= 10
    _costs._costs = wrong  # the constants in force claim the direct sum is 10x cheaper
    learning.reset()  # (and the decisions made with the true ones are forgotten)
    x, k = np.ones(SHAPE), KERNEL
    fftconv.correlate(x, k, "same")
    assert _one_shot_method() == "direct"
    picks = [_call(learn, truth, x, k) for _ in range(12)]
    assert picks[0] == "direct"  # misled by the wrong constants
    fixed = next((i for i, m in enumerate(picks) if m != "direct"), None)
    assert fixed is not None and fixed <= 8, picks
    assert set(picks[fixed:]) <= {"fft", "overlap"}, picks  # and it stays corrected
    fftconv.correlate(x, k, "same")  # the one-shot path forgot its remembered plan
    assert _one_shot_method() in {"fft", "overlap"}
    size = learning.size_class(SHAPE[0] * SHAPE[1])
    learned = [v for key, v in learning.table().items()
               if key.startswith("direct:") and key.endswith(f"/{size}")]
    assert any(factor >= 2 and n >= learning.MIN_OBSERVATIONS for factor, n in learned)
    report = str(fftconv.plan_correlate(SHAPE, k, "same").report())
    assert "constants: shipped" in report


def test_one_slow_outlier_does_not_flip_a_good_choice(learn):
    truth = _true_seconds()
    x, k = np.ones(SHAPE), KERNEL
    good = _call(learn, truth, x, k)
    picks = [_call(learn, truth, x, k) for _ in range(2)]
    picks.append(_call(learn, truth, x, k, outlier=100.0))  # one call 100x slow
    picks += [_call(learn, truth, x, k) for _ in range(4)]
    assert set(picks) == {good}, picks
    factor = learning.correction(good, SHAPE[0] * SHAPE[1])
    assert 0.9 < factor < 1.1


def test_an_outlier_first_moves_nothing_until_enough_calls(learn):
    learning.observe("fft", 1000, 1e-3, 1e-1)
    assert learning.correction("fft", 1000) == 1.0
    learning.observe("fft", 1000, 1e-3, 1e-3)
    learning.observe("fft", 1000, 1e-3, 1e-3)
    assert learning.correction("fft", 1000) == pytest.approx(1.0)


def test_each_step_is_bounded(learn):
    for n in range(1, 6):
        learning.observe("direct", 50, 1e-3, 1e-1)  # 100x slower than estimated, always
        factor = learning.correction("direct", 50)
        assert factor <= learning.MAX_STEP ** max(0, n - learning.MIN_OBSERVATIONS + 1) + 1e-9
    assert factor > 1  # and it does move


def test_the_first_call_of_a_plan_is_not_counted(learn):
    plan = fftconv.plan_correlate((64,), np.ones(3), "same")
    learn.step = 1.0
    plan(np.ones(64))
    assert learning.table() == {}
    plan(np.ones(64))
    assert sum(n for _, n in learning.table().values()) == 1


def test_learning_off_by_environment(learn, monkeypatch):
    monkeypatch.setenv("FFTCONV_LEARN", "off")
    for _ in range(5):
        learning.observe("direct", 50, 1e-3, 1e-1)
    assert learning.correction("direct", 50) == 1.0


def _save_some(n: int = 4) -> None:
    for _ in range(n):
        learning.observe("overlap", 4096, 1e-3, 3e-3)
    learning.save()


def test_corrections_persist_with_the_signature_and_merge_across_processes(learn):
    _save_some(4)
    path = cache_dir() / learning.LEARNED_FILE
    doc = json.loads(path.read_text())
    assert "signature" in doc and doc["payload"]["ratios"]
    learning.reset()  # a new process: the saved corrections are in force at once
    assert learning.correction("overlap", 4096) == pytest.approx(3.0)
    assert learning.table()["overlap/6"][1] == 4
    _save_some(2)  # a second process adds its own observations: merged, not replaced
    learning.reset()
    assert learning.table()["overlap/6"][1] == 6
    assert "learned x3 for overlap" in learning.describe("overlap", 4096)


def test_learning_off_reports_no_correction_in_force(learn, monkeypatch):
    _save_some(4)
    assert "learned x3 for overlap" in learning.describe("overlap", 4096)
    monkeypatch.setenv("FFTCONV_LEARN", "off")
    learning.reset()  # reads the variable afresh
    assert learning.correction("overlap", 4096) == 1.0
    assert learning.describe("overlap", 4096) == "shipped; learned corrections off (FFTCONV_LEARN)"


def test_corrections_are_dropped_when_the_constants_change(learn):
    _save_some(4)
    changed = copy.deepcopy(_costs.machine_costs())
    changed["memory_per_byte"] *= 2  # a new calibration
    _costs._costs = changed
    assert learning.correction("overlap", 4096) == 1.0


@pytest.mark.parametrize("payload", [
    "not json {",
    json.dumps({"signature": None, "payload": []}),
    json.dumps({"payload": {"constants": "x", "ratios": []}}),
])
def test_a_corrupt_file_is_ignored(learn, payload):
    path = cache_dir() / learning.LEARNED_FILE
    path.write_text(payload)
    learning.reset()
    with pytest.warns(FFTConvWarning, match=str(path)):
        assert learning.correction("fft", 100) == 1.0


def test_malformed_ratios_are_ignored(learn):
    _save_some(4)
    path = cache_dir() / learning.LEARNED_FILE
    doc = json.loads(path.read_text())
    doc["payload"]["ratios"] = {"overlap/6": ["x", None], "fft/3": [1e9]}
    path.write_text(json.dumps(doc))
    learning.reset()
    assert learning.table() == {}


def _warnings_of(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, FFTConvWarning)]


def test_an_unwritable_file_warns_naming_it(learn):
    (cache_dir() / learning.LEARNED_FILE).mkdir()  # cannot be replaced by a file
    messages = _warnings_of(lambda: _save_some(4))
    assert any(str(cache_dir() / learning.LEARNED_FILE) in m for m in messages), messages
    assert learning.correction("overlap", 4096) == pytest.approx(3.0)  # still in force


def test_a_cache_dir_that_is_a_file_warns_naming_the_file(learn, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(blocker))
    learning.reset()
    messages = _warnings_of(lambda: _save_some(4))
    assert any(str(blocker / learning.LEARNED_FILE) in m for m in messages), messages
    assert learning.correction("overlap", 4096) == pytest.approx(3.0)


def test_info_shows_the_constants_and_observations(learn, capsys):
    _save_some(4)
    from fftconv._cli import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "learned" in out and "overlap/6" in out and "(4 calls)" in out


def test_a_one_shot_plan_too_large_to_keep_is_timed_on_its_only_call(learn, monkeypatch):
    """A one-shot call whose plan the call memo will not keep makes a new plan every
    time: its making and its only call are timed, so the planner learns what such calls
    cost (a plan that is kept learns from its second call on, as every plan does)."""
    x, k = np.ones(SHAPE), KERNEL
    learn.step = 1e-2
    fftconv.correlate(x, k, "same")
    assert learning.table() == {}  # kept: its first call is not counted
    fftconv._engine.clear_caches()
    monkeypatch.setattr(fftconv._engine.calls, "_max_bytes", 0)  # keeps nothing now
    fftconv.correlate(x, k, "same")
    fftconv.correlate(x, k, "same")
    assert sum(n for _, n in learning.table().values()) == 2
    assert len(fftconv._engine.calls) == 0


def test_a_remembered_plan_still_chosen_survives_a_correction_move(learn):
    """A correction move makes remembered one-shot plans be checked, not dropped: one
    that auto would still choose is kept (its FFTW plans and spectra are not rebuilt)."""
    x, k = np.ones(SHAPE), KERNEL
    fftconv.correlate(x, k, "same")
    ((before, _),) = fftconv._engine.calls._data.values()
    stamp = fftconv._planner.stamp()
    fftconv._planner._forget_decisions()  # what a moved correction triggers
    assert fftconv._planner.stamp() != stamp
    fftconv.correlate(x, k, "same")
    ((after, _),) = fftconv._engine.calls._data.values()
    assert after is before
    assert before.__dict__["_stamp"] == fftconv._planner.stamp()


def test_a_plan_that_replaced_another_stands_against_a_rival_a_little_cheaper(learn,
                                                                            monkeypatch):
    """After a correction move, a remembered one-shot plan auto no longer chooses is
    replaced. The replacement is replaced in turn only when another strategy's estimate
    beats its own by more than the planner's keep margin: two FFT strategies priced this
    close would otherwise trade places, and the one-shot path rebuild FFTW plans and
    spectra, on every move of their corrections."""
    from dataclasses import replace

    x, k = np.ones(SHAPE), KERNEL
    fftconv.correlate(x, k, "same")
    ((first, _),) = fftconv._engine.calls._data.values()
    assert first.method in {"fft", "overlap"}
    rival = "overlap" if first.method == "fft" else "fft"
    real = fftconv._planner.candidates

    def priced(cheaper, than, factor):
        """The true candidates with ``cheaper``'s estimate ``than``'s over ``factor``."""
        def candidates(problem, workers, busy=False):
            out = real(problem, workers, busy)
            other = next(c.estimate.seconds for c in out if c.name == than)
            return tuple(replace(c, estimate=replace(c.estimate, seconds=other / factor))
                         if c.name == cheaper else c for c in out)
        return candidates

    def moved(cheaper, than, factor):
        """A correction move after which ``cheaper`` is estimated ``factor`` times cheaper."""
        monkeypatch.setattr(fftconv._planner, "candidates", priced(cheaper, than, factor))
        fftconv._planner._forget_decisions()
        fftconv.correlate(x, k, "same")
        ((now, _),) = fftconv._engine.calls._data.values()
        return now

    margin = fftconv._planner.KEEP_MARGIN
    second = moved(rival, first.method, 1 + margin / 2)  # the first plan had not switched
    assert second is not first and second.method == rival
    assert moved(first.method, rival, 1 + margin / 2) is second  # within the margin: stands
    assert fftconv.plan_correlate(SHAPE, k, "same").method == first.method  # (a new plan
    third = moved(first.method, rival, 1 + 2 * margin)                      # takes the best)
    assert third is not second and third.method == first.method  # beyond it: replaced


def test_each_branch_of_a_cost_model_learns_its_own_correction(learn):
    """The row-axpy and register-blocked direct sums run at their own rates: a wrong rate
    for one is corrected without moving the other (nor another dtype's)."""
    points = 256 * 256
    axpy = learning.subject("direct", Estimate(1e-3, 0, variant="axpy"), np.dtype("float32"))
    dense = learning.subject("direct", Estimate(1e-3, 0, variant="dense"), np.dtype("float32"))
    assert (axpy, dense) == ("direct:float32:axpy", "direct:float32:dense")
    for _ in range(4):
        learning.observe(dense, points, 1e-3, 1e-3)  # the dense sum's rate is right
    for _ in range(4):
        learning.observe(axpy, points, 1e-3, 4e-3)
    assert learning.correction(axpy, points) == pytest.approx(4.0)
    assert learning.correction(dense, points) == pytest.approx(1.0)
    for _ in range(4):
        learning.observe("direct:float64:axpy", points, 1e-3, 1e-3)
    assert learning.correction("direct:float64:axpy", points) == pytest.approx(1.0)


def test_the_evidence_for_a_subject_is_its_own_else_its_familys(learn):
    """What timings say of a subject: its own correction, else the median of its
    family's (strategy, dtype, threads) at other sizes and branches, else nothing; other
    strategies' corrections are not borrowed, and none is applied as a subject's own."""
    for subject_, measured in (("overlap:float32:256x256", 3e-3), ("overlap:float32:128x128", 2e-3),
                               ("direct:float32:axpy", 4e-3), ("fft:float32:512x512:2t", 4e-3)):
        for _ in range(4):
            learning.observe(subject_, 4096, 1e-3, measured)
    assert learning.evidence("overlap:float32:256x256", 4096) == pytest.approx(3.0)
    assert learning.evidence("overlap:float32:512x512", 1 << 20) == pytest.approx(6 ** 0.5)
    assert learning.evidence("direct:float32:dense", 1 << 20) == pytest.approx(4.0)
    assert learning.evidence("fft:float32:1024x1024:2t", 4096) == pytest.approx(4.0)
    assert learning.evidence("fft:float32:1024x1024", 4096) is None  # not on one thread
    assert learning.evidence("overlap:float64:256x256", 4096) is None  # nor in float64
    assert learning.correction("overlap:float32:512x512", 1 << 20) == 1.0


def test_a_plan_learns_under_its_strategy_dtype_branch_and_threads(learn):
    x, k = np.ones((64, 64), np.float32), np.ones((3, 3), np.float32)
    learn.step = 1e-3
    for workers, suffix in ((1, ""), (2, ":2t")):
        plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype, method="direct",
                                      workers=workers)
        for _ in range(5):
            plan(x)
        assert plan.estimate.variant in ("axpy", "dense", "sparse")
        size = learning.size_class(64 * 64)
        key = f"direct:float32:{plan.estimate.variant}{suffix}/{size}"
        assert learning.table()[key][1] == 4  # the first call is not counted
    fft = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype, method="fft", workers=1)
    assert learning.subject("fft", fft.estimate, np.dtype("float32")) == (
        "fft:float32:" + "x".join(map(str, fft.fft_shape)))


def test_a_strategy_whose_threads_gain_nothing_here_is_planned_on_one_thread(learn):
    """The model holds that a second thread nearly halves an FFT; where the timings show
    two-thread plans of it 3x slower than estimated and one-thread plans as estimated,
    it is planned on one thread (the faster estimate), and the report says so."""
    x, k = np.ones((512, 512)), np.random.default_rng(1).standard_normal((31, 31))
    two = fftconv.plan_correlate(x.shape, k, "same", method="overlap", workers=2)
    assert two.threads == 2
    points = 512 * 512
    key = learning.subject("overlap", two.estimate, np.dtype("float64"), 2)
    assert key.endswith(":2t")
    for _ in range(6):
        learning.observe(key, points, 1e-3, 3e-3)
    fftconv._engine.clear_caches()
    # without timings on one thread, that may be the strategy's speed here on any number
    assert fftconv.plan_correlate(x.shape, k, "same", method="overlap", workers=2).threads == 2
    single = fftconv.plan_correlate(x.shape, k, "same", method="overlap", workers=1)
    key1 = learning.subject("overlap", single.estimate, np.dtype("float64"), 1)
    for _ in range(6):  # one thread runs as the model holds: the second one gains nothing
        learning.observe(key1, points, 1e-3, 1e-3)
    fftconv._engine.clear_caches()
    again = fftconv.plan_correlate(x.shape, k, "same", method="overlap", workers=2)
    one = fftconv.plan_correlate(x.shape, k, "same", method="overlap", workers=1)
    assert again.workers == 2 and again.threads == 1
    assert again.estimated_seconds == pytest.approx(one.estimated_seconds)
    row = next(line for line in str(again.report()).splitlines() if "overlap" in line
               and "blocks" in line)
    assert "(on 1 thread)" in row
    np.testing.assert_allclose(again(x), one(x))
