"""fftconv.nn: every error names its parameter, before any work."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fftconv import nn

X = np.zeros((2, 4, 10, 10))
W = np.zeros((6, 4, 3, 3))


@pytest.mark.parametrize("kwargs, message", [
    (dict(data_format="NHWC"),
     "data_format='NHWC' is invalid; expected one of 'channels_first', 'channels_last'"),
    (dict(padding_mode="mirror"),
     "padding_mode='mirror' is invalid; expected one of 'circular', 'reflect', 'replicate', "
     "'zeros'"),
    (dict(method="overlap"),
     "method='overlap' is invalid; expected one of 'auto', 'direct', 'fft'"),
    (dict(padding="SAME"), "padding='SAME' is invalid; expected one of 'same', 'valid'"),
    (dict(padding=-1), "padding=-1 is invalid; expected a non-negative int"),
    (dict(padding=(1, 2, 3)), "padding=(1, 2, 3) is invalid"),
    (dict(padding=((1, 2), (3,))), "padding=(3,) is invalid"),
    (dict(stride=0), "stride=0 is invalid; expected a positive int or a tuple of 2"),
    (dict(stride=1.5), "stride=1.5 is invalid"),
    (dict(dilation=(1, 0)), "dilation=(1, 0) is invalid"),
    (dict(groups=0), "groups=0 is invalid; expected a positive int"),
    (dict(groups=True), "groups=True is invalid"),
])
def test_bad_option_names_parameter_value_and_choices(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.conv2d(X, W, **kwargs)


def test_channel_mismatch() -> None:
    with pytest.raises(ValueError, match=r"channel mismatch: the input has 4 channels, but the "
                                         r"weight expects 3 per group x groups=1 = 3"):
        nn.conv2d(X, np.zeros((6, 3, 3, 3)))


def test_groups_must_divide_input_and_output_channels() -> None:
    with pytest.raises(ValueError, match=r"groups=3 does not divide the input's 4 channels"):
        nn.conv2d(X, W, groups=3)
    with pytest.raises(ValueError, match=r"groups=4 does not divide the weight's 6 output"):
        nn.conv2d(X, np.zeros((6, 1, 3, 3)), groups=4)
    with pytest.raises(ValueError, match=r"weight expects 4 per group x groups=2 = 8"):
        nn.conv2d(X, W, groups=2)


def test_kernel_larger_than_padded_input() -> None:
    msg = (r"the kernel is larger than the padded input along spatial axis 1: 3 taps with "
           r"dilation=5 span 11 > 10 \+ padding \(0, 0\) = 10")
    with pytest.raises(ValueError, match=msg):
        nn.conv2d(X, W, dilation=(1, 5))
    nn.conv2d(X, W, dilation=(1, 5), padding=((0, 0), (1, 0)))  # one more sample: fine
    with pytest.raises(ValueError, match="larger than the padded input"):
        nn.conv1d(np.zeros((1, 2)), np.zeros((1, 1, 3)))


@pytest.mark.parametrize("fn, x, w, fmt, message", [
    (nn.conv2d, np.zeros((4, 10)), W, "channels_first",
     r"input has shape \(4, 10\); conv2d expects \(N, C, H, W\) or \(C, H, W\) with "
     r"data_format='channels_first'"),
    (nn.conv2d, np.zeros((1, 2, 3, 4, 5)), W, "channels_last",
     r"input has shape \(1, 2, 3, 4, 5\); conv2d expects \(N, H, W, C\) or \(H, W, C\) with "
     r"data_format='channels_last'"),
    (nn.conv1d, np.zeros((1, 4, 10)), np.zeros((6, 4)), "channels_first",
     r"weight has shape \(6, 4\); conv1d expects \(O, C/groups, kW\)"),
    (nn.conv3d, np.zeros((4, 5, 5, 5)), np.zeros((6, 4, 3, 3)), "channels_last",
     r"weight has shape \(6, 4, 3, 3\); conv3d expects \(kD, kH, kW, C/groups, O\)"),
])
def test_bad_layout(fn, x, w, fmt, message) -> None:
    with pytest.raises(ValueError, match=message):
        fn(x, w, data_format=fmt)


def test_channels_last_weight_layout_is_checked_against_the_input() -> None:
    x = np.zeros((2, 10, 10, 4))
    nn.conv2d(x, np.zeros((3, 3, 4, 6)), data_format="channels_last")
    with pytest.raises(ValueError, match="channel mismatch"):
        nn.conv2d(x, np.zeros((6, 4, 3, 3)), data_format="channels_last")  # torch layout


def test_bias_shape() -> None:
    with pytest.raises(ValueError, match=r"bias has shape \(5,\); expected \(6,\)"):
        nn.conv2d(X, W, np.zeros(5))


def test_unsupported_dtype_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="input has dtype <U1"):
        nn.conv1d(np.array([["a", "b", "c"]]), np.zeros((1, 1, 1)))
    with pytest.raises(TypeError, match="longdouble|float128|extended"):
        nn.conv1d(np.zeros((1, 3), np.longdouble), np.zeros((1, 1, 1)))


def test_fft_refuses_a_nonfinite_weight() -> None:
    w = W.copy()
    w[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="method='fft' cannot serve a weight with non-finite"):
        nn.conv2d(X, w, method="fft")
    y = nn.conv2d(X + 1, w)  # 'auto' takes the direct sum: inf only where the tap reads
    assert np.isinf(y[:, 0]).any() and np.isfinite(y[:, 1:]).all()


def test_empty_batch_and_unbatched_shapes() -> None:
    assert nn.conv2d(np.zeros((0, 4, 10, 10)), W).shape == (0, 6, 8, 8)
    assert nn.conv2d(np.zeros((4, 10, 10)), W, padding="same").shape == (6, 10, 10)
    assert nn.conv2d(np.zeros((10, 10, 4)), np.zeros((3, 3, 4, 6)), stride=3, padding="same",
                     data_format="channels_last").shape == (4, 4, 6)
