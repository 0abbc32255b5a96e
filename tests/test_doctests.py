"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["fftconv._api", "fftconv._machine.workers", "fftconv.kernels", "fftconv._cli._kernelspec",
           "fftconv.signal", "fftconv.ndimage", "fftconv.nn"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
