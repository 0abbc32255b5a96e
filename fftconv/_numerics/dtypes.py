"""dtype rules: what precision a job computes in, what it returns, and what it transforms in."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from .._errors import shown

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["cast_exact", "check_integer_range", "check_supported", "compute_and_result_dtype",
           "fft_dtypes", "parse_dtype"]

_FLOATING = {
    np.dtype(np.float32), np.dtype(np.float64),
    np.dtype(np.complex64), np.dtype(np.complex128),
}
_OVERRIDES = ("complex128", "complex64", "float32", "float64")


def parse_dtype(value: object) -> np.dtype | None:
    """``numpy.dtype(value)``, or None where numpy refuses the value."""
    try:  # numpy.dtype is the check: a TypeError for anything that is not a DTypeLike
        return np.dtype(cast("npt.DTypeLike", value))
    except TypeError:
        return None


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
    dt = parse_dtype(override)
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


def cast_exact(a: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """A C-contiguous ``dtype`` copy of ``a``, or ``OverflowError`` if a value would change.

    Only an integer cast can change a value here: ``uint64`` operands mixed with signed or
    bool ones compute in ``int64``, where values of ``2**63`` and above do not exist.
    """
    if a.dtype.kind in "iu" and dtype.kind in "iu" and a.size:
        info = np.iinfo(dtype)
        hi, lo = int(a.max()), int(a.min())
        if hi > info.max or lo < info.min:
            bad = hi if hi > info.max else lo
            raise OverflowError(
                f"{name} holds {bad}, which the exact {dtype} computation cannot represent "
                f"({a.dtype} mixed with a signed or bool operand computes in {dtype}); pass "
                "dtype='float64' to compute in floating point")
    return np.array(a, dtype=dtype, order="C")


def check_integer_range(x: np.ndarray, kernel: np.ndarray, result: np.dtype,
                        pad_value: int | None) -> None:
    """Raise ``OverflowError`` unless every exact result provably fits ``result``.

    ``x`` is the input *before* any cast to the compute dtype (a cast may wrap), ``kernel``
    the prepared ``(Bk, *K)`` kernel, ``pad_value`` the value the boundary adds (``cval``;
    None when it adds none). With ``P`` and ``N`` the sums of the positive and negative taps
    of one kernel and ``lo <= 0 <= hi`` bounding the extended input, every output lies in
    ``[P lo - N hi, P hi - N lo]``; wrapping intermediate sums are harmless when it fits.
    """
    k = kernel.reshape(kernel.shape[0], -1)
    l1 = float(np.abs(k.astype(np.float64)).sum(axis=1).max(initial=0))
    edge = abs(pad_value) if pad_value is not None else 0
    widest = 1 if x.dtype.kind == "b" else max(np.iinfo(x.dtype).max, -np.iinfo(x.dtype).min)
    if float(max(widest, edge)) * l1 < 2.0 ** 62:  # the dtype alone bounds it: x unread
        return
    hi = int(x.max(initial=0))
    lo = int(x.min(initial=0))
    if pad_value is not None:
        hi, lo = max(hi, pad_value), min(lo, pad_value)
    if max(hi, -lo) * l1 < 2.0 ** 62:  # far from the limit: no exact arithmetic needed
        return
    info = np.iinfo(result)
    for row in k:
        pos = sum(int(v) for v in row if v > 0)
        neg = -sum(int(v) for v in row if v < 0)
        top, bottom = pos * hi + neg * -lo, pos * lo - neg * hi
        if top > info.max or bottom < info.min:
            bad = top if top > info.max else bottom
            raise OverflowError(
                f"the exact integer result may not fit {result}: the sums can reach {bad}, "
                f"outside [{info.min}, {info.max}]; pass dtype='float64' to compute in "
                "floating point")
