"""Validation of the streaming API's arguments (messages from the core's formatter)."""

from __future__ import annotations

import numpy as np

from ._core import as_array, as_index, check_option, check_supported
from ._partition import METHODS

__all__ = ["as_axis", "as_count", "as_kernel", "as_latency", "as_method"]


def as_count(value: object, name: str, minimum: int = 1) -> int:
    """An int ``>= minimum`` (bools rejected)."""
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        n = as_index(value)
    except TypeError:
        n = None
    if n is None or n < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name}={value!r} is invalid; expected {kind}")
    return n


def as_latency(value: object, block: int) -> int:
    if value is None:
        return block
    try:
        return as_count(value, "latency", 0)
    except ValueError:
        raise ValueError(f"latency={value!r} is invalid; expected None (one block, "
                         f"{block} samples) or an int >= 0") from None


def as_method(value: object) -> str:
    return check_option("method", value, ("auto", *METHODS))


def as_axis(axis: object, ndim: int, name: str = "axis") -> int:
    """A stream axis for arrays of ``ndim`` dimensions, made non-negative."""
    try:
        if isinstance(axis, (bool, np.bool_)):
            raise TypeError
        a = as_index(axis)
    except TypeError:
        raise ValueError(f"{name}={axis!r} is invalid; expected an int") from None
    if not -ndim <= a < ndim:
        raise ValueError(f"{name}={axis!r} is out of range for arrays with {ndim} "
                         f"dimension{'s' if ndim != 1 else ''}")
    return a % ndim


def as_kernel(kernel: object, name: str = "kernel") -> np.ndarray:
    """A non-empty, finite, numeric kernel array (at least 1-D)."""
    k = as_array(kernel, name)
    check_supported(k.dtype, name)
    if k.ndim == 0:
        raise ValueError(f"{name} is a scalar; expected an array of taps (at least 1-D)")
    if k.size == 0:
        raise ValueError(f"{name} has shape {k.shape}, with no taps; expected at least one tap")
    if k.dtype.kind in "fc" and not np.isfinite(k).all():
        bad = int(np.count_nonzero(~np.isfinite(k)))
        raise ValueError(f"{name} has {bad} non-finite tap{'s' if bad != 1 else ''} (nan or "
                         "inf); expected finite values")
    return k
