"""``numpy.ma.MaskedArray`` input: masked samples are missing under ``nan_policy``."""

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
from reference import BOUNDARIES, assert_close, naive, naive_omit

import fftconv
import fftconv.ndimage
import fftconv.signal

METHODS = ("direct", "fft", "overlap", "auto")


def masked_input(shape=(21, 18), dtype="float64", density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(shape) * 10).astype(dtype)
    mask = rng.random(shape) < density
    data[mask] = 1e30 if np.dtype(dtype).kind == "f" else 99  # never read
    return np.ma.MaskedArray(data, mask=mask)


def window_covers(mask, kshape, mode, boundary, operation="convolve"):
    counts = naive(mask.astype(np.int64), np.ones(kshape, np.int64), mode, boundary=boundary,
                   operation=operation)
    return counts.astype(np.int64) > 0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_propagate_masks_every_window_covering_a_masked_sample(method, boundary, mode):
    x = masked_input()
    kernel = np.array([[0.5, 0.0, 1.0], [2.0, -1.0, 0.0]])  # zero taps count too
    got = fftconv.convolve(x, kernel, mode, method=method, boundary=boundary)
    assert isinstance(got, np.ma.MaskedArray)
    want_mask = window_covers(x.mask, kernel.shape, mode, boundary)
    assert 0 < want_mask.sum() < want_mask.size
    np.testing.assert_array_equal(np.ma.getmaskarray(got), want_mask)
    filled = x.filled(0)
    want = naive(filled, kernel, mode, boundary=boundary)
    keep = ~want_mask
    assert_close(got.data[keep], want[keep], filled, kernel)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_omit_treats_masked_like_non_finite(method, boundary):
    x = masked_input(density=0.3, seed=1)
    x.data[2, 3] = np.nan  # an unmasked NaN is missing too
    kernel = np.array([[0.5, 0.0, 1.0], [2.0, 1.0, 0.3]])
    cval = 2.0 if boundary == "constant" else 0.0  # cval serves only 'constant'
    for mode in ("full", "same", "valid"):
        got = fftconv.correlate(x, kernel, mode, method=method, boundary=boundary,
                                nan_policy="omit", cval=cval)
        as_nan = np.where(x.mask, np.nan, x.data)
        want = naive_omit(as_nan, kernel, mode, operation="correlate", boundary=boundary, cval=cval)
        np.testing.assert_array_equal(np.ma.getmaskarray(got), np.isnan(want))
        ok = ~np.isnan(want)
        assert_close(got.data[ok], want[ok], np.nan_to_num(as_nan), kernel, cval=cval,
                     factor=64 * kernel.sum() / 0.3)


def test_masked_integers_stay_exact():
    x = masked_input(dtype="int64")
    got = fftconv.convolve(x, np.array([[1, 2], [3, 4]]), "same", method="auto")
    assert got.dtype == np.int64
    want = naive(x.filled(0), np.array([[1, 2], [3, 4]]), "same")
    keep = ~np.ma.getmaskarray(got)
    np.testing.assert_array_equal(got.data[keep], want[keep].astype(np.int64))


def test_masked_integers_under_omit_need_floating_point():
    x = masked_input(dtype="int64")
    with pytest.raises(TypeError, match=r"nan_policy='omit' on a masked int64 array needs "
                                        r"floating point .* dtype='float64'"):
        fftconv.convolve(x, [[1, 2]], nan_policy="omit")
    got = fftconv.convolve(x, [[1, 2]], nan_policy="omit", dtype="float64")
    assert got.dtype == np.float64 and isinstance(got, np.ma.MaskedArray)


def test_raise_refuses_masked_samples():
    with pytest.raises(ValueError, match=r"x has masked samples \(nan_policy='raise'\)"):
        fftconv.convolve(masked_input(), [[1.0, 2.0]], nan_policy="raise")
    clean = np.ma.MaskedArray(np.ones((4, 4)), mask=False)
    got = fftconv.convolve(clean, [[1.0, 2.0]], nan_policy="raise")
    assert isinstance(got, np.ma.MaskedArray) and not np.ma.getmaskarray(got).any()


def test_a_masked_kernel_value_is_an_error():
    kernel = np.ma.MaskedArray([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(ValueError, match="kernel is a masked array with masked values"):
        fftconv.convolve(np.ones(5), kernel)
    with pytest.raises(ValueError, match="kernel is a masked array with masked values"):
        fftconv.plan_convolve((5,), kernel)
    unmasked = np.ma.MaskedArray([1.0, 2.0, 3.0], mask=False)
    np.testing.assert_array_equal(fftconv.convolve(np.ones(5), unmasked),
                                  fftconv.convolve(np.ones(5), [1.0, 2.0, 3.0]))


def test_plans_and_batch_axes_take_masked_arrays():
    x = masked_input((4, 30), seed=3)
    plan = fftconv.plan_correlate(x.shape, [1.0, 0.0, 2.0], "same", axes=0, method="fft")
    got = plan(x)
    mask_t = x.mask.T
    want_mask = np.stack([window_covers(m, (3,), "same", "constant", "correlate")
                          for m in mask_t]).T
    np.testing.assert_array_equal(np.ma.getmaskarray(got), want_mask)
    out = np.empty(x.shape)
    again = plan(x, out=out)
    assert again.data is out or np.shares_memory(again.data, out)
    np.testing.assert_array_equal(np.ma.getmaskarray(again), want_mask)


def test_facades_keep_scipys_behaviour_with_masked_arrays():
    # scipy.signal and scipy.ndimage read the data under the mask; so do the façades
    x = masked_input((12, 11), seed=4)
    x.data[x.mask] = 3.0
    k = np.array([[1.0, 2.0], [0.5, 0.25]])
    np.testing.assert_allclose(fftconv.signal.convolve(x, k), scipy.signal.convolve(x, k),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fftconv.ndimage.convolve(x, k), scipy.ndimage.convolve(x, k),
                               rtol=1e-12, atol=1e-12)
    assert not isinstance(fftconv.signal.convolve(x, k), np.ma.MaskedArray)
