"""fftconv.astropy against astropy.convolution on realistic images, and where it differs.

astropy's own tests run in tests/astropy_suite; these add large images with star masks
(the cases the dense missing-data path serves), float32, and the documented differences.
"""

import numpy as np
import pytest

ac = pytest.importorskip("astropy.convolution")
from astropy.utils.exceptions import AstropyUserWarning  # noqa: E402

import fftconv.astropy as fa  # noqa: E402


def star_field(shape=(150, 130), density=0.024, seed=0, dtype="float64", clustered=True):
    rng = np.random.default_rng(seed)
    img = rng.gamma(2.0, 10.0, shape)
    mask = rng.random(shape) < density
    if clustered:  # a saturated star: a disc of missing pixels
        yy, xx = np.indices(shape)
        mask |= (yy - shape[0] // 3) ** 2 + (xx - shape[1] // 2) ** 2 < 30
    img[mask] = np.nan
    return img.astype(dtype)


KERNEL = ac.Gaussian2DKernel(3.0).array  # 25 x 25


@pytest.mark.parametrize("boundary", ["fill", "wrap", None, "extend"])
@pytest.mark.parametrize("nan_treatment", ["interpolate", "fill"])
@pytest.mark.parametrize("preserve_nan", [False, True])
def test_convolve_matches_astropy_on_a_star_field(boundary, nan_treatment, preserve_nan):
    img = star_field()
    options = {"boundary": boundary, "nan_treatment": nan_treatment, "preserve_nan": preserve_nan}
    got = fa.convolve(img, KERNEL, **options)
    want = ac.convolve(img, KERNEL, **options)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("boundary", ["fill", "wrap"])
@pytest.mark.parametrize("nan_treatment", ["interpolate", "fill"])
@pytest.mark.parametrize("normalize_kernel", [True, False])
@pytest.mark.parametrize("density", [0.0, 0.001, 0.024, 0.3])
def test_convolve_fft_matches_astropy_on_a_star_field(boundary, nan_treatment,
                                                      normalize_kernel, density):
    img = star_field(density=density, clustered=density > 0)
    options = {"boundary": boundary, "nan_treatment": nan_treatment, "normalize_kernel": normalize_kernel}
    got = fa.convolve_fft(img, KERNEL * 3, **options)
    want = ac.convolve_fft(img, KERNEL * 3, **options)
    scale = np.nanmax(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * scale)


def test_convolve_fft_options_that_change_the_grid():
    img = star_field((40, 37), density=0.05)
    k = ac.Box2DKernel(5).array
    for options in ({"crop": False}, {"crop": False, "fft_pad": False}, {"dealias": True},
                    {"min_wt": 0.5}, {"crop": False, "min_wt": 0.2, "preserve_nan": True},
                    {"fill_value": np.nan}, {"fill_value": 3.0, "nan_treatment": "fill"}):
        got = fa.convolve_fft(img, k, **options)
        want = ac.convolve_fft(img, k, **options)
        assert got.shape == want.shape, options
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, equal_nan=True,
                                   err_msg=str(options))
    with pytest.warns(AstropyUserWarning, match="psf_pad was set to False"):
        got = fa.convolve_fft(img, k, psf_pad=False)
    with pytest.warns(AstropyUserWarning, match="psf_pad was set to False"):
        want = ac.convolve_fft(img, k, psf_pad=False)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_return_fft_is_astropys_spectrum():
    img = np.nan_to_num(star_field((20, 24)))
    got = fa.convolve_fft(img, KERNEL[6:19, 6:19], return_fft=True)
    want = ac.convolve_fft(img, KERNEL[6:19, 6:19], return_fft=True)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_both_facades_agree_at_a_nan_pixel_with_negative_taps():
    # astropy#20403: convolve_fft zeroes a negative weight (0.0 where convolve gives 3.0)
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    k = np.array([-1.0, 3.0, -1.0])
    direct = ac.convolve(x, k)
    assert direct[2] == pytest.approx(3.0)
    assert fa.convolve(x, k)[2] == pytest.approx(3.0)
    assert fa.convolve_fft(x, k)[2] == pytest.approx(3.0)
    np.testing.assert_allclose(fa.convolve_fft(x, k), direct, rtol=1e-12)


def test_a_window_without_valid_weight():
    x = np.array([1.0, np.nan, np.nan, np.nan, 5.0])
    k = np.ones(3)
    assert fa.convolve_fft(x, k)[2] == 0.0  # astropy's min_wt=0 rule
    assert np.isnan(fa.convolve_fft(x, k, min_wt=1e-8)[2])
    with pytest.warns(AstropyUserWarning, match="NaN values detected post convolution"):
        assert np.isnan(fa.convolve(x, k)[2])  # the centre sample, as astropy


@pytest.mark.parametrize("func", ["convolve", "convolve_fft"])
def test_float32_stays_float32(func):
    img = star_field(dtype="float32")
    got = getattr(fa, func)(img, KERNEL)
    want = getattr(ac, func)(img.astype(np.float64), KERNEL)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * np.nanmax(np.abs(want)))


def test_allow_huge_false_keeps_astropys_error_before_any_copy():
    huge = np.broadcast_to(np.float64(1.0), (1024, 1024, 130))  # 2.2 GB as complex
    with pytest.raises(ValueError, match=r"Size Error: Arrays will be .*allow_huge=True"):
        fa.convolve_fft(huge, np.ones((3, 3, 3)))


def test_masked_arrays_and_masks_are_missing():
    img = star_field((30, 31), density=0.0, clustered=False)
    mask = np.zeros(img.shape, bool)
    mask[10:13, 5:9] = True
    masked = np.ma.MaskedArray(img, mask=mask)
    for func in ("convolve", "convolve_fft"):
        got = getattr(fa, func)(masked, KERNEL[6:19, 6:19])
        np.testing.assert_allclose(got, getattr(ac, func)(masked, KERNEL[6:19, 6:19]),
                                   rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(getattr(fa, func)(img, KERNEL[6:19, 6:19], mask=mask), got,
                                   rtol=1e-12, atol=1e-12)


def test_the_input_is_not_modified():
    img = star_field((30, 31))
    before = img.copy()
    for func in ("convolve", "convolve_fft"):
        getattr(fa, func)(img, KERNEL, nan_treatment="fill", preserve_nan=True)
        getattr(fa, func)(img, KERNEL)
        np.testing.assert_array_equal(img, before)


ODD_ARGUMENTS = [None, "x", 1.5, -1, 0, 2, True, False, [1], (0, 1), np.array(1), object(),
                 "fill", "extend", "wrap", "interpolate", b"1", 1 + 1j, np.nan]


def _outcome(call):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = np.asarray(call())
        except Exception as exc:  # the type is what both must agree on
            return type(exc), None, ()
    return "value", value, tuple(sorted({w.category.__name__ for w in caught}))


@pytest.mark.parametrize("func", ["convolve", "convolve_fft"])
def test_odd_arguments_meet_astropys_exception_types(func):
    import inspect

    x = np.arange(30.0).reshape(5, 6)
    x[2, 3] = np.nan
    k = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])
    ref, mine = getattr(ac, func), getattr(fa, func)
    params = [p for p in inspect.signature(ref).parameters if p not in ("array", "kernel")]
    for param in params:
        for value in ODD_ARGUMENTS:
            kwargs = {param: value}
            want = _outcome(lambda: ref(x, k, **kwargs))  # noqa: B023 - called at once
            got = _outcome(lambda: mine(x, k, **kwargs))  # noqa: B023 - called at once
            assert got[0] == want[0], (param, value, got, want)
            if want[0] == "value":
                assert got[1].shape == want[1].shape, (param, value)
                np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-10,
                                           equal_nan=True, err_msg=f"{param}={value!r}")
                if param == "fill_value":  # a complex fill warns in convolve (numpy.pad's)
                    assert got[2] == want[2], (param, value, got[2], want[2])
