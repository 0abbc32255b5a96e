"""astropy.convolution's ``convolve`` and ``convolve_fft`` on fftconv's engine.

Drop-in: astropy's signatures, defaults, results, warnings and exceptions; astropy
``Kernel`` objects, ``Quantity``, ``NDData`` and masked arrays are accepted as astropy
accepts them. The convolutions run on fftconv's planner (real transforms, float32 kept,
blocked FFT within the memory budget, missing data at FFT speed); astropy's functions are
never called. Where fftconv differs (one NaN rule for both functions; float32 results of
``convolve_fft``; the ``allow_huge`` default) is listed in ``docs/compat.md``.
Requires astropy (``pip install fftconv[astropy]``).
"""

from __future__ import annotations

from astropy.nddata import support_nddata

from . import _direct, _fft, _inputs

__all__ = ["convolve", "convolve_fft"]


@support_nddata(data="array")
def convolve(array, kernel, boundary="fill", fill_value=0.0, nan_treatment="interpolate",
             normalize_kernel=True, mask=None, preserve_nan=False,
             normalization_zero_tol=1e-8):
    """Convolve ``array`` with ``kernel``: ``astropy.convolution.convolve`` on fftconv.

    Parameters
    ----------
    array : ndarray, list, Quantity, Kernel or NDData
        The 1-, 2- or 3-d array (masked samples and ``mask`` are missing).
    kernel : ndarray or Kernel
        Odd along every axis; masked kernel values are an error.
    boundary : {'fill', None, 'wrap', 'extend'}, optional
        ``'fill'`` (``fill_value`` around), ``None`` (zero where the kernel leaves the
        array), ``'wrap'`` (periodic), ``'extend'`` (edge values).
    fill_value : float, optional
        The fill for ``boundary='fill'`` (``nan``: the border is missing).
    nan_treatment : {'interpolate', 'fill'}, optional
        ``'interpolate'``: ``nan`` samples are left out and the kernel renormalised over
        the valid ones; ``'fill'``: ``nan`` becomes ``fill_value``.
    normalize_kernel : bool, optional
        Divide by the kernel's sum.
    mask : ndarray, optional
        Non-zero marks missing samples.
    preserve_nan : bool, optional
        ``nan`` again where the input was ``nan``.
    normalization_zero_tol : float, optional
        A kernel summing to within this of 0 cannot be normalised.

    Returns
    -------
    ndarray or Quantity or Kernel
        Same shape as ``array``; float inputs keep their dtype.
    """
    fill_value = _inputs.fill_number(fill_value, warn_complex=True)
    return _direct.convolve(array, kernel, boundary=boundary, fill_value=fill_value,
                            nan_treatment=nan_treatment, normalize_kernel=normalize_kernel,
                            mask=mask, preserve_nan=preserve_nan,
                            normalization_zero_tol=normalization_zero_tol)


@support_nddata(data="array")
def convolve_fft(array, kernel, boundary="fill", fill_value=0.0, nan_treatment="interpolate",
                 normalize_kernel=True, normalization_zero_tol=1e-8, preserve_nan=False,
                 mask=None, crop=True, return_fft=False, fft_pad=None, psf_pad=None,
                 min_wt=0.0, allow_huge=False, fftn=_fft.np.fft.fftn,
                 ifftn=_fft.np.fft.ifftn, complex_dtype=complex, dealias=False):
    """Convolve with transforms: ``astropy.convolution.convolve_fft`` on fftconv.

    Parameters
    ----------
    array, kernel : array_like, Quantity, Kernel or NDData
        Any dimensionality; the kernel is centred at ``shape // 2``.
    boundary : {'fill', None, 'wrap'}, optional
        As astropy (``None`` warns and means ``'fill'``; ``'extend'`` is not available).
    fill_value, nan_treatment, normalize_kernel, normalization_zero_tol, preserve_nan, mask
        As in :func:`convolve`; ``normalize_kernel`` may also be a callable (the scale).
        Infinities are missing samples here, as in astropy.
    crop, return_fft, fft_pad, psf_pad, dealias
        astropy's padded grid (they change the result only with ``crop=False``,
        ``return_fft=True``, ``psf_pad=False`` or ``boundary='wrap'``).
    min_wt : float, optional
        Outputs with less valid weight become ``nan``; with 0, outputs with no valid
        weight are 0.
    allow_huge : bool, optional
        ``False`` (default): astropy's error when an array would pass 1 GB; ``True``: no
        limit, fftconv's memory budget blocks the transform instead of allocating it.
    fftn, ifftn, complex_dtype
        Used for ``return_fft`` only; the convolution runs on fftconv's real transforms.

    Returns
    -------
    ndarray or Quantity
        float32 for float32 input, else float64 (astropy: always float64).
    """
    fill_value = _inputs.fill_number(fill_value, warn_complex=False)
    _inputs.check_transforms(fftn, ifftn)
    return _fft.convolve_fft(array, kernel, boundary=boundary, fill_value=fill_value,
                             nan_treatment=nan_treatment, normalize_kernel=normalize_kernel,
                             normalization_zero_tol=normalization_zero_tol,
                             preserve_nan=preserve_nan, mask=mask, crop=crop,
                             return_fft=return_fft, fft_pad=fft_pad, psf_pad=psf_pad,
                             min_wt=min_wt, allow_huge=allow_huge, fftn=fftn, ifftn=ifftn,
                             complex_dtype=complex_dtype, dealias=dealias)
