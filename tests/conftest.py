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
