"""Shared pytest configuration: the naive reference lives in ``reference.py``."""

from hypothesis import HealthCheck, settings

# numba compiles on first use and FFTW plans on first shape: no per-example deadline.
settings.register_profile(
    "fftconv", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("fftconv")


def pytest_configure(config):
    """Keep the suite away from the user's calibration, wisdom and measured decisions."""
    import os
    import tempfile

    os.environ["FFTCONV_CACHE_DIR"] = tempfile.mkdtemp(prefix="fftconv-test-cache-")
    # Plans learn from their own timings; tests of choices need the model's own figures
    # (tests/test_learning.py turns it on where it is the subject).
    os.environ["FFTCONV_LEARN"] = "off"
