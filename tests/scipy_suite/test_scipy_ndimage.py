"""scipy.ndimage's own filter tests, run on fftconv.ndimage.

Everything in a private copy of scipy's installed ``scipy/ndimage/tests/test_filters.py``
is collected with ``correlate``, ``convolve``, ``correlate1d`` and ``convolve1d`` swapped
for fftconv's façades (``scipy_swap.py``); ``conftest.py`` keeps the tests that
``-k "correlate or convolve"`` selects.
"""

import scipy.ndimage
import scipy_swap

import fftconv.ndimage

NAMES = tuple(fftconv.ndimage.__all__)

_module, _swapper = scipy_swap.load_swapped("scipy.ndimage.tests.test_filters",
                                            scipy.ndimage, fftconv.ndimage, NAMES)
globals().update({name: value for name, value in vars(_module).items()
                  if name.startswith(("test_", "Test"))})


def test_swap_reaches_every_reference_ndimage():
    """No test in the copy can still reach scipy's functions; the façades are in place."""
    originals = [getattr(scipy.ndimage, n) for n in NAMES]
    assert scipy_swap.leftovers(_module, originals) == []
    for name in NAMES:
        assert getattr(_module.ndimage, name).facade is getattr(fftconv.ndimage, name)
    assert _swapper.swapped > len(NAMES)
