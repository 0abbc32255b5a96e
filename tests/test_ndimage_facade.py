"""fftconv.ndimage against scipy.ndimage itself, where scipy's own tests do not reach.

scipy's filter tests (``tests/scipy_suite``) use tiny arrays; these use kernels large
enough for the FFT strategies, kernels wider than the input (extensions repeat the rule),
every mode, origins, axes and output dtypes. scipy.ndimage is the reference throughout.
"""

import numpy as np
import pytest
import scipy.ndimage as ndi
from facade_util import assert_like as facade_assert_like
from facade_util import random_data

from fftconv import ndimage

RNG = np.random.default_rng(11)
MODES = ["reflect", "mirror", "nearest", "wrap", "constant", "grid-mirror", "grid-wrap",
         "grid-constant"]
FUNCS = ["correlate", "convolve"]


def data(shape, dtype="float64", high=50):
    return random_data(RNG, shape, dtype, high)


def assert_like(actual, expected):
    facade_assert_like(actual, expected, single=1e-5, half=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("shapes, origin", [
    (((120, 97), (31, 24)), 0), (((120, 97), (31, 24)), (-15, 11)),
    (((9, 7), (23, 30)), (3, -4)), (((40,), (8,)), -4), (((40,), (8,)), 3),
    (((14, 12, 10), (5, 4, 3)), (1, -2, 0))])
def test_nd_matches_scipy_for_every_mode_and_origin(func, mode, shapes, origin):
    x, w = data(shapes[0]), data(shapes[1])
    expected = getattr(ndi, func)(x, w, mode=mode, cval=1.25, origin=origin)
    assert_like(getattr(ndimage, func)(x, w, mode=mode, cval=1.25, origin=origin), expected)


def test_reflect_on_a_length_2_axis_repeats_the_rule():
    # scipy.ndimage.correlate (not correlate1d) reads outside the array for x~[-8] here;
    # fftconv, like correlate1d and numpy.pad's 'symmetric', repeats the rule (compat.md)
    x, w = np.array([1.0, 2.0]), np.arange(1.0, 22.0)
    expected = ndi.correlate1d(x, w, mode="reflect")
    np.testing.assert_allclose(ndimage.correlate(x, w, mode="reflect"), expected)
    ext = np.pad(x, 10, mode="symmetric")
    np.testing.assert_allclose(expected, [ext[i:i + 21] @ w for i in range(2)])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["correlate1d", "convolve1d"])
@pytest.mark.parametrize("axis, size, origin", [(0, 2, 0), (1, 64, -32), (-1, 17, 8), (0, 31, 5)])
def test_1d_matches_scipy(func, mode, axis, size, origin):
    x, w = data((25, 300)), data((size,))
    expected = getattr(ndi, func)(x, w, axis=axis, mode=mode, cval=-2.0, origin=origin)
    actual = getattr(ndimage, func)(x, w, axis=axis, mode=mode, cval=-2.0, origin=origin)
    assert_like(actual, expected)


@pytest.mark.parametrize("axes, origin", [((0, 2), (1, -1)), ((2, 0), (1, -1)), ((1,), 2),
                                          ((-1, 1), 0)])
@pytest.mark.parametrize("func", FUNCS)
def test_axes_map_weights_to_sorted_axes_and_origins_to_axes_order(func, axes, origin):
    x = data((30, 20, 40))
    w = data((7, 5)[:len(axes)])
    expected = getattr(ndi, func)(x, w, mode="mirror", origin=origin, axes=axes)
    assert_like(getattr(ndimage, func)(x, w, mode="mirror", origin=origin, axes=axes), expected)


@pytest.mark.parametrize("output", [None, np.float32, "int16", np.uint8])
@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32", "float64", "bool"])
def test_output_dtype_rules(dtype, output):
    x = data((64, 48), dtype)
    w = np.array([[0.5, -0.25, 1.0], [2.0, 0.0, -1.5]])  # non-integer sums truncate
    expected = ndi.correlate(x, w, output=output, mode="nearest")
    assert_like(ndimage.correlate(x, w, output=output, mode="nearest"), expected)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int64"])
def test_integer_images_with_large_integer_kernels_are_exact(dtype):
    x, w = data((200, 180), dtype, high=100), data((41, 37), "int64", high=9)
    assert ndimage.correlate(x, w).dtype == x.dtype
    assert_like(ndimage.correlate(x, w, output=np.int64), ndi.correlate(x, w, output=np.int64))


@pytest.mark.parametrize("func", FUNCS)
def test_output_array_is_filled_and_returned_even_when_it_is_the_input(func):
    x = data((50, 60))
    w = data((21, 21))
    expected = getattr(ndi, func)(x, w)
    out = np.zeros((50, 60), np.float32)
    assert getattr(ndimage, func)(x, w, output=out) is out
    np.testing.assert_allclose(out, expected.astype(np.float32), rtol=1e-5, atol=1e-4)
    assert getattr(ndimage, func)(x, w, output=x) is x
    np.testing.assert_allclose(x, expected, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("func", FUNCS)
def test_complex_inputs_and_weights(func):
    x, w = data((40, 30), "complex64"), data((9, 6), "complex128")
    for cval in (0, 2.5 - 1j):
        expected = getattr(ndi, func)(x, w, mode="constant", cval=cval)
        assert_like(getattr(ndimage, func)(x, w, mode="constant", cval=cval), expected)
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        assert getattr(ndimage, func)(x.real, w, output=np.float32).dtype == np.complex64


@pytest.mark.parametrize("call, error", [
    (lambda: ndimage.correlate(np.ones(5), np.ones(3), mode="bogus"), RuntimeError),
    (lambda: ndimage.correlate(np.ones((4, 4)), np.ones((3, 3)), mode=["wrap", "wrap"]),
     RuntimeError),
    (lambda: ndimage.correlate(np.ones((4, 4)), np.ones((3, 3)), origin=[0, 0, 0]),
     RuntimeError),
    (lambda: ndimage.correlate(np.ones((4, 4)), np.ones(3)), RuntimeError),
    (lambda: ndimage.correlate(np.ones((4, 4)), np.ones((3, 3)), origin=2), ValueError),
    (lambda: ndimage.convolve(np.ones((4, 4)), np.ones((2, 2)), origin=(0, 1)), ValueError),
    (lambda: ndimage.correlate(np.ones((4, 4)), np.ones((3,)), axes=(0, 0)), ValueError),
    (lambda: ndimage.correlate(np.ones(4), np.ones(3), mode="constant", cval=1j), TypeError),
    (lambda: ndimage.correlate1d(np.ones(4), np.ones((2, 2))), RuntimeError),
    (lambda: ndimage.correlate1d(np.ones(4), np.ones(2), axis=1), ValueError),
    (lambda: ndimage.correlate(np.ones(4), np.ones(2), output=np.ones(3)), RuntimeError),
])
def test_errors_have_scipys_types(call, error):
    with pytest.raises(error):
        call()


def test_never_calls_scipy_ndimage(monkeypatch):
    import scipy.ndimage._filters as filters

    def forbidden(*args, **kwargs):
        raise AssertionError("the façade called scipy.ndimage")

    for name in ndimage.__all__:
        monkeypatch.setattr(ndi, name, forbidden)
        monkeypatch.setattr(filters, name, forbidden)
    x = data((80, 70), "complex128")
    for name in ndimage.__all__:
        getattr(ndimage, name)(x, data((9,) if name.endswith("1d") else (9, 5)))


def test_docstring_examples():
    import doctest

    import fftconv.ndimage

    result = doctest.testmod(fftconv.ndimage, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
