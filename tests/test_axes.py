"""One axes normaliser, three wordings: the core's, scipy.signal's and scipy.ndimage's."""

import numpy as np
import pytest

import fftconv
import fftconv.ndimage
import fftconv.signal
from fftconv._validate import normalise_axes


@pytest.mark.parametrize("axes, ndim, want", [
    (None, 3, (0, 1, 2)), (-1, 3, (2,)), ([0, -1], 2, (0, 1)), (np.array([1]), 2, (1,)),
    ((), 0, ()),
])
def test_core_axes(axes, ndim, want):
    assert normalise_axes(axes, ndim) == want


@pytest.mark.parametrize("axes, message", [
    (True, "axes=True is invalid; expected an int"),
    ((0, 1.5), "axes=1.5 is invalid; expected an int"),
    ((2,), r"axes=\(2,\) is invalid: axis 2 is out of range for x with 2 dimensions"),
    ((0, -2), r"axes=\(0, -2\) is invalid: it repeats an axis"),
    ((), r"axes=\(\) is invalid: it names no axis"),
])
def test_core_axes_errors(axes, message):
    with pytest.raises(ValueError, match=message):
        fftconv.convolve(np.ones((4, 4)), np.ones((2, 2)), axes=axes)


@pytest.mark.parametrize("axes, message", [
    ([], r"axes=\[\] is invalid: when provided, axes cannot be empty"),
    ([0, 0], r"axes=\[0, 0\] is invalid: all axes must be unique"),
    ([3], r"axes=\[3\] is invalid: axes exceeds dimensionality of input \(2\)"),
    (1.5, "axes=1.5 is invalid: axes must be a scalar or iterable of integers"),
    (object, "axes=<class 'object'> is invalid: axes must be a scalar or iterable of integers"),
])
def test_signal_axes_errors_keep_scipys_words(axes, message):
    with pytest.raises(ValueError, match=message):
        fftconv.signal.fftconvolve(np.ones((4, 4)), np.ones((2, 2)), axes=axes)


def test_signal_axes_accept_a_negative_scalar():
    import scipy.signal

    x = np.arange(12.0).reshape(3, 4)
    k = np.array([[1.0, -2.0]])
    np.testing.assert_allclose(fftconv.signal.fftconvolve(x, k, axes=-1),
                               scipy.signal.fftconvolve(x, k, axes=-1), atol=1e-12)


@pytest.mark.parametrize("axes, error, message", [
    ((0, 0), ValueError, r"axes=\(0, 0\) is invalid: axes must be unique"),
    ((5,), ValueError, r"axes=\(5,\) is invalid: specified axis: 5 is out of range for an "
                       "input with 2 dimensions"),
    (1.5, TypeError, "'float' object cannot be interpreted as an integer"),
    (object, ValueError, "axes must be an integer, iterable of integers, or None"),
])
def test_ndimage_axes_errors_keep_scipys_words(axes, error, message):
    with pytest.raises(error, match=message):
        fftconv.ndimage.correlate(np.ones((4, 4)), np.ones((2, 2)), axes=axes)
