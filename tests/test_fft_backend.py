"""The FFT back end: FFTW through pyfftw, and scipy.fft when pyfftw is missing."""

import sys

import numpy as np
import pytest
import scipy.signal

import fftconv
from fftconv._machine import fft as _fft
from fftconv._numerics.fftsize import best_size, size_cost, smooth_numbers


@pytest.fixture
def no_pyfftw(monkeypatch):
    """Make ``import pyfftw`` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "pyfftw", None)
    _fft._pyfftw.cache_clear()
    yield
    _fft._pyfftw.cache_clear()


def test_default_backend_is_pyfftw():
    assert _fft.backend_name() == "pyfftw"


@pytest.mark.parametrize("method", ["fft", "overlap"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_scipy_fallback_warns_and_matches(no_pyfftw, method, dtype):
    rng = np.random.default_rng(3)
    # shapes used nowhere else, so no plan made with FFTW is reused from the cache
    x = rng.standard_normal((37, 41)).astype(dtype)
    k = rng.standard_normal((6, 5)).astype(dtype)
    with pytest.warns(fftconv.FFTConvWarning, match="pyfftw is not installed"):
        assert _fft.backend_name() == "scipy.fft"
    got = fftconv.convolve(x, k, "same", method=method)
    want = scipy.signal.convolve(x.astype(np.complex128 if np.iscomplexobj(x) else np.float64),
                                 k, "same", method="direct")
    assert got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_smooth_numbers_are_7_smooth_and_complete():
    nums = smooth_numbers()
    assert nums[:12] == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14)
    assert all(nums[i] < nums[i + 1] for i in range(len(nums) - 1))
    for n in nums[:2000]:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        assert m == 1


def test_best_size_prefers_5_smooth_over_factors_of_7():
    weights = {"2": 1.0, "3": 1.1, "5": 1.2, "7": 1.6}
    assert best_size(1078, weights) == 1080  # 1078 = 2 * 7^2 * 11 is not even 7-smooth
    assert best_size(1029, weights) != 1029  # 3 * 7^3: slower than a nearby 5-smooth size
    assert best_size(1024, weights) == 1024
    assert size_cost(1080, weights) < size_cost(1176, weights)  # 1176 = 2^3 * 3 * 7^2


def test_real_transforms_avoid_odd_last_axis():
    weights = {"2": 1.0, "3": 1.0, "5": 1.0, "7": 1.0, "odd_real": 2.0}
    assert best_size(125, weights, real_last=True) % 2 == 0
    assert best_size(125, weights, real_last=False) == 125
