"""Run dask-image's own ndfilters convolution tests against fftconv.dask.ndfilters.

``test__conv.py`` is dask-image's ``tests/test_dask_image/test_ndfilters/test__conv.py``,
vendored unchanged (licence: ``LICENSE.txt``, BSD-3-Clause). It is not collected as it
is: ``test_dask_image_conv.py`` executes a private copy of it in which every reference to
``dask_image.ndfilters.convolve``/``correlate`` is the fftconv function (the same swapper
as the scipy suites, ``tests/scipy_suite/scipy_swap.py``); dask-image itself is left
untouched. Every swapped test must call an fftconv function at least once.
"""

import sys
from pathlib import Path

import pytest

collect_ignore = ["test__conv.py"]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scipy_suite"))
import scipy_swap  # noqa: E402


@pytest.fixture(autouse=True)
def _calls_fftconv(request):
    """Fail a vendored test that passed without calling fftconv.dask.ndfilters."""
    module = getattr(getattr(request.node, "obj", None), "__module__", "") or ""
    if "_fftconv_swapped_" not in module:
        yield
        return
    before = sum(scipy_swap.CALLS.values())
    yield
    if sum(scipy_swap.CALLS.values()) == before:
        pytest.fail(f"{request.node.nodeid} did not call fftconv.dask.ndfilters",
                    pytrace=False)
