"""``convolve``: astropy's direct convolution, computed by fftconv's planner.

astropy sums every window in C (``nan`` samples left out of both the sum and the weight
when interpolating). The same definition is computed here by whichever strategy the
planner picks: the direct sum for small kernels, transforms for large ones, with the
non-finite rule of the core (``nan`` missing, infinities propagating as IEEE values).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._inputs import copy_input, engine_dtype, masked_kernel_error, plan_for, run_plan

__all__ = ["convolve"]

BOUNDARY_OPTIONS = [None, "fill", "wrap", "extend"]
_BOUNDARIES = {"fill": "constant", "wrap": "wrap", "extend": "edge"}


def convolve(array, kernel, boundary="fill", fill_value=0.0, nan_treatment="interpolate",
             normalize_kernel=True, mask=None, preserve_nan=False,
             normalization_zero_tol=1e-8):
    from astropy.convolution import Kernel, Kernel1D, Kernel2D
    from astropy.convolution.core import MAX_NORMALIZATION
    from astropy.convolution.utils import KernelSizeError, has_even_axis
    from astropy.utils.exceptions import AstropyUserWarning


    if boundary not in BOUNDARY_OPTIONS:
        raise ValueError(f"Invalid boundary option: must be one of {BOUNDARY_OPTIONS}")
    if nan_treatment not in ("interpolate", "fill"):
        raise ValueError("nan_treatment must be one of 'interpolate','fill'")
    masked_kernel_error(kernel)
    passed_kernel, passed_array = kernel, array
    a = copy_input(passed_array, nan_treatment=nan_treatment, mask=mask, fill_value=np.nan)
    array_dtype = getattr(passed_array, "dtype", a.dtype)
    k = copy_input(passed_kernel, fill_value=fill_value)
    if has_even_axis(k):
        raise KernelSizeError("Kernel size must be odd in all axes.")
    if isinstance(passed_array, Kernel) and isinstance(passed_kernel, Kernel):
        warnings.warn("Both array and kernel are Kernel instances, hardwiring the following "
                      "parameters: boundary='fill', fill_value=0, normalize_Kernel=True, "
                      "nan_treatment='interpolate'", AstropyUserWarning, stacklevel=3)
        boundary, fill_value, normalize_kernel, nan_treatment = "fill", 0, True, "interpolate"
    if a.ndim == 0:
        raise ValueError("cannot convolve 0-dimensional arrays")
    if a.ndim > 3:
        raise NotImplementedError("convolve only supports 1, 2, and 3-dimensional arrays at "
                                  "this time")
    if a.ndim != k.ndim:
        raise ValueError("array and kernel have differing number of dimensions.")
    if a.size == 0:
        raise ValueError("cannot convolve empty array")
    pad = np.array(k.shape) // 2
    if boundary is None and not np.all(np.array(a.shape) > 2 * pad):
        raise KernelSizeError("for boundary=None all kernel axes must be smaller than array's - "
                              "use boundary in ['fill', 'extend', 'wrap'] instead.")
    fill_nan = boundary == "fill" and np.isnan(fill_value)
    with np.errstate(invalid="ignore", over="ignore"):
        has_nan = bool(np.isnan(a.sum()))
    nan_interpolate = nan_treatment == "interpolate" and (fill_nan or has_nan)
    kernel_sum = 1.0
    if normalize_kernel or nan_interpolate:
        kernel_sum = k.sum()
        if kernel_sum < 1.0 / MAX_NORMALIZATION or np.isclose(kernel_sum, 0,
                                                               atol=normalization_zero_tol):
            if nan_interpolate:
                raise ValueError("Setting nan_treatment='interpolate' requires the kernel to be "
                                 "normalized, but the input kernel has a sum close to zero. For "
                                 "a zero-sum kernel and data with NaNs, set nan_treatment='fill'.")
            raise ValueError("The kernel can't be normalized, because its sum is close to zero. "
                             f"The sum of the given kernel is < {1.0 / MAX_NORMALIZATION:.2f}. "
                             "For a zero-sum kernel, set normalize_kernel=False or pass a "
                             "custom normalization function to normalize_kernel.")
    initially_nan = None
    if preserve_nan or nan_treatment == "fill":
        initially_nan = np.isnan(a)
        if nan_treatment == "fill":
            a[initially_nan] = fill_value

    compute = engine_dtype(passed_array)
    x = a.astype(compute, copy=False)
    kc = k.astype(compute)
    options: dict = {}
    crop = None
    if boundary is None:  # only windows inside the array; the rest is zero
        mode = "valid"
    elif boundary == "fill" and not np.isfinite(fill_value):  # the fill is data too: pad
        x = np.pad(x, [(p, p) for p in pad], constant_values=fill_value)
        mode = "valid"
    else:
        mode = "same"
        options = {"boundary": _BOUNDARIES[boundary],
                   "cval": fill_value if boundary == "fill" else 0}
    policy = "omit" if nan_interpolate else "propagate"
    plan = plan_for(x.shape, compute, kc, mode, nan_policy=policy, **options)
    y, empty = run_plan(plan, x, interpolate=nan_interpolate, keep_inf=True)
    if nan_interpolate:
        with np.errstate(invalid="ignore", over="ignore"):
            y = y / np.asarray(kernel_sum, compute)  # omit gives sum(k) * the weighted mean
        if empty is not None:  # no weight: astropy keeps the centre sample
            centre = x[tuple(slice(p, n - p) for p, n in zip(pad, x.shape))] if mode == "valid" else x
            y[empty.reshape(y.shape)] = centre[empty.reshape(y.shape)]
    if boundary is None:
        result = np.zeros(a.shape, compute)
        result[tuple(slice(p, n - p) for p, n in zip(pad, a.shape))] = y
        crop = result
    result = crop if crop is not None else y
    if normalize_kernel:
        if not nan_interpolate:
            result /= np.asarray(kernel_sum, compute)
    elif nan_interpolate:
        result *= np.asarray(kernel_sum, compute)

    if nan_interpolate and not preserve_nan and np.isnan(result.sum()):
        warnings.warn("nan_treatment='interpolate', however, NaN values detected post "
                      "convolution. A contiguous region of NaN values, larger than the kernel "
                      "size, are present in the input array. Increase the kernel size to "
                      "avoid this.", AstropyUserWarning, stacklevel=3)
    if preserve_nan:
        result[initially_nan] = np.nan
    unit = getattr(passed_array, "unit", None)
    if unit is not None:
        result = result.astype(float) << unit
    if isinstance(passed_array, Kernel):
        if isinstance(passed_array, Kernel1D):
            new = Kernel1D(array=np.asarray(result, float))
        elif isinstance(passed_array, Kernel2D):
            new = Kernel2D(array=np.asarray(result, float))
        else:
            raise TypeError("Only 1D and 2D Kernels are supported.")
        new._is_bool = False
        new._separable = passed_array._separable
        if isinstance(passed_kernel, Kernel):
            new._separable = new._separable and passed_kernel._separable
        return new
    if unit is not None:
        return result
    if np.dtype(array_dtype).kind == "f":
        return result.astype(array_dtype, copy=False)
    return result.astype(float, copy=False)
