"""Input handling shared by both façades: astropy's conversions, checks and messages."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._numerics.scaling import all_finite
from .._plan import Plan

__all__ = ["copy_input", "engine_dtype", "fill_number", "masked_kernel_error", "run_plan"]

MASKED_KERNEL = ("The kernel is a masked array with masked values. Use "
                 "kernel.filled(fill_value) to fill masked values before passing to convolve.")


def masked_kernel_error(kernel: object) -> None:
    if np.ma.is_masked(kernel):
        raise ValueError(MASKED_KERNEL)


def copy_input(value: Any, *, nan_treatment: str | None = None, mask: Any = None,
               fill_value: float = np.nan, dtype: Any = float) -> np.ndarray:
    """astropy's ``_copy_input_if_needed``: a float array (a copy when it will be written),
    ``Kernel`` and ``Quantity`` unwrapped, masked samples (of the array and of ``mask``)
    set to ``fill_value``."""
    from astropy.convolution import Kernel

    value = value.array if isinstance(value, Kernel) else value
    if hasattr(value, "unit"):
        value = value.value
    try:
        if nan_treatment == "fill" or np.ma.is_masked(value) or mask is not None:
            if np.ma.is_masked(value):
                out = np.asanyarray(value, dtype=dtype, order="C").filled(fill_value)
            else:
                out = np.array(value, dtype=dtype, copy=True, order="C", subok=False)
            if mask is not None:
                out[mask != 0] = fill_value  # astropy's expression: a list compares whole
        else:
            out = np.asanyarray(value, dtype=dtype, order="C")
            if isinstance(out, np.ma.MaskedArray):  # masked array without masked values
                out = np.ascontiguousarray(out.data)
    except (TypeError, ValueError) as e:
        raise TypeError("input should be a Numpy array or something convertible into a "
                        "float array", e) from None
    return out


def fill_number(fill_value: object, *, warn_complex: bool) -> float:
    """astropy's reading of ``fill_value``: one number (a bool, a one-element list or
    array); a complex one fills with its real part (``convolve`` warns, through
    ``numpy.pad``, as astropy's does); several numbers are astropy's ``ValueError``."""
    value = np.asarray(fill_value)
    if value.dtype.kind not in "biufc":
        raise TypeError(f"fill_value={fill_value!r} is invalid; expected a number")
    if value.size != 1:
        raise ValueError(f"fill_value={fill_value!r} is invalid: expected one number, not "
                         f"{value.size}")
    if value.dtype.kind == "c" and warn_complex:
        warnings.warn("Casting complex values to real discards the imaginary part",
                      np.exceptions.ComplexWarning, stacklevel=3)
    return float(value.real.reshape(()))


def check_transforms(fftn: object, ifftn: object) -> None:
    """astropy calls ``fftn`` and ``ifftn``: anything else is its ``TypeError``."""
    for name, value in (("fftn", fftn), ("ifftn", ifftn)):
        if not callable(value):
            raise TypeError(f"{name}={value!r} is invalid; expected a callable such as "
                            f"numpy.fft.{name}")


def engine_dtype(passed: object) -> np.dtype:
    """The precision fftconv computes in: float32 input stays float32, else float64."""
    dt = getattr(passed, "dtype", None)
    if dt is not None and np.dtype(dt).kind == "f" and np.dtype(dt).itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def run_plan(plan: Plan, x: np.ndarray, *, interpolate: bool, keep_inf: bool,
             missing: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(result, empty windows or None) of ``plan`` for ``x``, with ``nan`` missing.

    ``interpolate``: the plan is ``nan_policy='omit'`` and the windows without a valid
    weight are returned; ``keep_inf``: infinities are data (they propagate, IEEE);
    ``missing``: the caller knows ``x`` has non-finite samples.
    """
    xb = plan._canonical(x)
    p = plan.problem
    outb = np.empty((p.batch, *p.out_len), p.compute_dtype)
    empty = None
    if interpolate and (missing or not all_finite(xb)):
        empty = plan._missing().run(xb, outb, keep_inf=keep_inf, want_empty=True)
    else:
        plan._compute(xb, outb)
    return plan._result(outb, None), empty


def plan_for(shape: tuple[int, ...], dtype: np.dtype, kernel: np.ndarray, mode: str, *,
             boundary: str = "constant", cval: float = 0.0, anchor: object = None,
             nan_policy: str = "propagate") -> Plan:
    """The convolution plan for these arguments, kept in the engine's call memo (a repeated
    call with the same kernel reuses the kernel spectrum and FFTW plans)."""
    from .. import _engine
    from .._machine.workers import resolve_workers

    options = _engine.Options(mode=mode, boundary=boundary, cval=cval, anchor=anchor,
                              nan_policy=nan_policy, conjugate=False)
    workers = resolve_workers(None)
    key = None
    if kernel.nbytes <= _engine.MEMO_MAX_KERNEL_BYTES:
        key = ("fftconv.astropy", tuple(shape), np.dtype(dtype), kernel.shape, kernel.dtype,
               kernel.tobytes(), workers, options.key())
        found = _engine.calls.get(key)
        if isinstance(found, Plan):
            return found
    problem, prepared, method, effort = _engine._validate(tuple(shape), np.dtype(dtype), kernel,
                                                          True, options)
    plan = _engine.build_plan(problem, prepared, method=method, effort=effort,
                              workers=workers, dtype=None)
    if key is not None:
        _engine.calls.put(key, plan, plan.nbytes)
    return plan
