"""Run astropy's own installed convolution tests against fftconv.astropy.

``test_astropy_convolution.py`` collects private copies of astropy's test modules
(``astropy/convolution/tests/test_convolve.py``, ``test_convolve_fft.py``,
``test_convolve_kernels.py``, ``test_convolve_nddata.py``) in which ``convolve`` and
``convolve_fft`` are fftconv's façades, swapped the way ``tests/scipy_suite`` swaps
scipy's functions (its ``scipy_swap`` module does the work). Every swapped test must call
a façade. Tests that must differ are listed in ``DIFFERS`` with the reason (also in
docs/compat.md); they run as strict xfails, so they fail the suite if they start passing.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "scipy_suite"))
import scipy_swap

pytest.importorskip("astropy")

#: Tests whose expectation fftconv deliberately does not meet: node id part -> reason.
DIFFERS: dict[str, str] = {}

#: Tests that pass without calling either function, by design: node id part -> why.
NO_CALL = {
    "test_uniform_smallkernel[2-": "returns early for even widths (convolve needs odd)",
    "test_uniform_smallkernel[4-": "returns early for even widths (convolve needs odd)",
    "test_gaussian_2d_kernel_quantity": "compares two kernels, convolves nothing",
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item._astropy_call_passed = report.passed and not hasattr(report, "wasxfail")


def _source(item) -> str:
    return getattr(getattr(item, "obj", None), "__module__", None) or ""


def pytest_collection_modifyitems(config, items):
    for item in items:
        for part, reason in DIFFERS.items():
            if part in item.nodeid and "_fftconv_swapped_" in _source(item):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(autouse=True)
def _calls_the_facade(request):
    """Fail an astropy test that passed without calling a façade."""
    if ("_fftconv_swapped_" not in _source(request.node)
            or request.node.get_closest_marker("xfail") is not None):
        yield
        return
    before = sum(scipy_swap.CALLS.values())
    yield
    exempt = any(part in request.node.nodeid for part in NO_CALL)
    if (getattr(request.node, "_astropy_call_passed", False) and not exempt
            and sum(scipy_swap.CALLS.values()) == before):
        pytest.fail(f"{request.node.nodeid} did not call any fftconv.astropy façade",
                    pytrace=False)
