"""Non-finite values: the direct sum's footprint on every method, and ``nan_policy``."""

import numpy as np
import pytest

import fftconv
from reference import BOUNDARIES, METHODS, assert_close, naive, naive_omit


def assert_same_ieee(got, want):
    """Same NaN, +inf and -inf positions; the finite values within rounding."""
    for test in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(test(np.real(got)) | test(np.imag(got)),
                                      test(np.real(want)) | test(np.imag(want)),
                                      err_msg=test.__name__)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_nan_footprint_is_the_direct_windows(method, boundary, mode, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((70, 60)).astype(dtype)
    x[30, 25] = np.nan  # one NaN inside, one on the edge (the boundary rule copies it)
    x[0, 59] = np.nan
    kernel = rng.standard_normal((5, 8)).astype(dtype)
    got = fftconv.convolve(x, kernel, mode, method=method, boundary=boundary)
    want = naive(x, kernel, mode, boundary=boundary)
    assert 0 < np.isnan(want).sum() < want.size / 10
    np.testing.assert_array_equal(~np.isfinite(got), np.isnan(want))
    finite = np.isfinite(want)
    assert_close(got[finite], want[finite], np.nan_to_num(x), kernel)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel", [[0.5, -1.0, 2.0, 0.25], [0.5, 0.0, 2.0, -0.25]],
                         ids=["nonzero", "zero-tap"])
def test_inf_values_match_the_direct_sum(method, dtype, kernel):
    # +inf alone, -inf alone, +inf and -inf in one window (NaN), and 0*inf in the zero-tap case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(400).astype(dtype)
    x[50], x[150], x[250], x[252] = np.inf, -np.inf, np.inf, -np.inf
    kernel = np.asarray(kernel, dtype=dtype)
    for operation in ("convolve", "correlate"):
        got = getattr(fftconv, operation)(x, kernel, "same", method=method)
        want = naive(x, kernel, "same", operation=operation)
        assert np.isposinf(want).any() and np.isneginf(want).any() and np.isnan(want).any()
        assert_same_ieee(got, want)
        finite = np.isfinite(want)
        assert_close(got[finite], want[finite], np.nan_to_num(x, posinf=0, neginf=0), kernel)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kernel, cval", [([1.0, np.nan, 2.0], 0.0), ([1.0, 2.0], np.inf)])
def test_nonfinite_kernel_or_cval_reaches_every_output(method, kernel, cval):
    # every output of the direct sum meets the NaN tap, or the infinite fill (full mode);
    # an FFT method may instead refuse, saying why
    x = np.arange(1.0, 31.0)
    try:
        got = fftconv.convolve(x, kernel, method=method, cval=cval)
    except ValueError as exc:
        assert method in ("fft", "overlap")
        assert f"method={method!r} cannot serve" in str(exc)
    else:
        assert_same_ieee(got, naive(x, kernel, cval=cval))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_policy_raise(method, bad):
    x = np.ones(50)
    assert_close(fftconv.convolve(x, [1.0, 2.0], method=method, nan_policy="raise"),
                 naive(x, [1.0, 2.0]), x, [1.0, 2.0])
    x[20] = bad
    with pytest.raises(ValueError, match="nan_policy='raise'"):
        fftconv.convolve(x, [1.0, 2.0], method=method, nan_policy="raise")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_nan_policy_omit_matches_reference(method, boundary, operation, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 50)).astype(dtype)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[10:14, 20:27] = np.inf  # a hole wider than the kernel: no valid weight inside
    kernel = (rng.random((3, 4)) + 0.1).astype(dtype)  # positive: weight 0 only if all missing
    options = {"boundary": boundary, "cval": 2.0 if boundary == "constant" else 0}
    for mode in ("full", "same", "valid"):
        got = getattr(fftconv, operation)(x, kernel, mode, method=method, nan_policy="omit",
                                          **options)
        want = naive_omit(x, kernel, mode, operation=operation, **options)
        assert np.isnan(want).any()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        valid = ~np.isnan(want)
        # the ratio of two sums amplifies rounding by at most sum|k| / min weight
        assert_close(got[valid], want[valid], np.nan_to_num(x, posinf=0), kernel,
                     cval=options["cval"], factor=8 * np.sum(kernel.real) / kernel.real.min())


@pytest.mark.parametrize("method", METHODS)
def test_nan_policy_omit_equals_propagate_without_missing_values(method):
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal((30, 40)), rng.standard_normal((5, 4))
    kernel += 1 - kernel.sum() / kernel.size  # sums to 20, some entries negative
    for boundary in BOUNDARIES:
        got = fftconv.correlate(x, kernel, "same", method=method, boundary=boundary,
                                nan_policy="omit")
        assert_close(got, naive(x, kernel, "same", operation="correlate", boundary=boundary),
                     x, kernel, factor=64)


@pytest.mark.parametrize("method", METHODS)
def test_nan_policy_omit_counts_cval_as_data(method):
    x = np.full(10, np.nan)
    kernel = np.array([1.0, 2.0, 3.0])
    got = fftconv.convolve(x, kernel, "full", method=method, cval=5.0, nan_policy="omit")
    want = np.full(12, np.nan)
    want[[0, 1, -2, -1]] = 5.0 * kernel.sum()  # windows reaching the fill
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_nan_policy_omit_rejects_a_zero_sum_kernel(method):
    x = np.array([1.0, np.nan, 3.0, 4.0])
    with pytest.raises(ValueError, match="sum"):
        fftconv.convolve(x, [1.0, -1.0], method=method, nan_policy="omit")
