"""Helpers shared by the scipy façade tests: random data, and "same as scipy" checks."""

import numpy as np


def random_data(rng, shape, dtype="float64", high=3):
    """Random values every dtype holds exactly (small integers, or normal floats)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return rng.integers(0, high, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def assert_like(actual, expected, *, single, half):
    """Same dtype and shape as scipy's result, and the same values: exact for integers,
    else within 1e-10 (double), ``single`` (float32) or ``half`` (float16) of the largest
    magnitude."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected)
        return
    eps = np.finfo(expected.dtype).eps
    tol = 1e-10 if eps < 1e-15 else single if eps < 1e-6 else half
    scale = np.abs(expected).max(initial=1)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)
