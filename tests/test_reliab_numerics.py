"""Exact integers never wrap, finite inputs never give non-finite FFT results, and the
minor validation gaps are closed (issue: nothing silently wrong, nothing crashes)."""

import numpy as np
import pytest
from reference import METHODS, naive

import fftconv

I64 = np.iinfo(np.int64)


def exact_or_overflow(x, kernel, mode="full", **options):
    """The result as Python ints, or the string 'overflow'."""
    try:
        return [int(v) for v in fftconv.convolve(x, kernel, mode, **options).ravel()]
    except OverflowError:
        return "overflow"


# -------------------------------------------------- uint64 mixed with signed or bool
@pytest.mark.parametrize("method", ["auto", "direct"])
@pytest.mark.parametrize("x, kernel", [
    (np.array([2**63 + 5, 7], np.uint64), np.array([1], np.int8)),
    (np.array([1, 0], np.int8), np.array([2**64 - 1], np.uint64)),
    (np.array([True, False]), np.array([2**63], np.uint64)),
    (np.array([2**63, 2**63], np.uint64), np.array([1, -1], np.int64)),
])
def test_uint64_with_signed_operand_is_exact_or_overflow_error(x, kernel, method):
    got = exact_or_overflow(x, kernel, method=method)
    want = naive(x.astype(object), kernel.astype(object), "full")
    if got != "overflow":
        assert got == list(want)
    else:
        assert any(not I64.min <= v <= I64.max for v in want) or any(
            int(v) > I64.max for v in np.concatenate([x.ravel(), kernel.ravel()]).astype(object))


@pytest.mark.parametrize("method", ["fft", "overlap"])
def test_an_int64_min_tap_cannot_pass_the_fft_exactness_bound(method):
    # abs(-2**63) wraps to -2**63 in int64: a negative norm passed the rounding bound
    x = np.array([False, False, True, False, False])
    k = np.array([-2**63], np.int64)
    for boundary in ("reflect", "constant"):
        try:
            got = fftconv.convolve(x, k, "same", boundary=boundary, method=method)
        except ValueError as exc:
            assert "exact" in str(exc)
            continue
        assert [int(v) for v in got] == [0, 0, -2**63, 0, 0]
    assert [int(v) for v in fftconv.convolve(x, k, "same")] == [0, 0, -2**63, 0, 0]


def test_uint64_values_that_fit_int64_still_compute():
    x = np.array([2**62, 3], np.uint64)
    got = fftconv.convolve(x, np.array([1, -1], np.int8))
    assert got.dtype == np.int64
    assert [int(v) for v in got] == [2**62, 3 - 2**62, -3]


def test_uint64_overflow_is_refused_in_plans_before_the_cast():
    p = fftconv.plan_convolve((2,), np.array([1], np.int8), x_dtype=np.uint64)
    with pytest.raises(OverflowError, match="int64"):
        p(np.array([2**63 + 5, 7], np.uint64))
    assert [int(v) for v in p(np.array([5, 7], np.uint64))] == [5, 7]


@pytest.mark.parametrize("x, kernel, want", [
    ([-2**63], [1], [-2**63]),
    ([2**63 - 1], [1], [2**63 - 1]),
    ([-2**62, -2**62], [1, 1], [-2**62, -2**63, -2**62]),
    ([2**62 - 1, 2**62 - 1], [1, 1], [2**62 - 1, 2**63 - 2, 2**62 - 1]),
])
def test_results_at_the_int64_limits_are_not_refused(x, kernel, want):
    assert exact_or_overflow(np.array(x, np.int64), np.array(kernel, np.int64)) == want


def test_results_past_the_int64_limits_are_refused():
    assert exact_or_overflow(np.array([-2**63], np.int64), np.array([-1], np.int64)) == "overflow"
    assert exact_or_overflow(np.array([2**62, 2**62], np.int64), [1, 1]) == "overflow"


# --------------------------------------------- finite inputs, non-finite FFT results
@pytest.mark.parametrize("method", ["fft", "overlap", "auto"])
@pytest.mark.parametrize("dtype, value, taps, n", [
    (np.float32, 1e36, 31, 2000),
    (np.float64, 1e307, 63, 3000),
    (np.complex64, 1e36, 31, 1500),
])
def test_huge_finite_inputs_give_finite_results(method, dtype, value, taps, n):
    rng = np.random.default_rng(0)
    x = (value * rng.uniform(0.5, 1.0, n)).astype(dtype)  # the spectrum's DC bin overflows
    if dtype == np.float64:  # alternating: every window sums to at most one sample
        x = value * (-1.0) ** np.arange(n)
    k = np.ones(taps, dtype)
    got = fftconv.convolve(x, k, "same", method=method)
    want = fftconv.convolve(x, k, "same", method="direct")
    assert np.isfinite(want).all()
    assert np.isfinite(got).all()
    scale = float(np.abs(x).max()) * taps
    tol = 1e-3 if np.dtype(dtype).itemsize <= 8 and dtype != np.float64 else 1e-9
    assert np.max(np.abs(got.astype(complex) - want.astype(complex))) <= tol * scale


def test_huge_float32_image_gives_finite_result():
    x = np.full((512, 512), 1e34, np.float32)
    k = np.ones((9, 9), np.float32)
    for method in ("fft", "overlap"):
        y = fftconv.convolve(x, k, "same", method=method)
        assert np.isfinite(y).all()
        np.testing.assert_allclose(y[200:300, 200:300], 81e34, rtol=1e-4)


@pytest.mark.parametrize("method", ["fft", "overlap"])
def test_huge_kernel_taps_give_finite_results(method):
    x = np.random.default_rng(1).standard_normal(700).astype(np.float32)
    k = np.full(25, 1e37, np.float32)
    got = fftconv.convolve(x, k, method=method)
    want = fftconv.convolve(x, k, method="direct")
    assert np.isfinite(want).all() and np.isfinite(got).all()
    assert np.max(np.abs(got - want)) <= 1e-3 * 1e37 * np.abs(x).max() * 25


@pytest.mark.parametrize("method", ["fft", "overlap"])
def test_a_plan_gives_finite_results_for_ordinary_then_huge_inputs(method):
    p = fftconv.plan_convolve((4000,), np.ones(31), "same", method=method)
    x = np.random.default_rng(2).standard_normal(4000)
    np.testing.assert_allclose(p(x), fftconv.convolve(x, np.ones(31), "same", method="direct"),
                               atol=1e-10)
    big = x * 1e306
    y = p(big)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, fftconv.convolve(big, np.ones(31), "same", method="direct"),
                               atol=1e-9 * 1e306 * 31 * np.abs(x).max())


def test_results_that_truly_overflow_are_inf_like_the_direct_sum():
    x = np.full(600, 3e38, np.float32)
    y = fftconv.convolve(x, np.ones(31, np.float32), "same", method="fft")
    want = fftconv.convolve(x, np.ones(31, np.float32), "same", method="direct")
    np.testing.assert_array_equal(np.isinf(y), np.isinf(want))


# ------------------------------------------------------------------ minor validation
def test_max_memory_inf_means_no_limit():
    y = fftconv.convolve(np.ones(5), np.ones(2), max_memory=float("inf"))
    np.testing.assert_array_equal(y, [1, 2, 2, 2, 2, 1])
    assert fftconv.explain((100,), (5,), max_memory=np.inf).method in METHODS


@pytest.mark.parametrize("value", [float("nan"), -1, 0, "1G", True])
def test_max_memory_invalid_values_are_named(value):
    with pytest.raises(ValueError, match=r"max_memory=.* is invalid; expected a positive number"):
        fftconv.convolve(np.ones(5), np.ones(2), max_memory=value)


@pytest.mark.parametrize("value", ["no", "yes", 1, None, np.array([True])])
def test_conjugate_must_be_a_bool(value):
    with pytest.raises(ValueError, match=r"conjugate=.* is invalid; expected True or False"):
        fftconv.correlate([1j, 2], [1j], conjugate=value)
    with pytest.raises(ValueError, match=r"conjugate=.* is invalid; expected True or False"):
        fftconv.plan_correlate((2,), [1j], conjugate=value)


def test_conjugate_numpy_bool_is_accepted():
    np.testing.assert_allclose(fftconv.correlate([1j, 2], [1j], conjugate=np.False_),
                               [-1, 2j])


@pytest.mark.parametrize("call", [
    lambda: fftconv.plan_convolve((), 2.0),
    lambda: fftconv.plan_correlate((), [[2.0]]),
    lambda: fftconv.explain((), ()),
])
def test_zero_dimensional_plans_are_a_clear_error(call):
    with pytest.raises(ValueError, match=r"x has 0 dimensions \(x_shape=\(\)\); expected at least 1"):
        call()


def test_two_scalars_still_convolve():
    assert fftconv.convolve(3.0, 2.0) == 6.0


@pytest.mark.parametrize("a", [
    np.random.default_rng(0).standard_normal(100_000),
    np.random.default_rng(1).standard_normal((30, 40)).astype(np.float32),
    np.random.default_rng(2).integers(0, 256, (64, 64)).astype(np.uint8),
    np.random.default_rng(3).integers(-2**40, 2**40, 1000),
    np.random.default_rng(4).integers(0, 2**63, 100, dtype=np.uint64),
    (np.arange(500) * (1 + 2j)).astype(np.complex64),
    np.random.default_rng(5).standard_normal((50, 60))[:, ::2],
    np.array([True, False, True]),
], ids=["f64", "f32", "u8", "i64", "u64", "c64", "strided", "bool"])
def test_the_blas_free_norm_is_numpys(a):
    from fftconv._numerics.norm import norm2

    wide = np.complex128 if a.dtype.kind == "c" else np.float64
    want = np.linalg.norm(a.astype(wide).ravel())
    assert norm2(a) == pytest.approx(want, rel=1e-14)


def test_new_kernels_and_exact_integer_ffts_do_not_wake_the_blas(monkeypatch):
    """The kernel's rank (every new kernel) and the exactness bound of an integer FFT
    (every call) are found without the BLAS, whose threads would spin beside the
    transforms that follow: numpy's norm is not called, and the results stand."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (300, 300)).astype(np.uint8)
    ks = [rng.integers(0, 3, (n, n)).astype(np.uint8) for n in (31, 70, 127)]

    def refuse(*args, **kwargs):
        raise AssertionError("np.linalg.norm called")

    want = [fftconv.correlate(x.astype(np.int64), k.astype(np.int64), "same", method="direct")
            for k in ks]
    monkeypatch.setattr(np.linalg, "norm", refuse)
    for k, w in zip(ks, want):
        fftconv._engine.clear_caches()
        got = fftconv.correlate(x, k, "same", method="fft")
        np.testing.assert_array_equal(got, w)
        plan = fftconv.plan_correlate(x.shape, k.astype(np.float64), "same")
        assert plan.problem.kernel.rank is None  # full rank, also by the sketch (127)


def test_the_one_norm_casts_integers_before_the_absolute_value():
    """``abs(-2**63)`` wraps in int64: a norm taken there would be negative."""
    from fftconv._numerics.norm import norm1

    assert norm1(np.array([np.iinfo(np.int64).min, 1], dtype=np.int64)) == 2.0**63 + 1
    assert norm1(np.array([-3, 4], dtype=np.int8)) == 7.0
    z = np.array([3 + 4j, -1.0], dtype=np.complex64)
    assert norm1(z) == pytest.approx(6.0)
