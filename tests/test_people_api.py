"""What users see from Python: kernel dtypes, messages, and foreign array types."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.ndimage

import fftconv
from fftconv import kernels

KERNELS = {
    "gaussian": lambda **kw: kernels.gaussian(2.0, **kw),
    "laplacian_of_gaussian": lambda **kw: kernels.laplacian_of_gaussian(2.0, **kw),
    "box": lambda **kw: kernels.box(4, **kw),
    "disk": lambda **kw: kernels.disk(3.5, **kw),
    "motion": lambda **kw: kernels.motion(7, 30, **kw),
    "normalize": lambda **kw: kernels.normalize([[1, 2, 1]], **kw),
}


def test_every_kernel_function_has_a_dtype_parameter():
    public = {n for n in kernels.__all__}
    assert public == set(KERNELS)


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("dtype", ["float32", np.float16, np.dtype("float64")])
def test_kernel_dtype_is_the_float64_kernel_rounded_once(name, dtype):
    k = KERNELS[name](dtype=dtype)
    reference = KERNELS[name]()
    assert reference.dtype == np.float64
    assert k.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(k, reference.astype(dtype))


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("bad", ["int8", "complex64", "float", True, None, "nonsense"])
def test_kernel_dtype_must_be_real_floating(name, bad):
    if bad == "float":  # np.dtype("float") is float64: accepted
        assert KERNELS[name](dtype=bad).dtype == np.float64
        return
    with pytest.raises(ValueError, match=r"^dtype=.* is invalid; expected a real "
                       r"floating-point dtype such as 'float32' or 'float64'$"):
        KERNELS[name](dtype=bad)


def test_a_float32_kernel_keeps_a_float32_image_in_float32():
    """The README's example: what runs is what explain() describes."""
    image = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    kernel = kernels.gaussian(3.0, dtype="float32")
    y = fftconv.convolve(image, kernel, mode="same", boundary="symmetric")
    report = fftconv.explain(image.shape, kernel.shape, mode="same", boundary="symmetric",
                             x_dtype=image.dtype, kernel_dtype=kernel.dtype)
    assert y.dtype == np.float32
    assert "float32" in str(report) and "float64" not in str(report)
    expected = scipy.ndimage.gaussian_filter(image.astype(np.float64), 3.0, mode="reflect")
    np.testing.assert_allclose(y, expected, atol=1e-5)


@pytest.mark.parametrize("make, what", [
    (lambda: kernels.box(200_000), "size=200000 gives a 200000x200000 kernel"),
    (lambda: kernels.gaussian(1e6), "sigma=1000000.0 gives a 8000001x8000001 kernel"),
    (lambda: kernels.laplacian_of_gaussian(1e6), "sigma=1000000.0 gives a 8000001x8000001 kernel"),
    (lambda: kernels.motion(1e6, 45), "length=1000000.0 gives a 707107x707107 kernel"),
    (lambda: kernels.disk(1e6), "radius=1000000.0 gives a 2000001x2000001 kernel"),
])
def test_a_kernel_larger_than_memory_is_refused_before_allocating(make, what):
    with pytest.raises(ValueError, match=re.escape(what) + r" of [0-9.e+]+ GiB, more than "
                       r"the [0-9.]+ GiB of memory available$"):
        make()


# -- messages -----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda x: fftconv.explain(x, (3, 3)),
    lambda x: fftconv.plan_convolve(x, np.ones((3, 3))),
    lambda x: fftconv.plan_correlate(x, np.ones((3, 3))),
    lambda x: fftconv.explain((8, 8), x),
])
def test_an_array_where_a_shape_belongs_is_named_not_dumped(call):
    x = np.arange(64.0).reshape(8, 8)
    with pytest.raises(ValueError) as info:
        call(x)
    message = str(info.value)
    assert re.fullmatch(r"(x_shape|kernel_shape) is invalid: expected a shape such as "
                        r"x\.shape; got an ndarray of shape \(8, 8\)", message), message


def test_a_shape_given_as_an_integer_array_is_still_a_shape():
    assert str(fftconv.explain(np.array([64, 64]), (3, 3))).startswith(
        "fftconv plan: convolve 64x64 (float64) with 3x3")


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.dtype("float16"), np.str_])
def test_dtypes_print_by_name(dtype):
    with pytest.raises(ValueError) as info:
        fftconv.convolve(np.ones(5), np.ones(3), dtype=dtype)
    message = str(info.value)
    assert message.startswith(f"dtype={np.dtype(dtype).name!r} is invalid; expected one of")
    assert "<class" not in message and "dtype(" not in message


def test_an_unknown_dtype_argument_prints_by_name():
    with pytest.raises(ValueError, match=r"^x_dtype='nonsense' is invalid; expected a numpy "
                       r"dtype$"):
        fftconv.explain((8,), (3,), x_dtype="nonsense")


@pytest.mark.parametrize("boundary", ["reflect", "symmetric", "edge", "wrap", "mirror",
                                      "nearest", "circular"])
@pytest.mark.parametrize("cval", [2.5, -1, np.nan])
def test_cval_with_a_boundary_that_never_reads_it_is_an_error(boundary, cval):
    with pytest.raises(ValueError, match=rf"^cval={re.escape(repr(cval))} is invalid with "
                       rf"boundary={boundary!r}, which never reads it; cval is the value "
                       r"beyond the edges for boundary='constant' only$"):
        fftconv.convolve(np.ones(8), np.ones(3), "same", boundary=boundary, cval=cval)
    with pytest.raises(ValueError, match="never reads it"):
        fftconv.plan_correlate((8,), np.ones(3), "same", boundary=boundary, cval=cval)


def test_cval_zero_is_accepted_with_every_boundary_and_constant_uses_cval():
    for boundary in ("reflect", "symmetric", "edge", "wrap"):
        fftconv.convolve(np.ones(8), np.ones(3), "same", boundary=boundary, cval=0.0)
    y = fftconv.convolve(np.zeros(4), np.ones(3), "same", boundary="constant", cval=2.0)
    np.testing.assert_array_equal(y, [2.0, 0.0, 0.0, 2.0])


def test_the_ndimage_facade_still_accepts_cval_with_every_mode_as_scipy_does():
    x = np.random.default_rng(1).standard_normal(20)
    w = np.array([1.0, -2.0, 0.5])
    for mode in ("reflect", "mirror", "nearest", "wrap"):
        np.testing.assert_allclose(
            fftconv.ndimage.correlate1d(x, w, mode=mode, cval=3.0),
            scipy.ndimage.correlate1d(x, w, mode=mode, cval=3.0), atol=1e-12)


def test_the_signal_facade_still_accepts_fillvalue_with_symm_and_wrap():
    import scipy.signal

    a = np.random.default_rng(2).standard_normal((6, 7))
    b = np.random.default_rng(3).standard_normal((3, 2))
    for boundary in ("symm", "wrap"):
        np.testing.assert_allclose(
            fftconv.signal.convolve2d(a, b, "same", boundary=boundary, fillvalue=4.0),
            scipy.signal.convolve2d(a, b, "same", boundary=boundary, fillvalue=4.0),
            atol=1e-12)


# -- array types: no silent surprise ------------------------------------------------------

def _masked():
    return np.ma.masked_array(np.arange(6.0), mask=[0, 0, 1, 0, 0, 0])


def _dask():
    da = pytest.importorskip("dask.array")
    return da.ones(6, chunks=3)


def _xarray():
    xr = pytest.importorskip("xarray")
    return xr.DataArray(np.arange(6.0), dims="t", coords={"t": np.arange(6) * 0.5})


def _torch():
    torch = pytest.importorskip("torch")
    return torch.arange(6.0)


def _tf():
    tf = pytest.importorskip("tensorflow")
    return tf.range(6.0)


FOREIGN = {
    "masked": (_masked, (r"is a numpy\.ma\.MaskedArray: fftconv would ignore its mask; pass "
               r"{n}\.filled\(np\.nan\) with nan_policy='omit'")),
    "dask": (_dask, (r"is a dask array: fftconv would load it whole into memory; pass "
             r"{n}\.compute\(\)")),
    "xarray": (_xarray, (r"is an xarray\.DataArray: fftconv returns a plain numpy array and "
               r"would drop its coordinates and attributes; pass {n}\.to_numpy\(\)")),
    "torch": (_torch, (r"is a torch\.Tensor: fftconv computes on numpy arrays and returns "
              r"one; pass {n}\.numpy\(\)")),
    "tensorflow": (_tf, (r"is a TensorFlow tensor: fftconv computes on numpy arrays and "
                   r"returns one; pass {n}\.numpy\(\)")),
}


#: Array types the core supports itself (masked arrays: missing data; dask: lazy).
SUPPORTED = {"masked", "dask"}


@pytest.mark.parametrize("kind", sorted(set(FOREIGN) - SUPPORTED))
@pytest.mark.parametrize("role", ["x", "kernel"])
def test_foreign_arrays_raise_a_type_error_naming_the_conversion(kind, role):
    make, pattern = FOREIGN[kind]
    a = make()
    args = (a, np.ones(3)) if role == "x" else (np.ones(8), a)
    for op in (fftconv.convolve, fftconv.correlate):
        with pytest.raises(TypeError, match="^" + role + " " + pattern.format(n=role)):
            op(*args)
    if role == "kernel":
        with pytest.raises(TypeError, match="^kernel " + pattern.format(n="kernel")):
            fftconv.plan_convolve((8,), a)


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_the_named_conversion_works(kind):
    """Each message's recipe gives the result a user expects."""
    a = FOREIGN[kind][0]()
    k = np.array([1.0, 2.0, 1.0])
    if kind == "masked":
        y = fftconv.convolve(a.filled(np.nan), k, "same", nan_policy="omit")
        assert np.isfinite(y).all()  # the masked sample is left out, not used as 2.0
        # the two valid taps' mean, rescaled by the kernel's total weight 4
        assert y[2] == pytest.approx((1 * 1 + 3 * 1) / 2 * 4)
        return
    values = a.compute() if kind == "dask" else (a.to_numpy() if kind == "xarray"
                                                 else a.numpy())
    np.testing.assert_allclose(fftconv.convolve(values, k, "same"),
                               np.convolve(np.asarray(values), k, "same"))


def test_xarray_apply_ufunc_keeps_the_coordinates():
    xr = pytest.importorskip("xarray")
    da = _xarray()
    k = np.array([1.0, 2.0, 1.0])
    out = xr.apply_ufunc(lambda a: fftconv.convolve(a, k, "same"), da)
    assert isinstance(out, xr.DataArray)
    np.testing.assert_array_equal(out["t"], da["t"])
    np.testing.assert_allclose(out.values, np.convolve(da.values, k, "same"))


def test_masked_and_dask_inputs_get_what_users_expect_not_a_silent_conversion():
    k = np.array([1.0, 2.0, 1.0])
    y = fftconv.convolve(_masked(), k, "same")
    assert isinstance(y, np.ma.MaskedArray) and y.mask[2]  # the mask is not ignored
    lazy = fftconv.convolve(_dask(), k, "same")
    import dask.array as da

    assert isinstance(lazy, da.Array)  # not pulled into memory
    np.testing.assert_allclose(lazy.compute(), np.convolve(np.ones(6), k, "same"))


@pytest.mark.parametrize("kind", sorted(SUPPORTED))
def test_nn_refuses_masked_and_dask_inputs_naming_the_conversion(kind):
    make, pattern = FOREIGN[kind]
    a = make().reshape(1, 1, 6)
    with pytest.raises(TypeError, match="^input " + pattern.format(n="input")):
        fftconv.nn.conv1d(a, np.ones((1, 1, 3)))


def test_the_nn_facade_names_the_tensor_conversion_too():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"^input is a torch\.Tensor: .*pass input\.numpy\(\)"):
        fftconv.nn.conv1d(torch.ones(1, 1, 5), np.ones((1, 1, 3)))


def test_numpy_subclasses_without_a_surprise_still_work():
    class Plain(np.ndarray):
        pass

    m = np.array([[1.0, 2.0], [3.0, 4.0]]).view(Plain)
    assert fftconv.convolve(m, np.ones((1, 1))).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_uint8_times_uint8_is_exact_uint64_and_the_recipe_gets_uint8_back():
    image = np.array([[0, 255, 255], [10, 20, 30]], np.uint8)
    kernel = np.ones((1, 3), np.uint8)
    y = fftconv.convolve(image, kernel, "same")
    assert y.dtype == np.uint64
    assert y.tolist() == [[255, 510, 510], [30, 60, 50]]
    # The recipe in conventions.md: a float kernel that sums to 1, then round and clip.
    mean = fftconv.convolve(image, kernels.box((1, 3), dtype="float32"), "same",
                            boundary="edge")
    back = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    expected = scipy.ndimage.uniform_filter(image.astype(np.float32), (1, 3), mode="nearest")
    np.testing.assert_array_equal(back, np.clip(np.rint(expected), 0, 255).astype(np.uint8))


# -- fftconv.nn: a hint when the data looks like the other data_format --------------------

@pytest.mark.parametrize("x_shape, w_shape, fmt, hint", [
    ((1, 64, 64, 3), (8, 3, 5, 5), "channels_first",
     ("the input looks like data_format='channels_last' (N, *spatial, C): with "
     "data_format='channels_first' pass np.moveaxis(input, -1, 1)")),
    ((1, 3, 64, 64), (5, 5, 3, 8), "channels_first",
     ("the weight looks like data_format='channels_last', (*k, C/groups, O), Keras' layout: "
     "with data_format='channels_first' pass np.moveaxis(weight, (-1, -2), (0, 1))")),
    ((1, 64, 64, 3), (5, 5, 3, 8), "channels_first",
     ("input and weight look like data_format='channels_last' (N, *spatial, C) and (*k, "
     "C/groups, O), Keras' layout: pass data_format='channels_last'")),
    ((1, 3, 64, 64), (8, 3, 5, 5), "channels_last",
     "input and weight look like data_format='channels_first'"),
    ((1, 3, 64, 64), (5, 5, 3, 8), "channels_last",
     ("the input looks like data_format='channels_first' (N, C, *spatial): with "
     "data_format='channels_last' pass np.moveaxis(input, 1, -1)")),
])
def test_nn_channel_mismatch_hints_at_the_other_layout(x_shape, w_shape, fmt, hint):
    with pytest.raises(ValueError, match=r"^channel mismatch: .*; " + re.escape(hint)):
        fftconv.nn.conv2d(np.zeros(x_shape), np.zeros(w_shape), data_format=fmt)


def test_nn_mismatch_without_a_layout_explanation_has_no_hint():
    with pytest.raises(ValueError) as info:
        fftconv.nn.conv2d(np.zeros((1, 4, 16, 16)), np.zeros((5, 5, 3, 8)))
    assert str(info.value) == ("channel mismatch: the input has 4 channels, but the weight "
                               "expects 5 per group x groups=1 = 5")


def test_a_keras_weight_that_fits_channels_first_by_chance_warns():
    """(3, 3, 3, 8) reads as 3 output channels and a 3x8 kernel in torch's layout."""
    x = np.zeros((1, 3, 40, 40))
    with pytest.warns(fftconv.FFTConvWarning, match=re.escape(
            "weight of shape (3, 3, 3, 8) read with data_format='channels_first' gives a 3x8 "
            "kernel; it looks like data_format='channels_last' with a 3x3 kernel ((*k, "
            "C/groups, O), Keras' layout); if so, pass np.moveaxis(weight, (-1, -2), (0, 1))")):
        y = fftconv.nn.conv2d(x, np.zeros((3, 3, 3, 8)))
    assert y.shape == (1, 3, 38, 33)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fftconv.nn.conv2d(x, np.zeros((8, 3, 3, 3)))  # torch layout, square: no warning
        fftconv.nn.conv2d(x, np.zeros((8, 3, 3, 5)))  # non-square, no other reading fits


# -- sizes past the tables -----------------------------------------------------------------

def test_explain_a_signal_longer_than_the_fft_length_table():
    """explain((3_000_000_000,), (3,)) raised IndexError in the FFT length table."""
    report = fftconv.explain((3_000_000_000,), (3,))
    assert report.method == "direct"
    fft = next(c for c in report.candidates if c.name == "fft")
    assert fft.estimate is None or fft.estimate.fft_shape[0] >= 3_000_000_002


def test_the_fft_length_beyond_the_table_is_the_next_power_of_two():
    from fftconv._numerics.fftsize import best_size, smooth_numbers

    top = smooth_numbers()[-1]
    assert best_size(top, {}) == top
    n = best_size(top + 1, {})
    assert n >= top + 1 and n & (n - 1) == 0 and n < 2 * (top + 1)


def test_a_shape_with_more_elements_than_an_array_holds_is_refused():
    with pytest.raises(ValueError, match=r"^x_shape=\(100000000000, 100000000000\) is "
                       r"invalid: 1e\+22 elements, more than an array can hold"):
        fftconv.explain((100_000_000_000, 100_000_000_000), (3, 3))
