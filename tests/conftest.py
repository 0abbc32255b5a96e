"""Shared pytest configuration: the naive reference lives in ``reference.py``."""

from hypothesis import HealthCheck, settings

# numba compiles on first use and FFTW plans on first shape: no per-example deadline.
settings.register_profile(
    "fftconv", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("fftconv")
