"""fftconv's warning category."""

__all__ = ["FFTConvWarning"]


class FFTConvWarning(UserWarning):
    """Something fftconv did differently from what was asked, with the remedy."""
