"""Shared pieces of the fuzz suites: the example budget, and the problem generator.

``make test`` runs a bounded profile (a fixed seed, four times each test's base budget);
``FFTCONV_FUZZ=deep`` runs 50 times that, without a fixed seed, for a long hunt before a
release. See docs/reliability.md.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DEEP = os.environ.get("FFTCONV_FUZZ", "").lower() == "deep"
FACTOR = 200 if DEEP else 4


def budget(examples: int):
    """Hypothesis settings for a test that runs ``examples`` cases in the bounded profile."""
    return settings(max_examples=examples * FACTOR, deadline=None, derandomize=not DEEP,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])


MODES = ("full", "same", "valid")
BOUNDARIES = ("constant", "reflect", "symmetric", "edge", "wrap")
METHODS = ("auto", "direct", "fft", "overlap")


@st.composite
def geometry(draw, max_ndim: int = 2, max_n: int = 9, max_k: int = 5):
    """(x_shape, kernel_shape, mode, boundary, anchor) of a valid problem."""
    ndim = draw(st.integers(1, max_ndim))
    n = tuple(draw(st.integers(1, max_n)) for _ in range(ndim))
    k = tuple(draw(st.integers(1, max_k)) for _ in range(ndim))
    mode = draw(st.sampled_from(MODES))
    if mode == "valid":
        k = tuple(min(a, b) for a, b in zip(k, n))
    boundary = draw(st.sampled_from(BOUNDARIES))
    anchor = None
    if mode == "same" and draw(st.booleans()):
        anchor = tuple(draw(st.integers(0, ki - 1)) for ki in k)
    return n, k, mode, boundary, anchor


def values(draw, shape, dtype, elements):
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=elements))


def small_floats(width: int = 64):
    """Floats of moderate magnitude (tiny ones would make subnormal products, whose
    rounding no tolerance relative to the data can bound)."""
    return st.one_of(st.just(0.0), st.floats(1e-3, 100, width=width),
                     st.floats(-100, -1e-3, width=width))


def exact_floats(width: int = 64):
    """Small integers as floats: every sum is exact, so any alignment error shows."""
    return st.integers(-8, 8).map(float)
