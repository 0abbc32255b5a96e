"""fftconv.nn with ``data_format='channels_last'`` against TensorFlow and Keras.

SAME and VALID, explicit padding, stride > 1, dilation, even kernels, depthwise
(``groups = C``), 1-3 spatial dims, float32 and float64, on every method.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf

from fftconv import nn

METHODS = ("auto", "direct", "fft")
TF_CONV = {1: "conv1d", 2: "conv2d", 3: "conv3d"}


def tf_conv(d: int, x: np.ndarray, w: np.ndarray, stride: int, padding: object,
            dilation: int) -> np.ndarray:
    """``tf.nn.conv{d}d`` in NWC / NHWC / NDHWC."""
    if d == 1:
        return tf.nn.conv1d(x, w, stride=stride, padding=padding, dilations=dilation).numpy()
    strides = [1, *([stride] * d), 1]
    dil = [1, *([dilation] * d), 1]
    return getattr(tf.nn, TF_CONV[d])(x, w, strides=strides, padding=padding,
                                      dilations=dil).numpy()


def bound(x: np.ndarray, w: np.ndarray) -> float:
    """Largest possible output magnitude: tolerances scale with the K*C taps."""
    return float(np.abs(x).max() * np.abs(w).reshape(-1, w.shape[-1]).sum(axis=0).max())


CASES = []
for seed in range(36):
    rng = np.random.default_rng(seed)
    d = (1, 2, 2, 3)[seed % 4]
    stride = int(rng.integers(1, 4))
    # TensorFlow's CPU kernels: no dilation with a stride, none at all in 3-d.
    dilation = 1 if stride > 1 or d == 3 else int(rng.integers(1, 3))
    CASES.append(dict(seed=seed, d=d, stride=stride, dilation=dilation,
                      padding=("SAME", "VALID")[seed % 2],
                      k=int(rng.integers(1, 5)),  # even kernels included
                      dtype=(np.float32, np.float64)[seed % 3 == 0]))


def case_id(c: dict) -> str:
    return (f"{c['d']}d-k{c['k']}-s{c['stride']}-dil{c['dilation']}-{c['padding']}-"
            f"{np.dtype(c['dtype']).name}")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_tf_nn_conv(case: dict) -> None:
    rng = np.random.default_rng(100 + case["seed"])
    d, k = case["d"], case["k"]
    n = tuple(int(v) for v in rng.integers(k * case["dilation"] + 2, 13 if d < 3 else 9, size=d))
    c, o = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    x = rng.standard_normal((2, *n, c)).astype(case["dtype"])
    w = rng.standard_normal((*(k,) * d, c, o)).astype(case["dtype"])
    b = rng.standard_normal(o).astype(case["dtype"])
    ref = tf_conv(d, x, w, case["stride"], case["padding"], case["dilation"]) + b
    tol = (2e-6 if case["dtype"] == np.float32 else 1e-13) * (bound(x, w) + np.abs(b).max())
    conv = getattr(nn, f"conv{d}d")
    for method in METHODS:
        y = conv(x, w, b, stride=case["stride"], padding=case["padding"].lower(),
                 dilation=case["dilation"], data_format="channels_last", method=method)
        assert y.shape == ref.shape and y.dtype == x.dtype
        np.testing.assert_allclose(y, ref, rtol=0, atol=tol)


@pytest.mark.parametrize("method", METHODS)
def test_explicit_asymmetric_padding_and_unbatched(method: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((11, 14, 3))
    w = rng.standard_normal((4, 3, 3, 5))
    pads = ((2, 1), (0, 3))
    ref = tf.nn.conv2d(x[None], w, strides=[1, 2, 1, 1],
                       padding=[[0, 0], list(pads[0]), list(pads[1]), [0, 0]]).numpy()[0]
    y = nn.conv2d(x, w, stride=(2, 1), padding=pads, data_format="channels_last",
                  method=method)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-13 * bound(x, w))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_is_groups_equal_channels(method: str, stride: int) -> None:
    rng = np.random.default_rng(8)
    c, mult = 3, 2
    x = rng.standard_normal((2, 13, 12, c)).astype(np.float32)
    dw = rng.standard_normal((4, 4, c, mult)).astype(np.float32)  # TF: (kH, kW, C, mult)
    ref = tf.nn.depthwise_conv2d(x, dw, strides=[1, stride, stride, 1], padding="SAME").numpy()
    w = dw.reshape(4, 4, 1, c * mult)  # output channel c*mult + m sees input channel c
    y = nn.conv2d(x, w, stride=stride, padding="same", groups=c, data_format="channels_last",
                  method=method)
    np.testing.assert_allclose(y, ref, rtol=0, atol=2e-6 * bound(x, w))


def test_keras_conv2d_layer_is_a_float32_correlation() -> None:
    """keras.layers.Conv2D casts a float64 batch to float32: equal to nn.conv2d in float32."""
    keras = tf.keras
    rng = np.random.default_rng(9)
    x = rng.random((2, 20, 18, 3))
    w = rng.standard_normal((5, 4, 3, 2))
    b = rng.standard_normal(2)
    layer = keras.layers.Conv2D(2, (5, 4), strides=2, padding="same")
    layer.build(x.shape)
    layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
    ref = np.asarray(layer(x))
    assert ref.dtype == np.float32
    y32 = nn.conv2d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32),
                    stride=2, padding="same", data_format="channels_last")
    np.testing.assert_allclose(y32, ref, rtol=0, atol=2e-6 * bound(x, w))
    y64 = nn.conv2d(x, w, b, stride=2, padding="same", data_format="channels_last")
    assert y64.dtype == np.float64
    gap = np.abs(y64 - ref).max()
    assert 1e-9 < gap < 1e-5 * bound(x, w)  # the float32 rounding, nothing more


def test_example_nn_conventions_checks_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/nn_conventions.py: both seed situations reproduce as documented."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "nn_conventions.py"
    spec = importlib.util.spec_from_file_location("nn_conventions", path)
    example = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(example)  # type: ignore[union-attr]  # defines, does not exit
    example.situation_1()
    example.situation_2()
    out = capsys.readouterr().out
    assert example.failures == 0 and out.count(" ok ") == 7, out
