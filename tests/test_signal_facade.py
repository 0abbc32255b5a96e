"""fftconv.signal against scipy.signal itself, where scipy's own tests do not reach.

scipy's tests (``tests/scipy_suite``) use small arrays, which the planner sums directly;
these cases are large enough for the FFT strategies, and cover dtypes, boundaries and
swaps one by one. scipy.signal is the reference throughout.
"""

import subprocess
import sys

import numpy as np
import pytest
import scipy.signal as sps
from facade_util import assert_like as facade_assert_like
from facade_util import random_data

from fftconv import signal

RNG = np.random.default_rng(7)
TYPES = ["bool", "int8", "uint8", "int16", "uint32", "int64", "uint64", "float16",
         "float32", "float64", "complex64", "complex128"]


def data(shape, dtype, high=3):
    return random_data(RNG, shape, dtype, high)


def assert_like(actual, expected):
    facade_assert_like(actual, expected, single=1e-4, half=2e-2)


def outcome(func, *args, **kwargs):
    """The result, or ValueError if the call raised one."""
    try:
        return func(*args, **kwargs)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("t2", TYPES)
@pytest.mark.parametrize("t1", TYPES)
def test_result_dtype_and_values_follow_scipy(t1, t2):
    x, k = data((40,), t1), data((7,), t2)
    for func in ("convolve", "correlate"):
        for mode in ("full", "same", "valid"):
            expected = getattr(sps, func)(x, k, mode, method="direct")
            assert_like(getattr(signal, func)(x, k, mode), expected)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("func", ["convolve", "correlate"])
@pytest.mark.parametrize("shapes", [((3000,), (401,)), ((401,), (3000,)), ((96, 80), (17, 9)),
                                    ((17, 9), (96, 80)), ((12, 10, 9), (5, 4, 3))])
@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_large_problems_match_scipy(func, mode, shapes, dtype):
    x, k = data(shapes[0], dtype), data(shapes[1], dtype)
    expected = getattr(sps, func)(x, k, mode, method="direct")
    assert_like(getattr(signal, func)(x, k, mode), expected)
    assert_like(getattr(signal, func)(x, k, mode, method="fft"), expected)


def test_integers_are_exact_where_a_float_fft_rounds_wrongly():
    # sums near 2**60: scipy's fft method rounds, its direct method and fftconv are exact
    x = RNG.integers(-2**24, 2**24, size=3000)
    k = RNG.integers(-2**24, 2**24, size=500)
    assert np.any(sps.convolve(x, k, method="fft") != sps.convolve(x, k, method="direct"))
    expected = sps.convolve(x, k, method="direct")
    np.testing.assert_array_equal(signal.convolve(x, k), expected)
    assert signal.convolve(x, k).dtype == np.int64


def test_integer_results_wrap_like_scipy():
    x = np.full(50, 100, dtype=np.int8)
    k = np.full(9, 3, dtype=np.int8)
    expected = sps.convolve(x, k, method="direct")
    np.testing.assert_array_equal(signal.convolve(x, k), expected)
    np.testing.assert_array_equal(signal.convolve2d(x[None], k[None]), expected[None])


def test_method_fft_on_integers_rounds_a_float_fft_like_scipy():
    x = np.array([2**40, 3, -7]), np.array([5, 2**20])
    assert signal.convolve(*x, method="fft").dtype == np.int64
    np.testing.assert_array_equal(signal.convolve(*x, method="fft"),
                                  sps.convolve(*x, method="fft"))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "circular", "symmetric", "pad"])
@pytest.mark.parametrize("shapes", [((40, 33), (7, 4)), ((7, 4), (40, 33)), ((5, 3), (21, 2)),
                                    ((150, 140), (31, 30))])
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
def test_2d_boundaries_match_scipy(func, boundary, mode, shapes):
    x, k = data(shapes[0], "complex128"), data(shapes[1], "complex128")
    expected = outcome(getattr(sps, func), x, k, mode, boundary, fillvalue=1.5 - 2j)
    actual = outcome(getattr(signal, func), x, k, mode, boundary, fillvalue=1.5 - 2j)
    if expected is ValueError:  # 'valid' with neither input fitting in the other
        assert actual is ValueError
    else:
        assert_like(actual, expected)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int64", "float32", "complex64"])
def test_2d_fillvalue_is_cast_to_the_output_dtype(dtype):
    x, k = data((9, 8), dtype), data((3, 4), dtype)
    for fill in (2, 1.75, np.float32(3)):
        expected = sps.convolve2d(x, k, "same", fillvalue=fill)
        assert_like(signal.convolve2d(x, k, "same", fillvalue=fill), expected)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # scipy's, for 1j
@pytest.mark.parametrize("fill, message", [
    ([], "empty"), ([1, 2], "one element"), (1j, "could not cast"),
    (np.array(2.0), "could not cast")])
def test_2d_fillvalue_errors_like_scipy(fill, message):
    with pytest.raises(ValueError, match=message):
        sps.convolve2d([[1, 2]], [[1]], fillvalue=fill)
    with pytest.raises(ValueError, match=message):
        signal.convolve2d([[1, 2]], [[1]], fillvalue=fill)


@pytest.mark.parametrize("axes", [None, -1, [-1], [0, -1], [1, -1]])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", [((6, 1, 70), (1, 4, 9)), ((1, 50), (5, 7)),
                                    ((2, 9, 80), (2, 5, 11))])
@pytest.mark.parametrize("func", ["fftconvolve", "oaconvolve"])
def test_freq_functions_broadcast_like_scipy(func, shapes, mode, axes):
    x, k = data(shapes[0], "float64"), data(shapes[1], "float64")
    expected = outcome(getattr(sps, func), x, k, mode, axes=axes)
    actual = outcome(getattr(signal, func), x, k, mode, axes=axes)
    if expected is ValueError:
        assert actual is ValueError
    else:
        assert_like(actual, expected)


@pytest.mark.parametrize("dtypes", [("int16", "int16"), ("uint8", "float32"),
                                    ("float16", "float16"), ("bool", "complex64"),
                                    ("float32", "complex128")])
def test_freq_functions_result_dtype(dtypes):
    x, k = data((300,), dtypes[0]), data((40,), dtypes[1])
    dtype = sps.fftconvolve(x, k).dtype  # scipy mixes precisions; the values come from a
    exact = sps.convolve(x.astype(complex), k.astype(complex), method="direct")  # wide sum
    expected = (exact if dtype.kind == "c" else exact.real).astype(dtype)
    assert_like(signal.fftconvolve(x, k), expected)


def test_nan_stays_where_the_direct_sum_puts_it():
    x = data((2000,), "float64")
    x[1000] = np.nan
    k = data((201,), "float64")
    expected = sps.convolve(x, k, "same", method="direct")
    with pytest.warns(RuntimeWarning, match="Use of fft convolution"):
        out = signal.convolve(x, k, "same", method="fft")
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    assert_like(np.nan_to_num(out), np.nan_to_num(expected))


def test_choose_conv_method_asks_the_planner_and_keeps_scipys_hard_rules():
    assert signal.choose_conv_method(np.ones(8), np.ones(6)) == "direct"
    assert signal.choose_conv_method(np.ones((512, 512)), np.ones((63, 63))) == "fft"
    assert signal.choose_conv_method(np.ones(10_000, bool), np.ones(9_000, bool)) == "direct"
    big = np.array([2**40] * 100)
    assert signal.choose_conv_method(big, big) == "direct"
    method, times = signal.choose_conv_method(np.ones(64), np.ones(5), measure=True)
    assert method in ("fft", "direct") and set(times) == {"fft", "direct"}


@pytest.mark.parametrize("call", [
    lambda: signal.convolve([1, 2], [1], mode="bogus"),
    lambda: signal.correlate([1, 2], [1], method="bogus"),
    lambda: signal.convolve([[1, 2]], [[1], [2]], "valid"),
    lambda: signal.fftconvolve([1, 2], [[1]]),
    lambda: signal.fftconvolve(np.ones((2, 3)), np.ones((3, 3)), axes=1),
    lambda: signal.convolve2d([1, 2], [1]),
    lambda: signal.correlate2d([[1, 2]], [[1]], boundary="reflect"),
])
def test_errors_are_valueerrors_naming_the_problem(call):
    with pytest.raises(ValueError, match=r"\S"):
        call()


def test_never_calls_scipy_signal(monkeypatch):
    import scipy.signal._signaltools as st

    def forbidden(*args, **kwargs):
        raise AssertionError("the façade called scipy.signal")

    for name in signal.__all__:
        monkeypatch.setattr(sps, name, forbidden)
        monkeypatch.setattr(st, name, forbidden)
    x, k = data((300, 20), "float64"), data((30, 3), "float64")
    for name in ("convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
                 "correlate2d"):
        getattr(signal, name)(x, k)
    signal.choose_conv_method(x, k)


def test_importing_the_facades_does_not_import_scipy():
    code = "import sys, fftconv.signal, fftconv.ndimage; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_docstring_examples():
    import doctest

    import fftconv.signal

    result = doctest.testmod(fftconv.signal, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
