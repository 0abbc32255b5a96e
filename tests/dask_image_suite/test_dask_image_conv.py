"""dask-image's ndfilters convolution tests, run on fftconv.dask.ndfilters (see conftest)."""

import importlib.util
import sys
from pathlib import Path

import dask_image.ndfilters
import scipy_swap

import fftconv.dask.ndfilters

NAMES = ("convolve", "correlate")
_NAME = "_fftconv_swapped_dask_image_test__conv"


def _load():
    spec = importlib.util.spec_from_file_location(
        _NAME, Path(__file__).resolve().parent / "test__conv.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = mod
    spec.loader.exec_module(mod)
    swapper = scipy_swap.Swapper(dask_image.ndfilters, fftconv.dask.ndfilters, NAMES)
    swapper.module(mod)
    return mod, swapper


_module, _swapper = _load()
globals().update({name: value for name, value in vars(_module).items()
                  if name.startswith(("test_", "Test"))})


def test_swap_reaches_every_reference_dask_image():
    """No vendored test can still reach dask-image's functions; fftconv's are in place."""
    originals = [getattr(dask_image.ndfilters, n) for n in NAMES]
    assert scipy_swap.leftovers(_module, originals) == []
    assert _swapper.swapped >= 2 * len(NAMES)
    assert dask_image.ndfilters.convolve.__module__.startswith("dask_image")
