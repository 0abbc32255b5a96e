"""Missing data at any density: the sparse and dense formulations against the reference.

``FFTCONV_FUZZ=deep`` runs the property test with ten times as many cases. Each test
forces one formulation through the plan's threshold (``scatter``: every missing
sample scattered; ``dense``: window counts and normalised convolution), so both are held
to the naive direct sum (``tests/reference.py``) on every method.
"""

import math
import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import BOUNDARIES, assert_close, naive, naive_omit

import fftconv
from fftconv._numerics import counts

METHODS = ("direct", "fft", "overlap")
PATHS = {"scatter": 10**12, "dense": 0}


def forced(plan, path):
    """``plan`` with its scatter/dense threshold forced to ``path``."""
    nf = plan._missing()
    nf.threshold = {"propagate": PATHS[path], "omit": PATHS[path]}
    return plan


def make_plan(x, kernel, mode, path, operation="convolve", **options):
    maker = fftconv.plan_convolve if operation == "convolve" else fftconv.plan_correlate
    plan = maker(x.shape, kernel, mode, x_dtype=x.dtype, **options)
    return forced(plan, path)


def assert_same_ieee(got, want):
    """Same NaN, +inf and -inf positions (per component for complex)."""
    for part in (np.real, np.imag):
        g, w = part(np.asarray(got)), part(np.asarray(want))
        for test in (np.isnan, np.isposinf, np.isneginf):
            np.testing.assert_array_equal(test(g), test(w), err_msg=test.__name__)


def sprinkle(shape, density, dtype, seed, values=(np.nan,), clustered=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    if clustered:
        hole = tuple(slice(s // 3, s // 3 + max(2, s // 4)) for s in shape)
        x[hole] = values[0]
    bad = rng.random(shape) < density
    x[bad] = rng.choice(np.array(values, dtype=x.dtype), size=int(bad.sum()))
    return x


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_propagate_footprint_and_ieee_values(path, method, boundary, dtype):
    # nan, +inf and -inf at 10 %, a kernel with positive, negative and zero taps
    x = sprinkle((23, 19), 0.1, dtype, 1, values=(np.nan, np.inf, -np.inf))
    kernel = np.array([[0.5, -1.0, 0.0], [2.0, 0.0, 0.25]], dtype)
    for mode in ("full", "same", "valid"):
        got = make_plan(x, kernel, mode, path, method=method, boundary=boundary)(x)
        want = naive(x, kernel, mode, boundary=boundary)
        assert np.isposinf(want).any() and np.isneginf(want).any() and np.isfinite(want).any()
        assert_same_ieee(got, want)
        ok = np.isfinite(want)
        assert_close(got[ok], want[ok], np.nan_to_num(x, posinf=0, neginf=0), kernel)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("values", [(np.nan,), (np.inf, np.nan)], ids=["nan", "inf"])
def test_propagate_complex(path, method, values):
    x = sprinkle((17, 20), 0.05, "complex128", 2, values=values)
    kernel = np.array([[1 + 1j, 0, 2], [0.5j, -1, 0]])
    got = make_plan(x, kernel, "same", path, "correlate", method=method)(x)
    want = naive(x, kernel, "same", operation="correlate")
    assert_same_ieee(got, want)
    ok = np.isfinite(want)
    assert_close(got[ok], want[ok], np.nan_to_num(x, posinf=0, neginf=0), kernel)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel", [[[1.0, 2.0, 0.5], [0.3, 1.0, 0.7]],
                                    [[1.0, 0.0, 0.5], [0.0, 2.0, 0.0]]],
                         ids=["no-zero-tap", "zero-taps"])
def test_omit_matches_reference(path, method, boundary, dtype, kernel):
    kernel = np.asarray(kernel, dtype)
    for seed, (density, clustered) in enumerate([(0.02, False), (0.3, True), (0.6, False)]):
        x = sprinkle((24, 21), density, dtype, seed, values=(np.nan, np.inf), clustered=clustered)
        options = {"boundary": boundary, "cval": 1.5 if boundary == "constant" else 0}
        for mode in ("full", "same", "valid"):
            got = make_plan(x, kernel, mode, path, method=method, nan_policy="omit",
                            **options)(x)
            want = naive_omit(x, kernel, mode, **options)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            ok = ~np.isnan(want)
            assert_close(got[ok], want[ok], np.nan_to_num(x, posinf=0), kernel,
                         cval=options["cval"], factor=8 * kernel.sum() / kernel[kernel > 0].min())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
def test_omit_with_one_kernel_per_signal(path, method):
    rng = np.random.default_rng(5)
    x = sprinkle((3, 30), 0.3, "float64", 6)
    kernel = rng.random((3, 4)) + 0.1
    kernel[1, 2] = 0
    got = make_plan(x, kernel, "same", path, axes=1, method=method, nan_policy="omit")(x)
    for b in range(3):
        want = naive_omit(x[b], kernel[b], "same")
        np.testing.assert_array_equal(np.isnan(got[b]), np.isnan(want))
        ok = ~np.isnan(want)
        assert_close(got[b][ok], want[ok], np.nan_to_num(x[b]), kernel[b], factor=64)


@pytest.mark.parametrize("method", METHODS)
def test_dense_and_scatter_agree_at_every_density(method):
    kernel = np.outer(np.hanning(9) + 0.01, np.hanning(7) + 0.01)
    for density in (0.0, 0.001, 0.01, 0.1, 0.5, 1.0):
        x = sprinkle((40, 37), density, "float64", 7)
        for policy in ("propagate", "omit"):
            a = make_plan(x, kernel, "same", "scatter", method=method, nan_policy=policy)(x)
            b = make_plan(x, kernel, "same", "dense", method=method, nan_policy=policy)(x)
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12, equal_nan=True)


# ---------------------------------------------------------------- the rule (issue 11, 3-4)
@pytest.mark.parametrize("method", ["direct", "auto"])
def test_nonfinite_cval_under_a_zero_tap_counts(method):
    # issue 11 defect 3: the IEEE direct sum over the whole window; 0 * nan is nan
    x = np.arange(1.0, 9.0)
    got = fftconv.convolve(x, [0, 1, 0, 0, 0], "same", cval=np.nan, method=method)
    np.testing.assert_array_equal(np.isnan(got), [1, 1, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(got[2:6], [4, 5, 6, 7])
    want = naive(x, np.array([0.0, 1, 0, 0, 0]), "same", cval=np.nan)
    assert_same_ieee(got, want)


@pytest.mark.parametrize("cval", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("boundary_taps", [[0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
def test_nonfinite_cval_follows_the_direct_sum(cval, boundary_taps):
    x = np.array([1.0, -2.0, 0.0, 3.0, 4.0, 0.5])
    for mode in ("full", "same"):
        got = fftconv.correlate(x, boundary_taps, mode, cval=cval)
        assert_same_ieee(got, naive(x, np.array(boundary_taps), mode, cval=cval,
                                    operation="correlate"))


def test_infinite_tap_zero_tap_and_infinite_input_give_inf():
    # issue 11 defect 4: inf tap + zero tap + inf input: the direct sum's inf, not nan
    got = fftconv.correlate([1, np.inf, 2, 3], [np.inf, 0, 1], "full")
    want = naive(np.array([1, np.inf, 2, 3]), np.array([np.inf, 0, 1]), "full",
                 operation="correlate")
    assert np.isposinf(got[3])
    assert_same_ieee(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nonfinite_kernels_on_the_direct_sum(dtype):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((15, 16)).astype(dtype)
    x[rng.random(x.shape) < 0.1] = 0.0  # zeros meet the infinite taps: nan
    x[3, 4], x[9, 9], x[12, 2] = np.inf, -np.inf, np.nan
    kernel = np.array([[np.inf, 0.0, 1.0], [0.0, -np.inf, 2.0]], dtype)
    for mode in ("full", "same", "valid"):
        for boundary in BOUNDARIES:
            got = fftconv.convolve(x, kernel, mode, boundary=boundary)
            assert_same_ieee(got, naive(x, kernel, mode, boundary=boundary))


# ---------------------------------------------------------------- counts
@pytest.mark.parametrize("shape, k", [((1, 30), (7,)), ((2, 13, 17), (4, 5)), ((1, 6, 7, 8), (3, 1, 4))])
def test_counts_are_exact_on_every_path(shape, k):
    rng = np.random.default_rng(9)
    marks = rng.random(shape) < 0.3
    taps = rng.random((1, *k)) < 0.6
    taps.flat[0] = True
    out_shape = (shape[0],) + tuple(s - t + 1 for s, t in zip(shape[1:], k))
    want = np.zeros(out_shape, np.int64)
    for j in zip(*np.nonzero(taps[0])):
        sl = (slice(None),) + tuple(slice(a, a + n) for a, n in zip(j, out_shape[1:]))
        want += marks[sl]
    box = np.ones((1, *k), bool)
    want_box = naive(marks.astype(np.int64), box.astype(np.int64), "valid", operation="correlate")
    np.testing.assert_array_equal(counts.box_counts(marks, k), want_box)
    np.testing.assert_array_equal(counts.count(marks, box), want_box)
    np.testing.assert_array_equal(counts.count(marks, taps), want)  # cheapest way
    np.testing.assert_array_equal(counts._transform_counts(marks, taps), want)


def test_counts_stay_exact_past_float32():
    # 2**25 marks under a window: a float32 sum would round, the counts must not
    marks = np.ones((1, 1 << 13, 1 << 12), bool)
    got = counts.box_counts(marks, (1 << 13, 1 << 12))
    assert got.dtype == np.int32 and got.item() == 1 << 25


# ---------------------------------------------------------------- cost and memory (issue 11, 16)
def test_dense_missing_data_is_bounded_in_memory():
    # 30 % NaN used to scatter every NaN over the kernel and hold ~6x the input; the
    # dense formulation needs a few passes' worth of scratch
    rng = np.random.default_rng(10)
    x = rng.standard_normal((256, 256)).astype(np.float32)
    x[rng.random(x.shape) < 0.3] = np.nan
    kernel = np.ones((31, 31), np.float32)
    for policy in ("propagate", "omit"):
        plan = fftconv.plan_convolve(x.shape, kernel, "same", x_dtype="float32", method="fft",
                                     nan_policy=policy)
        plan(x)
        tracemalloc.start()
        plan(x)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 12 * x.nbytes, (policy, peak / x.nbytes)


def test_dense_path_is_chosen_for_many_missing_samples(monkeypatch):
    calls = []
    monkeypatch.setattr(counts, "scatter", lambda *a, **k: calls.append(a))
    x = sprinkle((128, 128), 0.3, "float64", 11)
    kernel = np.ones((15, 15))
    for policy in ("propagate", "omit"):
        y = fftconv.convolve(x, kernel, "same", method="fft", nan_policy=policy)
        assert not calls and y.shape == x.shape


def test_the_budget_splits_the_batch(monkeypatch):
    from fftconv._numerics.nonfinite import NonFinite

    seen = []
    original = NonFinite._apply

    def spy(self, xb, *args):
        seen.append(xb.shape[0])
        return original(self, xb, *args)

    monkeypatch.setattr(NonFinite, "_apply", spy)
    x = sprinkle((6, 64, 64), 0.2, "float64", 12)
    kernel = np.ones((9, 9))
    plan = fftconv.plan_convolve(x.shape, kernel, "same", axes=(1, 2), method="fft",
                                 nan_policy="omit", max_memory=1 << 20)
    got = plan(x)
    assert max(seen) < 6 and sum(seen) == 6
    want = fftconv.convolve(x, kernel, "same", axes=(1, 2), method="direct", nan_policy="omit")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_report_names_the_non_finite_formulations():
    text = str(fftconv.plan_convolve((512, 512), np.ones((31, 31)), "same", method="fft").report())
    assert "non-finite samples: propagate via a scatter of their terms up to" in text
    assert "else normalised convolution" in text
    threshold = int(text.split("omit via a scatter up to ")[1].split()[0])
    assert 0 < threshold < 512 * 512


def test_huge_finite_inputs_do_not_become_nan_under_omit():
    # the ratio is formed as num * (sum k / weight): no overflow of num * sum k
    # (the numerator times sum k would overflow; the result is sum k * 1e300)
    x = np.full((40, 40), 1e300)
    x[::3, ::4] = np.nan
    kernel = np.full((5, 5), 1e4)
    for path in PATHS:
        for method in ("direct", "fft"):
            got = make_plan(x, kernel, "same", path, method=method, nan_policy="omit",
                            boundary="edge")(x)
            assert np.isfinite(got).all()
            np.testing.assert_allclose(got, 25e4 * 1e300, rtol=1e-9)
            assert math.isfinite(float(np.max(got)))


# ---------------------------------------------------------------- property test
DEEP = os.environ.get("FFTCONV_FUZZ") == "deep"


@st.composite
def missing_cases(draw):
    ndim = draw(st.integers(1, 2))
    shape = tuple(draw(st.lists(st.integers(1, 14), min_size=ndim, max_size=ndim)))
    kshape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    special = rng.choice(np.array([np.nan, np.inf, -np.inf, 0.0]), size=shape)
    x = np.where(rng.random(shape) < draw(st.sampled_from([0.05, 0.3, 0.9])), special, x)
    k = rng.standard_normal(kshape)
    k[rng.random(kshape) < 0.3] = 0.0
    return x, k, draw(st.sampled_from(["full", "same"])), draw(st.sampled_from(BOUNDARIES))


@settings(max_examples=1000 if DEEP else 40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=missing_cases(), path=st.sampled_from(list(PATHS)),
       method=st.sampled_from(METHODS))
def test_any_missing_pattern_matches_the_direct_sum(case, path, method):
    """Random shapes, zero taps, nan/+inf/-inf/0 samples: both formulations give the
    direct sum's IEEE values (FFTCONV_FUZZ=deep runs ten times as many cases)."""
    x, k, mode, boundary = case
    got = make_plan(x, k, mode, path, method=method, boundary=boundary)(x)
    want = naive(x, k, mode, boundary=boundary)
    assert_same_ieee(got, want)
    ok = np.isfinite(want)
    assert_close(got[ok], want[ok], np.nan_to_num(x, posinf=0, neginf=0), k)
