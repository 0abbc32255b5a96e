"""Every method of the core engine against the naive reference of ``reference.py``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
from reference import (BOUNDARIES, METHODS, MODES, assert_close, expected_dtype, naive,
                       random_array)

FLOATING = ("float32", "float64", "complex64", "complex128")
EXACT = ("int64", "int16", "uint8", "bool")
ALIASES = {"fill": "constant", "zeros": "constant", "mirror": "reflect", "symm": "symmetric",
           "nearest": "edge", "replicate": "edge", "circular": "wrap", "periodic": "wrap"}


def call(operation, x, kernel, mode, **options):
    return getattr(fftconv, operation)(x, kernel, mode, **options)


@st.composite
def problems(draw, operation):
    """A random problem: arrays, mode and the options fftconv and the reference share."""
    ndim = draw(st.integers(1, 3))
    x_shape = tuple(draw(st.lists(st.integers(1, 8 - 2 * (ndim == 3)), min_size=ndim,
                                  max_size=ndim)))
    mode = draw(st.sampled_from(MODES))
    options = {}
    convolved = list(range(ndim))
    if ndim > 1 and draw(st.booleans()):
        convolved = sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim)))
        options["axes"] = tuple(a - ndim if draw(st.booleans()) else a for a in convolved)
    kernel_shape = []
    for a in range(ndim):
        n = x_shape[a]
        if a in convolved:
            kernel_shape.append(draw(st.integers(1, n if mode == "valid" else n + 3)))
        elif draw(st.booleans()):
            kernel_shape.append(n)  # one kernel per batch element
        else:
            kernel_shape.append(1)
    if "axes" in options and all(kernel_shape[a] == 1 for a in range(ndim) if a not in convolved):
        if draw(st.booleans()):  # the kernel with len(axes) dimensions
            kernel_shape = [kernel_shape[a] for a in convolved]
    x_dtype = draw(st.sampled_from(FLOATING + EXACT))
    k_dtype = draw(st.sampled_from((x_dtype,) + FLOATING + EXACT))
    exact = np.dtype(x_dtype).kind in "biu" and np.dtype(k_dtype).kind in "biu"
    unsigned = np.dtype(x_dtype).kind == np.dtype(k_dtype).kind == "u"
    options["boundary"] = draw(st.sampled_from(BOUNDARIES))
    if options["boundary"] == "constant":
        options["cval"] = draw(st.sampled_from((0, 3) if unsigned else (0, 3, -2))
                               if exact else st.sampled_from((0, 1.5, -2.25)))
    if mode == "same" and draw(st.booleans()):
        sizes = [kernel_shape[a] for a in range(len(kernel_shape))
                 if len(kernel_shape) < ndim or a in convolved]
        options["anchor"] = tuple(draw(st.integers(0, s - 1)) for s in sizes)
    if operation == "correlate":
        options["conjugate"] = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = random_array(x_shape, x_dtype, rng)
    kernel = random_array(tuple(kernel_shape), k_dtype, rng)
    return x, kernel, mode, options


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@settings(max_examples=75, deadline=None)
@given(data=st.data())
def test_matches_naive_reference(method, operation, data):
    x, kernel, mode, options = data.draw(problems(operation))
    want = naive(x, kernel, mode, operation=operation, **options)
    try:
        got = call(operation, x, kernel, mode, method=method, **options)
    except ValueError as exc:
        # an FFT may refuse integers it cannot compute exactly, but never answer wrongly
        if method in ("fft", "overlap") and x.dtype.kind in "biu" and kernel.dtype.kind in "biu":
            assert "exact" in str(exc)
            return
        raise
    assert got.dtype == expected_dtype(x.dtype, kernel.dtype)
    assert_close(got, want, x, kernel, cval=options.get("cval", 0))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("x_shape, k_shape", [((3000,), (41,)), ((150, 130), (13, 10))], ids=str)
def test_large_problems(method, operation, boundary, dtype, x_shape, k_shape):
    # big enough that the overlap method uses several blocks
    rng = np.random.default_rng(7)
    x, kernel = random_array(x_shape, dtype, rng), random_array(k_shape, dtype, rng)
    for mode in MODES:
        options = {"boundary": boundary, "cval": 0.5 if boundary == "constant" else 0}
        got = call(operation, x, kernel, mode, method=method, **options)
        want = naive(x, kernel, mode, operation=operation, **options)
        assert_close(got, want, x, kernel, cval=options["cval"])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_direct_chunks_and_threads(data):
    """The direct kernel reads x in place: interior columns at a shift, edge columns
    through the boundary's map. Tiny column chunks and forced threads put chunk borders
    on both sides of every edge."""
    from fftconv.strategies import _direct_kernel, direct

    ndim = data.draw(st.integers(1, 2))
    x_shape = tuple(data.draw(st.lists(st.integers(1, 30), min_size=ndim, max_size=ndim)))
    k_shape = tuple(data.draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    mode = data.draw(st.sampled_from(MODES[:2]))
    boundary = data.draw(st.sampled_from(BOUNDARIES))
    options = {"boundary": boundary, "cval": 1.5 if boundary == "constant" else 0}
    if mode == "same":
        options["anchor"] = tuple(data.draw(st.integers(0, k - 1)) for k in k_shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x, kernel = random_array(x_shape, "float64", rng), random_array(k_shape, "float64", rng)
    kernel[kernel < -1] = 0  # skipped zero taps
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_direct_kernel, "CHUNK", data.draw(st.integers(1, 7)))
        mp.setattr(direct, "PARALLEL_MIN_MACS", 0)
        plan = fftconv.plan_correlate(x_shape, kernel, mode, method="direct", workers=2,
                                      **options)
    want = naive(x, kernel, mode, operation="correlate", **options)
    assert_close(plan(x), want, x, kernel, cval=options["cval"])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x_shape, k_shape", [((20,), (3,)), ((9, 12), (3, 4))], ids=str)
def test_an_all_zero_kernel_gives_zeros(method, x_shape, k_shape):
    x = random_array(x_shape, "float64", np.random.default_rng(2))
    for mode in MODES:
        got = fftconv.convolve(x, np.zeros(k_shape), mode, method=method, cval=2.5)
        np.testing.assert_array_equal(got, naive(x, np.zeros(k_shape), mode, cval=2.5))


@pytest.mark.parametrize("alias, canonical", sorted(ALIASES.items()))
def test_boundary_aliases(alias, canonical):
    rng = np.random.default_rng(8)
    x, kernel = rng.standard_normal((9, 7)), rng.standard_normal((4, 3))
    got = fftconv.correlate(x, kernel, "same", boundary=alias)
    want = naive(x, kernel, "same", operation="correlate", boundary=canonical)
    assert_close(got, want, x, kernel)


@pytest.mark.parametrize("method", METHODS)
def test_dtype_override_computes_in_single_precision(method):
    rng = np.random.default_rng(9)
    x, kernel = rng.standard_normal(500), rng.standard_normal(20)
    got = fftconv.convolve(x, kernel, method=method, dtype="float32")
    assert got.dtype == np.float32
    assert_close(got, naive(x, kernel), x, kernel)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_tolerance_rejects_a_one_sample_shift(dtype):
    # the tolerance of assert_close must be able to fail on a misalignment
    rng = np.random.default_rng(10)
    x, kernel = random_array((40, 40), dtype, rng), random_array((6, 5), dtype, rng)
    want = naive(x, kernel, "same")
    shifted = naive(x, kernel, "same", anchor=(3, 2)).astype(dtype)
    assert_close(want.astype(dtype), want, x, kernel)
    with pytest.raises(AssertionError):
        assert_close(shifted, want, x, kernel)
