"""astropy.convolution's own tests, run on fftconv.astropy (see ``conftest.py``)."""

import importlib

import pytest
import scipy_swap

astropy_convolve = importlib.import_module("astropy.convolution.convolve")
import fftconv.astropy  # noqa: E402

NAMES = ("convolve", "convolve_fft")
MODULES = ("test_convolve", "test_convolve_fft", "test_convolve_kernels", "test_convolve_nddata")

_loaded = {}
for _leaf in MODULES:
    _mod, _swapper = scipy_swap.load_swapped(f"astropy.convolution.tests.{_leaf}",
                                             astropy_convolve, fftconv.astropy, NAMES)
    _loaded[_leaf] = (_mod, _swapper)
    for _name, _value in vars(_mod).items():
        if _name.startswith(("test_", "Test")):
            globals()[f"{_name}__{_leaf}" if _name in globals() else _name] = _value


@pytest.mark.parametrize("leaf", MODULES)
def test_swap_reaches_every_reference(leaf):
    """No test in the copies can still reach astropy's functions."""
    mod, swapper = _loaded[leaf]
    originals = [getattr(astropy_convolve, n) for n in NAMES]
    assert scipy_swap.leftovers(mod, originals) == []
    assert swapper.swapped >= 1
