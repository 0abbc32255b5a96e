"""``convolve_fft``: astropy's FFT convolution on fftconv's engine.

The default options (``boundary='fill'`` with ``psf_pad``, ``crop=True``) are a linear
convolution with the fill around the array, so they run as one fftconv plan on the array
itself (real transforms, float32 kept, blocked FFT within the memory budget), with the
dense normalised convolution for ``nan_treatment='interpolate'``. Other options (no
``psf_pad``, ``crop=False``, a wrapped kernel larger than the array) are the circular
convolution on astropy's padded grid, built the same way and computed by fftconv with a
``wrap`` boundary; ``return_fft`` returns the spectrum from ``fftn`` as astropy does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._numerics.scaling import all_finite
from ._inputs import copy_input, engine_dtype, masked_kernel_error, plan_for, run_plan

__all__ = ["convolve_fft"]

#: astropy's ``allow_huge`` limit (1 GB of complex arrays).
HUGE_BYTES = 1e9


def _size_error(shape, itemsize, allow_huge):
    from astropy.utils.console import human_file_size

    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(itemsize).itemsize
    if nbytes > HUGE_BYTES and not allow_huge:
        raise ValueError(f"Size Error: Arrays will be {human_file_size(nbytes)}.  Use "
                         "allow_huge=True to override this exception.")


def _next_fast_lengths(shape):
    import scipy.fft

    return np.array([scipy.fft.next_fast_len(int(j)) for j in shape])


def _normalise(kernel, normalize_kernel, normalization_zero_tol, nan_treatment):
    from astropy.convolution.core import MAX_NORMALIZATION

    if normalize_kernel is True:
        if kernel.sum() < 1.0 / MAX_NORMALIZATION:  # astropy raises a bare Exception here
            raise Exception("The kernel can't be normalized, because its sum is close to zero. "
                            f"The sum of the given kernel is < {1.0 / MAX_NORMALIZATION:.2f}. "
                            "For a zero-sum kernel, set normalize_kernel=False or pass a "
                            "custom normalization function to normalize_kernel.")
        return kernel / kernel.sum(), 1
    if normalize_kernel:
        scale = normalize_kernel(kernel)
        return kernel / scale, scale
    scale = kernel.sum()
    if np.abs(scale) < normalization_zero_tol:
        if nan_treatment == "interpolate":
            raise ValueError("Cannot interpolate NaNs with an unnormalizable kernel")
        return kernel, 1
    return kernel / scale, scale


def convolve_fft(array, kernel, boundary="fill", fill_value=0.0,
                 nan_treatment="interpolate", normalize_kernel=True,
                 normalization_zero_tol=1e-8, preserve_nan=False, mask=None, crop=True,
                 return_fft=False, fft_pad=None, psf_pad=None, min_wt=0.0, allow_huge=False,
                 fftn=np.fft.fftn, ifftn=np.fft.ifftn, complex_dtype=complex, dealias=False):
    from astropy.convolution import Kernel
    from astropy.utils.exceptions import AstropyUserWarning

    import fftconv

    masked_kernel_error(kernel)
    if isinstance(kernel, Kernel):
        kernel = kernel.array
        if isinstance(array, Kernel):
            raise TypeError("Can't convolve two kernels with convolve_fft.  Use convolve instead.")
    if nan_treatment not in ("interpolate", "fill"):
        raise ValueError("nan_treatment must be one of 'interpolate','fill'")
    unit = getattr(array, "unit", None)
    compute = engine_dtype(array)
    _size_error(np.shape(array), complex_dtype, allow_huge)  # before any copy
    # a copy only where it is written (fill, masks); float32 stays float32
    a = copy_input(array, nan_treatment=nan_treatment, mask=mask, fill_value=np.nan,
                   dtype=compute if compute == np.float32 else float)
    k = copy_input(kernel, fill_value=0)
    if a.ndim != k.ndim:
        raise ValueError("Image and kernel must have same number of dimensions")
    _size_error(a.shape, complex_dtype, allow_huge)
    k = np.where(np.isfinite(k), k, 0.0)
    kn, scale = _normalise(k, normalize_kernel, normalization_zero_tol, nan_treatment)

    if boundary is None:
        warnings.warn("The convolve_fft version of boundary=None is equivalent to the convolve "
                      "boundary='fill'.  There is no FFT equivalent to convolve's "
                      "zero-if-kernel-leaves-boundary", AstropyUserWarning, stacklevel=3)
        psf_pad = True if psf_pad is None else psf_pad
        fft_pad = True if fft_pad is None else fft_pad
    elif boundary == "fill":
        if psf_pad is False:
            warnings.warn(f"psf_pad was set to {psf_pad}, which overrides the boundary='fill' "
                          "setting.", AstropyUserWarning, stacklevel=3)
        else:
            psf_pad = True
        fft_pad = True if fft_pad is None else fft_pad
    elif boundary == "wrap":
        if psf_pad:
            raise ValueError("With boundary='wrap', psf_pad cannot be enabled.")
        if fft_pad:
            raise ValueError("With boundary='wrap', fft_pad cannot be enabled.")
        if dealias:
            raise ValueError("With boundary='wrap', dealias cannot be enabled.")
        psf_pad = fft_pad = False
        fill_value = 0
    elif boundary == "extend":
        raise NotImplementedError("The 'extend' option is not implemented for fft-based "
                                  "convolution")

    ashape, kshape = np.array(a.shape), np.array(k.shape)
    newshape = ashape + kshape if psf_pad else np.maximum(ashape, kshape)
    if dealias:
        newshape += np.ceil(newshape / 2).astype(int)
    if fft_pad:
        newshape = _next_fast_lengths(newshape)
    _size_error(newshape, complex_dtype, allow_huge)

    interpolate = nan_treatment == "interpolate"
    anchor = [int(s) // 2 for s in k.shape]
    fast = crop and not return_fft and (
        (boundary in (None, "fill") and psf_pad) or (boundary == "wrap" and np.all(kshape <= ashape)))
    # infinities are missing too (under interpolate the engine leaves every non-finite
    # sample out); the mask itself is needed only here, off the fast path, and by
    # preserve_nan
    finite = all_finite(a)
    nanmask = None if finite else ~np.isfinite(a)
    if nan_treatment == "fill" and nanmask is not None:
        a[nanmask] = fill_value  # a is a copy (copy_input copies under 'fill')
        if not np.isfinite(fill_value):
            raise ValueError("Encountered NaNs in convolve.  This is disallowed.")
    if nanmask is None and not fast:
        nanmask = np.zeros(a.shape, bool)
    if fast:
        result = _fast(a, kn, scale, boundary, fill_value, interpolate and not finite, min_wt,
                       anchor, compute, fftconv, interpolate)
    else:
        result = _padded(a, kn, scale, newshape, fill_value, interpolate, min_wt, crop,
                         return_fft, fftn, complex_dtype, compute, fftconv, nanmask)
        if return_fft:
            return result << unit if unit is not None else result
    if preserve_nan and nanmask is not None:
        view = result if crop else result[_slices(newshape, ashape)]
        view[nanmask] = np.nan
    if unit is not None:
        result = result << unit
    return result


def _slices(newshape, shape):
    out = []
    for n, s in zip(newshape, shape):
        centre = n - (n + 1) // 2
        out.append(slice(centre - s // 2, centre + (s + 1) // 2))
    return tuple(out)


def _fast(a, kn, scale, boundary, fill_value, missing, min_wt, anchor, compute, fftconv,
          interpolate):
    """The convolution on the array itself (the fill is a constant boundary); ``missing``:
    interpolate, and ``a`` has non-finite samples."""
    x = a.astype(compute, copy=False)
    kc = kn.astype(compute)
    crop = None
    options: dict[str, Any]
    if boundary == "wrap":
        options = {"boundary": "wrap"}
    elif np.isfinite(fill_value):
        options = {"boundary": "constant", "cval": float(fill_value)}
    elif not interpolate:  # astropy pads with zeros then
        options = {"boundary": "constant", "cval": 0.0}
    else:  # a non-finite fill carries no weight: it is missing, like nan samples
        x = np.pad(x, [(s, s) for s in kn.shape], constant_values=np.nan)
        crop = tuple(slice(s, s + n) for s, n in zip(kn.shape, a.shape))
        options = {"boundary": "constant", "cval": 0.0}
        missing = True
    plan = plan_for(x.shape, compute, kc, "same", anchor=anchor,
                    nan_policy="omit" if missing else "propagate", **options)
    y, empty = run_plan(plan, x, interpolate=missing, keep_inf=False, missing=missing)
    total = kc.sum(dtype=np.float64)
    if interpolate and not missing:  # astropy divides by the weight, sum(k) here
        y /= np.asarray(total, compute)
    if missing:
        y /= np.asarray(total, compute)  # omit gives sum(k) * the weighted mean
        if empty is not None:
            y[empty.reshape(y.shape)] = np.nan if min_wt > 0 else 0.0
        if min_wt > 0:  # the weights themselves: one more run on the validity mask
            valid = np.isfinite(x).astype(compute)
            wplan = fftconv.plan_convolve(x.shape, kc, "same", x_dtype=compute, anchor=anchor,
                                          **{**options, "cval": 1.0} if "cval" in options else options)
            weight = wplan(valid) / np.asarray(total, compute)
            y[weight < min_wt] = np.nan
    elif np.isnan(y).any():
        raise ValueError("Encountered NaNs in convolve.  This is disallowed.")
    if crop is not None:
        y = np.ascontiguousarray(y[crop])
    if scale != 1:
        y *= np.asarray(scale, compute)
    return y


def _padded(a, kn, scale, newshape, fill_value, interpolate, min_wt, crop, return_fft, fftn,
            complex_dtype, compute, fftconv, nanmask):
    """astropy's padded grid: circular convolution over ``newshape`` (fill around)."""
    newshape = tuple(int(n) for n in newshape)
    aslices = _slices(newshape, a.shape)
    kslices = _slices(newshape, kn.shape)
    finite_fill = np.isfinite(fill_value)
    big = np.full(newshape, fill_value if finite_fill else 0.0)
    big[aslices] = np.where(nanmask, 0.0, a)
    if return_fft:
        bigk = np.zeros(newshape, complex_dtype)
        bigk[kslices] = kn
        spec = fftn(big.astype(complex_dtype)) * fftn(np.fft.ifftshift(bigk))
        if np.isnan(spec).any():
            raise ValueError("Encountered NaNs in convolve.  This is disallowed.")
        return spec * scale
    anchor = [int(s) // 2 for s in kn.shape]

    def circular(data):
        kc = kn.astype(compute)
        return fftconv.convolve(data.astype(compute), kc, "same", boundary="wrap",
                                anchor=anchor)

    y = circular(big)
    if interpolate:
        wt = np.full(newshape, 1.0 if finite_fill else 0.0)
        wt[aslices] = 1.0 - nanmask
        conv = circular(wt)
        wt[aslices] = conv[aslices]
        tol = 10 * np.finfo(compute).eps * float(np.abs(kn).sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            y = y / wt.astype(compute)
        if min_wt > 0.0:
            y[wt < min_wt] = np.nan
        else:
            y[np.abs(wt) < tol] = 0.0  # no weight (negative weights are kept)
    y = y * np.asarray(scale, compute) if scale != 1 else y
    return np.ascontiguousarray(y[aslices]) if crop else y
