"""The FFT back end: FFTW through pyfftw, and scipy.fft when pyfftw is missing."""

import sys

import numpy as np
import pytest
import scipy.signal

import fftconv
from fftconv._machine import fft as _fft
from fftconv._numerics.fftsize import (
    best_size,
    capped_lengths,
    log_factor,
    size_cost,
    smooth_numbers,
)


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


@pytest.mark.parametrize("real", [False, True])
@pytest.mark.parametrize("least, top", [(1, 1), (13, 525), (129, 4000), (61, 60)])
def test_capped_lengths_are_the_capped_best_sizes_with_their_log_factor_terms(least, top, real):
    weights = fftconv._machine.costs.machine_costs()["prime_weight"]
    edges = (32, 64, 128, 256, 512, 1024, 2048)
    lengths, terms = capped_lengths(edges, least, top, weights, real)
    assert lengths == tuple(min(best_size(max(e, least), weights, real), top) for e in edges)
    assert terms == tuple(size_cost(n, weights, real) / n for n in lengths)
    # summed axis by axis, the terms are log_factor exactly (the overlap search relies on it)
    other = capped_lengths(edges, 7, 300, weights, False)
    for j in range(len(edges)):
        assert other[1][j] + terms[j] == log_factor((other[0][j], lengths[j]), weights, real)
    assert capped_lengths(edges, least, top, weights, real) is not None


@pytest.mark.parametrize("shape, kshape, dtype, max_memory, workers", [
    ((512, 512), (7, 7), "float64", None, 2), ((300, 700), (77, 77), "float64", None, 1),
    ((2048, 2048), (17, 17), "float32", 1 << 20, 2), ((4096,), (63,), "complex128", None, 2),
    ((37, 1001), (9, 129), "float32", 1 << 20, 1), ((64, 64, 64), (5, 5, 5), "float64", None, 2)])
def test_overlap_picks_the_cheapest_block_that_fits(shape, kshape, dtype, max_memory, workers):
    """The block search against its statement: over the edges, the fast lengths holding the
    edge and the kernel, capped at the whole output, priced one by one; the cheapest that
    fits wins (the first of equals), and the search stops at the block covering the array."""
    from fftconv._machine.costs import machine_costs
    from fftconv.strategies import overlap

    plan = fftconv.plan_convolve(shape, np.ones(kshape), x_dtype=dtype, method="overlap",
                                 max_memory=max_memory, workers=workers)
    problem, costs = plan.problem, machine_costs()
    w, real = costs["prime_weight"], np.dtype(dtype).kind != "c"
    whole = overlap.fft_lengths(problem, costs)[1]
    prices = overlap._Prices(problem, costs)
    last = problem.ndim - 1
    best = None
    for edge in overlap._EDGES:
        block = tuple(min(best_size(max(edge, 2 * k - 1), w, real and i == last),
                          best_size(k - 1 + n, w, real and i == last))
                      for i, (k, n) in enumerate(zip(problem.k, problem.out_len)))
        seconds, memory, _, _ = prices.cost(block, log_factor(block, w, real), workers)
        fits = memory <= problem.max_memory
        if best is None or (fits and not best[2]) or (fits == best[2] and seconds < best[1]):
            best = (block, seconds, fits)
        if all(f >= m for f, m in zip(block, whole)):
            break
    estimate = overlap.OverlapSave().estimate(problem, costs, workers)
    assert estimate.fft_shape == best[0]
    assert estimate.seconds == best[1]


@pytest.mark.parametrize(("kernel_shape", "fft_shape"), [
    ((1, 9), (40,)), ((2, 7, 5), (24, 30)), ((1, 63, 63), (1000, 560)),
    ((1, 3, 4, 5), (12, 10, 16)), ((1, 40, 40), (48, 64))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("workers", [1, 2])
def test_the_kernel_spectrum_axis_by_axis_is_numpys_whole_transform(kernel_shape, fft_shape,
                                                                   dtype, workers):
    """The staged transform (last axis over the kernel's rows, then each axis over what
    the later ones filled; the first axis's pass in slabs when split) is the whole one."""
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal(kernel_shape).astype(dtype)
    if np.iscomplexobj(kernel):
        kernel = kernel + 1j * rng.standard_normal(kernel_shape)
    padded = np.zeros((kernel_shape[0], *fft_shape), kernel.dtype)
    rev = (slice(None),) + (slice(None, None, -1),) * len(fft_shape)
    padded[(slice(None),) + tuple(slice(0, k) for k in kernel_shape[1:])] = kernel[rev]
    axes = tuple(range(1, len(fft_shape) + 1))
    whole = (np.fft.fftn(padded, axes=axes) if np.iscomplexobj(kernel)
             else np.fft.rfftn(padded, axes=axes)) / np.prod(fft_shape)
    got = _fft.kernel_spectrum(kernel, fft_shape, np.dtype(dtype), 1, workers=workers)
    assert got.shape == whole.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, whole, rtol=0, atol=tol * np.abs(whole).max())
