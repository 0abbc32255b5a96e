"""Two classic "why do these differ?" questions about neural-network convolutions.

1. A Keras ``Conv2D`` and ``scipy.signal.convolve2d``, same image, same kernel, give
   different results. Keras "convolution" is a *correlation* (no flip):
   ``fftconv.nn.conv2d`` and ``fftconv.correlate`` reproduce Keras, and
   ``fftconv.convolve`` reproduces ``convolve2d``.
2. ``tf.nn.conv2d`` on a float64 batch and ``keras.layers.Conv2D`` with the same 7x7
   all-ones filter over a 3-channel photo differ slightly. Same convention: Keras
   computes in float32. fftconv reproduces each at its precision; the gap is float32
   rounding.

Uses the sample photograph shipped with fftconv (NASA, public domain). Needs
TensorFlow (``pip install 'fftconv[test]'``). Exits with status 1 if a check fails.

    python examples/nn_conventions.py
"""

from __future__ import annotations

import os
import sys

import numpy as np
import scipy.signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf

import fftconv
from fftconv import nn
from fftconv.data import sample_image

failures = 0


def report(label: str, a: np.ndarray, b: np.ndarray, tol: float) -> float:
    """Print the largest difference of ``a`` and ``b``; count a failure above ``tol``."""
    global failures
    gap = float(np.abs(a - b).max())
    ok = gap <= tol
    failures += not ok
    print(f"  {label:<58} max |diff| = {gap:9.3g}  {'ok' if ok else 'FAIL'} (tol {tol:.0e})")
    return gap


def keras_conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A one-filter, no-bias keras Conv2D with ``kernel``, padding 'same'; (N, H, W, C) in."""
    layer = tf.keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], padding="same",
                                   use_bias=False)
    layer.build(image.shape)
    layer.set_weights([kernel.astype(np.float32)])
    return np.asarray(layer(image))


def situation_1() -> None:
    print("1. keras Conv2D vs scipy.signal.convolve2d on the same image and kernel")
    image = sample_image(gray=True).astype(np.float32) / 255
    kernel = np.array([[1, 2, 0, -2, -1]] * 5, np.float32) * np.arange(1, 6)[:, None] / 50
    keras = keras_conv(image[None, :, :, None], kernel[:, :, None, None])[0, :, :, 0]
    scipy_conv = scipy.signal.convolve2d(image, kernel, mode="same")
    print("  the two disagree:", end="")
    print(f" max |keras - convolve2d| = {np.abs(keras - scipy_conv).max():.3g}")
    report("keras == convolve2d with the kernel flipped", keras,
           scipy.signal.convolve2d(image, kernel[::-1, ::-1], mode="same"), 1e-5)
    report("keras == fftconv.nn.conv2d (channels_last)", keras,
           nn.conv2d(image[None, :, :, None], kernel[:, :, None, None], padding="same",
                     data_format="channels_last")[0, :, :, 0], 1e-5)
    report("keras == fftconv.correlate(mode='same')", keras,
           fftconv.correlate(image, kernel, mode="same"), 1e-5)
    report("convolve2d == fftconv.convolve(mode='same')", scipy_conv,
           fftconv.convolve(image, kernel, mode="same"), 1e-5)


def situation_2() -> None:
    print("2. tf.nn.conv2d (float64 batch) vs keras Conv2D, 7x7 all-ones filter, RGB photo")
    photo = sample_image()[None] / 255  # (1, 512, 512, 3) float64 in [0, 1]
    ones = np.ones((7, 7, 3, 1))
    tf64 = tf.nn.conv2d(photo, ones, strides=1, padding="SAME").numpy()
    keras = keras_conv(photo, ones)
    print(f"  dtypes: tf.nn.conv2d -> {tf64.dtype}, keras Conv2D -> {keras.dtype}")
    y64 = nn.conv2d(photo, ones, padding="same", data_format="channels_last")
    y32 = nn.conv2d(photo.astype(np.float32), ones.astype(np.float32), padding="same",
                    data_format="channels_last")
    report("fftconv float64 == tf.nn.conv2d float64", y64, tf64, 1e-9)
    ulp = float(np.spacing(np.float32(tf64.max())))  # float32 spacing at the largest output
    report("fftconv float32 == keras Conv2D (float32)", y32, keras, 8 * ulp)
    gap = report("the gap: tf.nn.conv2d float64 - keras float32", tf64, keras, 8 * ulp)
    print(f"  outputs reach {tf64.max():.1f}, where float32 spacing is {ulp:.2g}: the gap is "
          f"{gap / ulp:.1f} ulp ({gap / tf64.max():.1g} relative), float32 accumulation, "
          "not a different convention")


if __name__ == "__main__":
    situation_1()
    situation_2()
    sys.exit(1 if failures else 0)
