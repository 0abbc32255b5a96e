"""Integer and boolean inputs give exact int64/uint64 results on every method.

An FFT method may compute exactly (or fall back to an exact computation) or refuse with a
ValueError saying it cannot be exact; it may never return a wrong number.
"""

import numpy as np
import pytest

import fftconv
from reference import BOUNDARIES, METHODS, naive


def exact_or_refused(operation, x, kernel, mode="full", **options):
    """The engine's result, or None when an FFT method refuses because it cannot be exact."""
    try:
        return getattr(fftconv, operation)(x, kernel, mode, **options)
    except ValueError as exc:
        if options.get("method") in ("fft", "overlap") and "exact" in str(exc):
            return None
        raise


def assert_exact(got, want, dtype):
    if got is None:
        return
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.astype(object), want)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_int64_beyond_float64_precision(method, operation, mode):
    # results up to ~2**58: float64 cannot hold them, an FFT in float64 would round them
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**40), 2**40, 300)
    kernel = rng.integers(-(2**12), 2**12, 17)
    got = exact_or_refused(operation, x, kernel, mode, method=method)
    want = naive(x, kernel, mode, operation=operation)
    assert max(abs(v) for v in want) > 2**53
    assert_exact(got, want, np.int64)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_int64_2d_boundaries(method, boundary):
    rng = np.random.default_rng(1)
    x = rng.integers(-(2**35), 2**35, (40, 30))
    kernel = rng.integers(-(2**9), 2**9, (6, 5)).astype(np.int16)
    options = {"boundary": boundary, "cval": -7 if boundary == "constant" else 0}
    for mode in ("full", "same"):
        got = exact_or_refused("convolve", x, kernel, mode, method=method, **options)
        assert_exact(got, naive(x, kernel, mode, **options), np.int64)


@pytest.mark.parametrize("method", METHODS)
def test_small_integers_are_exact(method):
    # small enough that a float64 FFT provably rounds to the exact integer
    rng = np.random.default_rng(2)
    x = rng.integers(-100, 100, (50, 60)).astype(np.int8)
    kernel = rng.integers(-100, 100, (7, 9)).astype(np.int32)
    got = exact_or_refused("correlate", x, kernel, "same", method=method)
    assert_exact(got, naive(x, kernel, "same", operation="correlate"), np.int64)


@pytest.mark.parametrize("method", METHODS)
def test_uint64_when_both_unsigned(method):
    # 3 * 2**62 does not fit int64 but fits uint64
    x = np.array([2**62, 1, 2**62, 5], dtype=np.uint64)
    kernel = np.array([2, 1], dtype=np.uint8)
    got = exact_or_refused("convolve", x, kernel, method=method)
    assert_exact(got, naive(x, kernel), np.uint64)
    small = exact_or_refused("convolve", np.arange(20, dtype=np.uint8),
                             np.array([3, 1, 2], dtype=np.uint16), method=method)
    assert_exact(small, naive(np.arange(20), [3, 1, 2]), np.uint64)


@pytest.mark.parametrize("method", METHODS)
def test_bool_gives_int64_counts(method):
    rng = np.random.default_rng(3)
    x = rng.random((20, 25)) < 0.5
    kernel = np.ones((3, 3), dtype=bool)
    got = exact_or_refused("convolve", x, kernel, "same", method=method)
    assert_exact(got, naive(x, kernel, "same"), np.int64)
    if got is not None:
        assert got.max() <= 9


@pytest.mark.parametrize("method", METHODS)
def test_integer_with_float_gives_float64(method):
    x = np.arange(10, dtype=np.int32)
    got = fftconv.convolve(x, np.array([0.5, 0.25], dtype=np.float32), method=method)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, naive(x, [0.5, 0.25]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x, kernel", [
    (np.array([2**62, 2**62]), np.array([4])),          # one product is 2**64
    (np.full(4, 2**62), np.ones(4, dtype=np.int64)),     # the sum reaches 2**64
    (np.array([2**63], dtype=np.uint64), np.array([2], dtype=np.uint8)),
], ids=["product", "sum", "uint64"])
def test_overflow_never_wraps_silently(method, x, kernel):
    # the exact result fits neither int64 nor uint64
    with pytest.raises((OverflowError, ValueError), match="int64"):
        fftconv.convolve(x, kernel, method=method)
