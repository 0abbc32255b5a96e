"""Run scipy's own installed tests against fftconv.signal and fftconv.ndimage.

``test_scipy_signal.py`` and ``test_scipy_ndimage.py`` collect private copies of scipy's
test modules in which the replaced functions are the façades (see ``scipy_swap.py``).
This file supplies what scipy's own conftest would: its markers, the ``xp`` fixture
(NumPy backend) and ``num_parallel_threads``; it selects the ndimage tests that
``-k "correlate or convolve"`` would, and checks that every test called a façade.
"""

import re

import pytest
import scipy_swap

_MARKERS = [
    "xslow: extremely slow scipy test",
    "xfail_on_32bit: scipy test failing on 32-bit platforms",
    "array_api_backends: scipy test iterating on array API backends",
    "skip_xp_backends(backends, reason=None, np_only=False, cpu_only=False, "
    "eager_only=False, exceptions=None): scipy's backend skips",
    "xfail_xp_backends(backends, reason=None, np_only=False, cpu_only=False, "
    "eager_only=False, exceptions=None): scipy's backend xfails",
    "fail_slow: scipy's timeout marker",
    "timeout: scipy's timeout marker",
    "thread_unsafe: scipy's single-thread marker",
    "parallel_threads_limit(n): scipy's thread-count marker",
    "iterations(n): scipy's repetition marker",
]
#: ndimage tests are those ``-k "correlate or convolve"`` selects in scipy's module.
_NDIMAGE_SELECT = re.compile("correlate|convolve", re.IGNORECASE)


def pytest_configure(config):
    for line in _MARKERS:
        config.addinivalue_line("markers", line)


def _source(item) -> str:
    """The module that defines the test: a swapped copy's name contains '_fftconv_swapped_'."""
    return getattr(getattr(item, "obj", None), "__module__", None) or ""


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        if _source(item).endswith("_swapped_test_filters") and not _NDIMAGE_SELECT.search(
                item.nodeid.split("::", 1)[1]):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _backend_marks(request, kind):
    """scipy's ``skip_xp_backends``/``xfail_xp_backends`` markers, for the NumPy backend."""
    for mark in request.node.iter_markers(f"{kind}_xp_backends"):
        if mark.args and mark.args[0] == "numpy":  # np_only/cpu_only never exclude numpy
            getattr(pytest, kind)(reason=mark.kwargs.get("reason") or "not for numpy")


@pytest.fixture(params=["numpy"])
def xp(request):
    """scipy's array-namespace fixture, restricted to NumPy."""
    import numpy as np
    from scipy._lib._array_api import array_namespace

    _backend_marks(request, "skip")
    _backend_marks(request, "xfail")
    return array_namespace(np.empty(0))


@pytest.fixture
def num_parallel_threads():
    return 1


@pytest.fixture(autouse=True)
def _calls_the_facade(request):
    """Fail a scipy test that passed without calling any fftconv façade."""
    if "_fftconv_swapped_" not in _source(request.node):
        yield
        return
    before = sum(scipy_swap.CALLS.values())
    yield
    if sum(scipy_swap.CALLS.values()) == before:
        pytest.fail(f"{request.node.nodeid} did not call any fftconv façade", pytrace=False)
