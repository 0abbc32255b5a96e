"""fftconv's warning category and its exceptions."""

__all__ = ["FFTConvWarning", "InexactError"]


class FFTConvWarning(UserWarning):
    """Something fftconv did differently from what was asked, with the remedy."""


class InexactError(ValueError):
    """A float64 FFT cannot be proven to round to the exact integer result."""
