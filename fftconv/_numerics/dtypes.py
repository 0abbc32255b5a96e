"""dtype rules: what precision a job computes in, what it returns, and what it transforms in."""

from __future__ import annotations

import numpy as np

from .._errors import shown

__all__ = ["compute_and_result_dtype", "check_supported", "fft_dtypes"]

_FLOATING = {
    np.dtype(np.float32), np.dtype(np.float64),
    np.dtype(np.complex64), np.dtype(np.complex128),
}
_OVERRIDES = ("complex128", "complex64", "float32", "float64")


def check_supported(dtype: np.dtype, name: str) -> None:
    """Raise ``TypeError`` for dtypes fftconv does not convolve."""
    if dtype.kind not in "biufc":
        raise TypeError(
            f"{name} has dtype {dtype}, which fftconv cannot convolve; expected a boolean, "
            "integer, floating or complex dtype")
    if dtype.kind in "fc" and dtype.itemsize > np.dtype(np.complex128 if dtype.kind == "c"
                                                        else np.float64).itemsize:
        raise TypeError(
            f"{name} has dtype {dtype} (extended precision), which fftconv does not support; "
            "expected float16/32/64 or complex64/128")


def _normalise_float(dt: np.dtype) -> np.dtype:
    """float16 computes in float32; everything else floating is kept."""
    if dt == np.float16:
        return np.dtype(np.float32)
    return dt


def compute_and_result_dtype(x_dtype: np.dtype, k_dtype: np.dtype,
                             override: object = None) -> tuple[np.dtype, np.dtype]:
    """Return ``(compute_dtype, result_dtype)`` for the inputs and a ``dtype=`` override.

    Rules: integers and bools give exact ``int64`` (``uint64`` when both are unsigned);
    an integer with a float gives float64 (complex128 with a complex); floats follow
    :func:`numpy.result_type`, with float16 computed and returned as float32.
    """
    check_supported(x_dtype, "x")
    check_supported(k_dtype, "kernel")
    xi, ki = x_dtype.kind in "biu", k_dtype.kind in "biu"
    natural: np.dtype
    if xi and ki:
        both_unsigned = x_dtype.kind == "u" and k_dtype.kind == "u"
        natural = np.dtype(np.uint64 if both_unsigned else np.int64)
    elif xi or ki:
        other = k_dtype if xi else x_dtype
        natural = np.dtype(np.complex128 if other.kind == "c" else np.float64)
    else:
        natural = _normalise_float(np.result_type(x_dtype, k_dtype))
        if natural.kind == "c" and natural.itemsize < 8:  # complex from float16 parts
            natural = np.dtype(np.complex64)
    if override is None:
        return natural, natural
    try:
        dt = np.dtype(override)  # type: ignore[call-overload]
    except TypeError:
        dt = None
    if dt is None or dt not in _FLOATING:
        choices = ", ".join(repr(c) for c in _OVERRIDES)
        raise ValueError(f"dtype={shown(override)} is invalid; expected one of {choices} or None")
    if natural.kind == "c" and dt.kind != "c":
        raise ValueError(
            f"dtype={shown(override)} is invalid for complex inputs: it would drop the imaginary "
            "part; pass a complex dtype ('complex64' or 'complex128')")
    return dt, dt


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_C64, _C128 = np.dtype(np.complex64), np.dtype(np.complex128)
_FFT_DTYPES: dict[np.dtype, tuple[np.dtype, np.dtype, bool]] = {
    _F32: (_F32, _C64, True), _C64: (_C64, _C64, False), _C128: (_C128, _C128, False)}


def fft_dtypes(compute: np.dtype) -> tuple[np.dtype, np.dtype, bool]:
    """(real-space dtype, spectrum dtype, real transform?) for a compute dtype (every real
    dtype other than float32 transforms in float64)."""
    return _FFT_DTYPES.get(compute, (_F64, _C128, True))
