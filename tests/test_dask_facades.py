"""fftconv.signal and fftconv.ndimage given a dask array: a lazy result equal to scipy's on
the computed array, or a TypeError naming the function; never a silent compute."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from fftconv import ndimage, signal  # noqa: E402


@pytest.fixture(autouse=True)
def _no_compute_while_building():
    """Building the graph must never compute anything: any compute here fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dask array was computed while building the graph")

    with dask.config.set(scheduler=refuse):
        yield


def _compute(y):
    assert isinstance(y, da.Array), f"expected a lazy dask array, got {type(y).__name__}"
    with dask.config.set(scheduler="sync"):
        return y.compute()


def _check(got, want, exact=False):
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


RNG = np.random.default_rng(12)


@pytest.mark.parametrize("func", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
@pytest.mark.parametrize("dtype", ["float64", "complex128", "int16"])
def test_signal_convolve_correlate_are_lazy_and_match_scipy(func, mode, method, dtype):
    x = (RNG.standard_normal((23, 17)) * 20).astype(dtype)
    k = (RNG.standard_normal((5, 4)) * 5).astype(dtype)
    if dtype.startswith("complex"):
        x = x + 1j * RNG.standard_normal(x.shape)
        k = k + 1j * RNG.standard_normal(k.shape)
    y = getattr(signal, func)(da.from_array(x, chunks=(7, 6)), k, mode=mode, method=method)
    want = getattr(scipy.signal, func)(x, k, mode=mode, method=method)
    _check(_compute(y), want, exact=dtype == "int16")


@pytest.mark.parametrize("func", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("axes", [None, 1, (0, 2)])
def test_signal_fftconvolve_oaconvolve_are_lazy_and_match_scipy(func, mode, axes):
    x = RNG.standard_normal((9, 30, 12))
    k = RNG.standard_normal({None: (3, 6, 4), 1: (1, 6, 1), (0, 2): (3, 1, 4)}[axes])
    y = getattr(signal, func)(da.from_array(x, chunks=(4, 11, 5)), k, mode=mode, axes=axes)
    _check(_compute(y), getattr(scipy.signal, func)(x, k, mode=mode, axes=axes))


def test_signal_fftconvolve_integers_are_float64_as_scipy():
    x = RNG.integers(-9, 9, (40,)).astype(np.int32)
    k = np.array([1, 2, 3], np.int32)
    y = signal.fftconvolve(da.from_array(x, chunks=7), k, mode="same")
    _check(_compute(y), scipy.signal.fftconvolve(x, k, mode="same"))


@pytest.mark.parametrize("func", ["correlate", "convolve"])
@pytest.mark.parametrize("mode", ["reflect", "constant", "nearest", "mirror", "wrap"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32"])
def test_ndimage_filters_are_lazy_and_match_scipy(func, mode, dtype):
    x = (RNG.random((21, 26)) * 200).astype(dtype)
    w = RNG.standard_normal((4, 5))
    kw = dict(mode=mode, cval=3.0, origin=(1, -1))
    y = getattr(ndimage, func)(da.from_array(x, chunks=(5, 8)), w, **kw)
    _check(_compute(y), getattr(scipy.ndimage, func)(x, w, **kw), exact=dtype[0] in "ui")


def test_ndimage_integer_weights_are_exact_and_output_dtype_and_axes_work():
    x = RNG.integers(0, 255, (6, 19, 14)).astype(np.uint8)
    w = RNG.integers(-3, 4, (3, 4)).astype(np.int64)
    d = da.from_array(x, chunks=(2, 5, 6))
    y = ndimage.correlate(d, w, mode="nearest", axes=(2, 1), output=np.int16)
    want = scipy.ndimage.correlate(x, w, mode="nearest", axes=(2, 1), output=np.int16)
    _check(_compute(y), want, exact=True)


def test_ndimage_complex_weights_match_scipy():
    x = RNG.standard_normal((15, 12))
    w = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    for func in ("correlate", "convolve"):
        y = getattr(ndimage, func)(da.from_array(x, chunks=5), w, mode="wrap")
        _check(_compute(y), getattr(scipy.ndimage, func)(x, w, mode="wrap"))


@pytest.mark.parametrize("func", ["correlate1d", "convolve1d"])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("size", [4, 5])
def test_ndimage_1d_filters_are_lazy_and_match_scipy(func, axis, size):
    x = RNG.standard_normal((17, 22))
    w = RNG.standard_normal(size)
    kw = dict(axis=axis, mode="mirror", origin=1)
    y = getattr(ndimage, func)(da.from_array(x, chunks=(4, 9)), w, **kw)
    _check(_compute(y), getattr(scipy.ndimage, func)(x, w, **kw))


@pytest.mark.parametrize("call", [
    lambda d, k: signal.convolve2d(d, k),
    lambda d, k: signal.correlate2d(d, k, mode="same"),
    lambda d, k: signal.choose_conv_method(d, k),
])
def test_signal_functions_without_a_lazy_form_refuse_by_name(call):
    d = da.ones((8, 8), chunks=4)
    with pytest.raises(TypeError, match=r"fftconv\.signal\.(convolve2d|correlate2d|"
                       r"choose_conv_method) does not take dask arrays.*fftconv\.dask"):
        call(d, np.ones((3, 3)))


def test_a_dask_kernel_is_refused_by_name():
    k = da.ones((3, 3), chunks=3)
    with pytest.raises(TypeError, match=r"fftconv\.signal\.convolve .*in2 is a dask array"
                       r".*fftconv\.dask"):
        signal.convolve(np.ones((8, 8)), k)
    with pytest.raises(TypeError, match=r"fftconv\.ndimage\.correlate .*weights is a dask "
                       r"array"):
        ndimage.correlate(da.ones((8, 8), chunks=4), k)


def test_valid_mode_needing_the_dask_array_as_kernel_is_refused():
    with pytest.raises(TypeError, match=r"fftconv\.signal\.correlate .*'valid' mode"):
        signal.correlate(da.ones((4,), chunks=2), np.ones(9), mode="valid")


def test_ndimage_output_array_is_refused_for_a_dask_input():
    d = da.ones((8, 8), chunks=4)
    with pytest.raises(TypeError, match=r"fftconv\.ndimage\.convolve .*output="):
        ndimage.convolve(d, np.ones((3, 3)), output=np.empty((8, 8)))


def test_bad_options_keep_the_in_memory_messages():
    d = da.ones((8, 8), chunks=4)
    with pytest.raises(ValueError, match="mode='bogus' is invalid"):
        signal.convolve(d, np.ones((3, 3)), mode="bogus")
    with pytest.raises(RuntimeError, match=r"weights.ndim \(1\) must match"):
        ndimage.correlate(d, np.ones(3))


def test_the_dispatch_does_not_import_dask_for_numpy_inputs():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from fftconv import signal, ndimage; "
            "signal.convolve(np.ones(5), np.ones(2)); ndimage.correlate(np.ones((4, 4)), "
            "np.ones((2, 2))); print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("cval", [[1], "1.5", b"2", np.array(2.0), 1.5], ids=repr)
@pytest.mark.parametrize("complex_input", [False, True])
def test_ndimage_and_dask_image_read_an_odd_cval_as_scipy_does(cval, complex_input):
    from fftconv.dask import ndfilters

    x = np.arange(36.0).reshape(6, 6) * (1 + 1j if complex_input else 1)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    xd = da.from_array(x, chunks=3)
    try:
        want = scipy.ndimage.correlate(x, w, cval=cval)
    except Exception as exc:  # the lazy façades refuse it as they build, with the same type
        for call in (ndimage.correlate, ndfilters.correlate):
            with pytest.raises(type(exc)):
                call(xd, w, cval=cval)
        return
    for call in (ndimage.correlate, ndfilters.correlate):
        np.testing.assert_allclose(_compute(call(xd, w, cval=cval)), want, rtol=1e-12)
