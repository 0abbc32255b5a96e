"""The tap-by-tap numpy sum that serves before compiled code is worth loading.

Against the naive reference over every option. Also checked: that the planner prices
compiled code with its loading only while it is not loaded, the ski-rental switch, that
learning leaves the one-time part out, and a fresh process whose first small call never
imports numba.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
from fftconv._machine import costs as _costs
from fftconv._machine import jit, learning
from fftconv.strategies import Estimate
from reference import BOUNDARIES, MODES, assert_close, naive, random_array

EXAMPLES = 300 if os.environ.get("FFTCONV_FUZZ") == "deep" else 40


def _unload(patch: pytest.MonkeyPatch) -> None:
    """This process as if numba were not loaded yet, with nothing rented."""
    patch.setattr(jit, "_numba_loaded", lambda: False)
    patch.setattr(jit, "_renting", True)
    patch.setattr(jit, "_rented", 0.0)
    assert jit.pending()


@contextlib.contextmanager
def _unloaded():
    """:func:`_unload` for one example of a property test."""
    with pytest.MonkeyPatch.context() as patch:
        _unload(patch)
        try:
            yield
        finally:
            fftconv._engine.clear_caches()


@pytest.fixture
def unloaded(monkeypatch):
    """:func:`_unload` for a test; its own later patches are undone with it."""
    _unload(monkeypatch)
    yield
    fftconv._engine.clear_caches()


@st.composite
def problems(draw):
    ndim = draw(st.integers(1, 3))
    kshape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    mode = draw(st.sampled_from(MODES))
    shape = tuple(draw(st.integers(k if mode == "valid" else 1, 9)) for k in kshape)
    batched = draw(st.booleans())
    batch = (2,) if batched or draw(st.booleans()) else ()
    dtype = draw(st.sampled_from(["float32", "float64", "complex128", "int64", "uint8"]))
    seed = draw(st.integers(0, 2**16))
    x = random_array(batch + shape, dtype, seed)
    kdtype = "int64" if dtype in ("int64", "uint8") else dtype
    k = random_array(((2,) if batched else ()) + kshape, kdtype, seed + 1)
    if kdtype == "int64":
        k = k % 7 - 3
    options = {"boundary": draw(st.sampled_from(BOUNDARIES)),
               "axes": tuple(range(-ndim, 0))}
    if options["boundary"] == "constant" and draw(st.booleans()):
        options["cval"] = 2
    if mode == "same" and draw(st.booleans()):
        options["anchor"] = tuple(draw(st.integers(0, n - 1)) for n in kshape)
    if dtype.startswith("float") and draw(st.booleans()):
        x.reshape(-1)[draw(st.integers(0, x.size - 1))] = np.nan
    return draw(st.sampled_from(["convolve", "correlate"])), x, k, mode, options


@settings(max_examples=EXAMPLES)
@given(problem=problems())
def test_the_tap_sum_matches_the_reference(problem):
    operation, x, k, mode, options = problem
    with _unloaded():
        plan = getattr(fftconv, f"plan_{operation}")(x.shape, k, mode, x_dtype=x.dtype,
                                                     method="direct", **options)
    assert plan.estimate.variant == "taps", plan.report()
    got = plan(x)
    want = naive(x, k, mode, operation=operation, **options)
    assert got.dtype == fftconv.plan_convolve(x.shape, k, mode, x_dtype=x.dtype,
                                              **options).dtype
    assert_close(got, want, x, k, cval=options.get("cval", 0))


def test_a_missing_sample_has_the_compiled_sums_footprint(unloaded, monkeypatch):
    """A NaN's footprint is the compiled sum's and the reference's, exactly, zero taps
    included."""
    x = np.arange(100.0).reshape(10, 10)
    x[4, 4] = np.nan
    k = np.zeros((3, 3))
    k[0, 0], k[2, 1] = 1.5, -2.0
    taps = fftconv.correlate(x, k, "same", method="direct")
    zero = fftconv.correlate(np.ones((10, 10)), np.zeros((3, 3)), "same", method="direct")
    np.testing.assert_array_equal(zero, np.zeros((10, 10)))
    monkeypatch.setattr(jit, "_numba_loaded", lambda: True)
    compiled = fftconv.correlate(x, k, "same", method="direct")
    np.testing.assert_array_equal(np.isnan(taps), np.isnan(compiled))
    want = naive(x, k, "same", operation="correlate")
    np.testing.assert_array_equal(np.isnan(taps), np.isnan(want))
    np.testing.assert_allclose(taps, compiled, rtol=1e-15, equal_nan=True)


def test_compiled_code_is_priced_with_its_loading_only_until_it_is_loaded(unloaded,
                                                                          monkeypatch):
    x, k = np.ones(500, np.float32), np.ones((3,), np.float32)
    load = _costs.machine_costs()["overhead"]["jit_load"]
    report = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype).report()
    assert report.method == "direct" and "tap by tap in numpy" in str(report)
    assert report.candidates[0].estimate.once == 0.0
    image = fftconv.plan_correlate((64, 64), np.ones((3, 3)), "same").report()
    rows = {c.name: c for c in image.candidates}
    assert rows["separable"].estimate.once == pytest.approx(load)  # its passes: compiled
    assert "to load compiled code" in rows["separable"].estimate.note
    assert rows["direct"].estimate.variant == "taps" and rows["direct"].estimate.once == 0
    monkeypatch.setattr(jit, "_numba_loaded", lambda: True)  # numba came in (other work)
    plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype)
    assert plan.estimate.variant in ("axpy", "dense", "sparse")
    assert plan.estimate.once == 0.0


def test_the_stand_in_pays_rent_until_loading_is_worth_it(unloaded, monkeypatch):
    """Each tap-sum call counts what it spent over the compiled sum's estimate; when that
    adds up to the loading, compiled code is priced without it, and the one-shot path's
    remembered plan is checked again and replaced."""
    costs = _costs.default_costs()
    costs["overhead"]["jit_load"] = 2e-4  # a loading worth a few calls
    monkeypatch.setattr(_costs, "_costs", costs)
    x, k = np.ones((64, 64)), np.ones((3, 3)) + np.eye(3)
    picks = []
    for _ in range(6):
        fftconv.correlate(x, k, "same", method="direct")
        ((plan, _),) = fftconv._engine.calls._data.values()
        picks.append(plan.estimate.variant)
    assert picks[0] == "taps" and not jit.pending()
    assert picks[-1] in ("axpy", "dense"), picks
    assert picks.index(picks[-1]) <= 4, picks


def test_any_strategy_chosen_while_compiled_code_waits_pays_rent(unloaded, monkeypatch):
    """An FFT chosen only because compiled code has its loading to pay counts what it
    spends over the compiled sum, so a process repeating the call moves to the compiled
    sum after the loading's worth of calls; a strategy the caller named pays nothing."""
    costs = _costs.default_costs()
    costs["overhead"]["jit_load"] = 0.05
    monkeypatch.setattr(_costs, "_costs", costs)
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((512, 512)), rng.standard_normal((7, 7))
    named = fftconv.plan_convolve(x.shape, k, method="fft")
    assert "_rent" not in named.__dict__
    compiled = fftconv.plan_convolve(x.shape, k, method="direct").estimate.loaded
    auto = fftconv.plan_convolve(x.shape, k).estimate.seconds
    picks, rents = [], []
    for _ in range(200):
        fftconv.convolve(x, k)
        ((plan, _),) = fftconv._engine.calls._data.values()
        picks.append(plan.method)
        rents.append(plan.__dict__.get("_rent"))
        if plan.method == "direct":
            break
    assert picks[0] in ("fft", "overlap"), picks
    over, limit = rents[0]
    assert limit == 0.05 and over == pytest.approx(auto - compiled) and over > 0
    assert picks[-1] == "direct" and not jit.pending(), picks
    assert plan.estimate.once == 0 and plan.estimate.variant != "taps"
    assert 2 <= len(picks) <= 100, len(picks)


def test_learning_corrects_the_repeated_part_only(learn, monkeypatch):
    est = Estimate(seconds=1.0, memory=0, once=0.6)
    assert learning.corrected("direct:float32", 100, est, 2.0).seconds == pytest.approx(1.4)
    seen = []
    monkeypatch.setattr(learning, "observe", lambda *a: seen.append(a))
    monkeypatch.setattr(jit, "_numba_loaded", lambda: False)
    monkeypatch.setattr(jit, "_renting", True)
    x, k = np.ones((256, 256)), np.outer(np.arange(1.0, 8.0), np.arange(2.0, 9.0))
    plan = fftconv.plan_correlate(x.shape, k, "same", method="separable")
    assert plan.estimate.once > 0
    plan(x)
    plan(x)  # the first call is not counted; the second does not load anything
    ((_, _, estimated, _),) = seen
    assert estimated == pytest.approx(plan.estimate.seconds - plan.estimate.once)


FIRST = """
import sys
import numpy as np
import fftconv
x = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) % 7
y = fftconv.convolve(x, np.ones((3, 3), np.float32), "same")
print("numba" in sys.modules, float(y[10, 10]), float(y[0, 0]))
"""


def test_a_fresh_process_first_small_call_never_imports_numba():
    env = {**os.environ, "FFTCONV_CACHE_DIR": os.environ["FFTCONV_CACHE_DIR"]}
    out = subprocess.run([sys.executable, "-c", FIRST], capture_output=True, text=True,
                         check=True, env=env, timeout=120)
    loaded, inner, corner = out.stdout.split()
    x = np.arange(64 * 64, dtype=np.float64).reshape(64, 64) % 7
    assert loaded == "False"
    assert float(inner) == x[9:12, 9:12].sum()
    assert float(corner) == x[:2, :2].sum()
    assert out.stderr == ""


CROSSOVER = """
import sys
from fftconv.benchmark import crossover
result = crossover([(64, 64)], [3], references=False, repeat=1)
print("numba" in sys.modules, len(result.rows))
"""


def test_the_crossover_measures_compiled_code_not_the_stand_in():
    """fftconv.benchmark.crossover times a process in its steady state: in a fresh one,
    the direct sum it times is the compiled one."""
    env = {**os.environ, "FFTCONV_CACHE_DIR": os.environ["FFTCONV_CACHE_DIR"]}
    out = subprocess.run([sys.executable, "-c", CROSSOVER], capture_output=True, text=True,
                         check=True, env=env, timeout=300)
    assert out.stdout.split() == ["True", "1"], out.stderr
