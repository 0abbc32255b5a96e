"""The docstring examples of fftconv.stream run and print what they say."""

import doctest
import importlib

import pytest

import fftconv


@pytest.mark.parametrize("name", ["fftconv.stream._convolver", "fftconv.stream._fir"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_lazy_submodule():
    assert "stream" in dir(fftconv)
    assert fftconv.stream.StreamConvolver.__name__ == "StreamConvolver"
    assert "Threads to use" in fftconv.stream.StreamConvolver.__doc__
    assert "%(" not in fftconv.stream.StreamConvolver.__doc__
