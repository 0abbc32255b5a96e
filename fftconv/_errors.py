"""fftconv's warning category, its exceptions, and the one formatter of option errors."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FFTConvWarning", "InexactError", "invalid_option"]


class FFTConvWarning(UserWarning):
    """Something fftconv did differently from what was asked, with the remedy."""


class InexactError(ValueError):
    """A float64 FFT cannot be proven to round to the exact integer result."""


def invalid_option(name: str, value: object, choices: Iterable[str], note: str = "") -> ValueError:
    """The error for an option value outside its table (the only wording used)."""
    listed = ", ".join(repr(c) for c in sorted(choices))
    return ValueError(f"{name}={value!r} is invalid; expected one of {listed}{note}")
