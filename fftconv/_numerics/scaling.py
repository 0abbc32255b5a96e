"""Power-of-two scaling that keeps FFT intermediates finite for finite inputs.

A transform sums every sample: the spectrum of ``n`` samples near ``float32``'s maximum
overflows although each output of the direct sum (a short window) is finite. Scaling the
input by ``2**-e`` (so its peak is about 1) before the transform and the result by ``2**e``
after is exact (powers of two only move the exponent), so the scaled path gives the same
rounding as the plain one; it runs only when the plain result is not finite.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["all_finite", "exponent", "peak", "scale"]


def all_finite(a: np.ndarray) -> bool:
    """Whether every value is finite; one summing pass, no temporary, in the common case.

    A non-finite value makes the sum non-finite; a non-finite sum of finite values
    (overflow) is settled by the exact check.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(a.sum()):
            return True
    return bool(np.isfinite(a).all())


def peak(a: np.ndarray) -> float:
    """``max |a|`` over real and imaginary parts (0 for an empty array), without a copy."""
    if a.size == 0:
        return 0.0
    if a.dtype.kind == "c":
        a = np.ascontiguousarray(a).view(a.real.dtype)
    return max(float(a.max()), -float(a.min()), 0.0)


def exponent(value: float) -> int:
    """The ``e`` with ``value * 2**-e`` in ``[0.5, 1)`` (0 for 0 or non-finite values)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return math.frexp(value)[1]


def scale(a: np.ndarray, e: int) -> None:
    """``a *= 2**e`` in place, exactly, in steps whose factors the dtype can hold."""
    if e == 0:
        return
    step = 60  # 2**60 and 2**-60 are normal in every float dtype
    while e:
        part = max(-step, min(step, e))
        a *= 2.0 ** part
        e -= part
