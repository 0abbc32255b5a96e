"""fftconv's warning category, its exceptions, the one formatter of option errors, and
how values are shown in messages."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["FFTConvWarning", "InexactError", "invalid_option", "shown"]


class FFTConvWarning(UserWarning):
    """Something fftconv did differently from what was asked, with the remedy."""


class InexactError(ValueError):
    """A float64 FFT cannot be proven to round to the exact integer result."""


def invalid_option(name: str, value: object, choices: Iterable[str], note: str = "") -> ValueError:
    """The error for an option value outside its table (the only wording used)."""
    listed = ", ".join(repr(c) for c in sorted(choices))
    return ValueError(f"{name}={value!r} is invalid; expected one of {listed}{note}")


def shown(value: object) -> str:
    """``repr(value)`` as an error message should show it.

    A dtype or a numpy scalar type is shown by its name (``'float16'``, not
    ``<class 'numpy.float16'>``); an array by its type and shape, never its contents.
    """
    if isinstance(value, np.dtype):
        return repr(value.name)
    if isinstance(value, type) and issubclass(value, np.generic):
        return repr(np.dtype(value).name)
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape and not isinstance(value, np.generic):
        return f"<{type(value).__name__} of shape {shape}>"
    return repr(value)
