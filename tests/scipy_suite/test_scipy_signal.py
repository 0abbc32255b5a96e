"""scipy.signal's own tests of the convolution functions, run on fftconv.signal.

The classes below come from a private copy of scipy's installed
``scipy/signal/tests/test_signaltools.py`` in which ``convolve``, ``correlate``,
``fftconvolve``, ``oaconvolve``, ``convolve2d``, ``correlate2d`` and
``choose_conv_method`` are fftconv's façades (``scipy_swap.py``).
"""

import scipy.signal
import scipy_swap

import fftconv.signal

NAMES = tuple(fftconv.signal.__all__)
CLASSES = ("TestConvolve", "TestConvolve2d", "TestFFTConvolve", "TestOAConvolve",
           "TestAllFreqConvolves", "TestCorrelateReal", "TestCorrelate",
           "TestCorrelateComplex", "TestCorrelate2d")

_module, _swapper = scipy_swap.load_swapped("scipy.signal.tests.test_signaltools",
                                            scipy.signal, fftconv.signal, NAMES)
globals().update({name: getattr(_module, name) for name in CLASSES})


def test_swap_reaches_every_reference():
    """No test in the copy can still reach scipy's functions; the façades are in place."""
    originals = [getattr(scipy.signal, n) for n in NAMES]
    assert scipy_swap.leftovers(_module, originals) == []
    for name in NAMES:
        assert getattr(_module, name).facade is getattr(fftconv.signal, name)
        assert getattr(_module.signal, name) is getattr(_module, name)
    assert _swapper.swapped > len(NAMES)
    # scipy itself is untouched
    assert scipy.signal.convolve.__module__.startswith("scipy.")
