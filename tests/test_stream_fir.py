"""fftconv.stream.fir_filter against scipy.signal.lfilter(b, [1.0], x, axis, zi)."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from fftconv.stream import fir_filter

EXAMPLES = 300 if os.environ.get("FFTCONV_FUZZ") == "deep" else 40
RNG = np.random.default_rng(140)


def close(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-11 * scale)


@settings(max_examples=EXAMPLES, deadline=None)
@given(m=st.integers(1, 200), n=st.integers(0, 400), pieces=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1))
def test_state_carried_over_random_splits(m, n, pieces, seed):
    rng = np.random.default_rng(seed)
    b, x = rng.standard_normal(m), rng.standard_normal(n)
    zi = rng.standard_normal(m - 1)
    cuts = np.sort(rng.integers(0, n + 1, pieces - 1))
    z_ours, z_ref = zi, zi
    for piece in np.split(x, cuts):
        if piece.size == 0:  # lfilter rejects empty input; the state must pass unchanged
            y, z_next = fir_filter(b, piece, zi=z_ours)
            assert y.shape == (0,)
            np.testing.assert_array_equal(z_next, z_ours)
            continue
        y, z_ours = fir_filter(b, piece, zi=z_ours)
        y_ref, z_ref = signal.lfilter(b, [1.0], piece, zi=z_ref)
        scale = np.abs(b).sum() * (np.abs(x).max(initial=0) + np.abs(zi).max(initial=0) + 1)
        close(y, y_ref, scale)
        close(z_ours, z_ref, scale)
        assert y.shape == piece.shape and z_ours.shape == (m - 1,)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_nd_axis_and_broadcast_zi(axis):
    x = RNG.standard_normal((40, 30, 3))
    b = RNG.standard_normal(17)
    shape = list(x.shape)
    shape[axis] = 16
    zi_full = RNG.standard_normal(shape)
    y, zf = fir_filter(b, x, axis=axis, zi=zi_full)
    y_ref, zf_ref = signal.lfilter(b, [1.0], x, axis=axis, zi=zi_full)
    close(y, y_ref, 100)
    close(zf, zf_ref, 100)
    small = [1] * 3
    small[axis] = 16
    zi1 = RNG.standard_normal(small)
    y, zf = fir_filter(b, x, axis=axis, zi=zi1)
    y_ref, zf_ref = signal.lfilter(b, [1.0], x, axis=axis, zi=zi1)
    close(y, y_ref, 100)
    close(zf, zf_ref, 100)
    close(fir_filter(b, x, axis=axis), signal.lfilter(b, [1.0], x, axis=axis), 100)


def test_long_filter_float32_complex_and_integers():
    b = RNG.standard_normal(5000).astype(np.float32)
    x = RNG.standard_normal(20000).astype(np.float32)
    y = fir_filter(b, x)
    assert y.dtype == np.float32
    ref = signal.lfilter(b.astype(np.float64), [1.0], x.astype(np.float64))
    np.testing.assert_allclose(y, ref, rtol=0, atol=2e-5 * np.abs(b).sum() * np.abs(x).max())
    bc = RNG.standard_normal(30) + 1j * RNG.standard_normal(30)
    xc = RNG.standard_normal(100) + 1j
    zi = RNG.standard_normal(29) * 1j
    y, zf = fir_filter(bc, xc, zi=zi)
    y_ref, zf_ref = signal.lfilter(bc, [1.0], xc, zi=zi)
    close(y, y_ref, 1000)
    close(zf, zf_ref, 1000)
    yi = fir_filter([1, 2, 3], np.arange(10, dtype=np.int16))
    assert yi.dtype == np.float64
    close(yi, signal.lfilter([1, 2, 3], [1.0], np.arange(10)), 100)


def test_single_tap_has_empty_state():
    y, zf = fir_filter([2.0], [1.0, 2.0], zi=np.zeros(0))
    assert y.tolist() == [2.0, 4.0] and zf.shape == (0,)
