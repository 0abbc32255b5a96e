"""Every error message of fftconv.stream, raised before any work."""

import re

import numpy as np
import pytest

from fftconv.stream import StreamConvolver, fir_filter

H = np.ones(10)


def raises(match, fn, *args, exc=ValueError, **kwargs):
    with pytest.raises(exc, match=re.escape(match)):
        fn(*args, **kwargs)


def test_kernel_errors():
    raises("kernel has shape (0,), with no taps; expected at least one tap", StreamConvolver,
           [], 16)
    raises("kernel has 2 non-finite taps (nan or inf); expected finite values",
           StreamConvolver, [1.0, np.nan, np.inf], 16)
    raises("kernel is a scalar; expected an array of taps", StreamConvolver, 3.0, 16)
    raises("kernel has dtype <U1, which fftconv cannot convolve", StreamConvolver,
           np.array(["a"]), 16, exc=TypeError)


def test_option_errors():
    raises("block_size=0 is invalid; expected a positive int", StreamConvolver, H, 0)
    raises("block_size=True is invalid; expected a positive int", StreamConvolver, H, True)
    raises("latency=-1 is invalid; expected None (one block, 16 samples) or an int >= 0",
           StreamConvolver, H, 16, latency=-1)
    raises("method='upols' is invalid; expected one of 'auto', 'direct', 'nonuniform', "
           "'uniform'", StreamConvolver, H, 16, method="upols")
    raises("workers=0 is invalid", StreamConvolver, H, 16, workers=0)
    raises("dtype='int8' is invalid; expected one of", StreamConvolver, H, 16, dtype="int8")
    raises("axis='x' is invalid; expected an int", StreamConvolver, np.ones((3, 2)), 16,
           axis="x")


def test_block_errors():
    sc = StreamConvolver(H, 16)
    sc.process(np.zeros((2, 16)))
    raises("block has shape (3, 16); expected 2 dimensions with channel shape (2,) around the "
           "stream axis 1 (fixed by the first block)", sc.process, np.zeros((3, 16)))
    raises("block has shape (16,); expected 2 dimensions", sc.process, np.zeros(16))
    raises("block has dtype complex128, which would compute in complex128, but this "
           "convolver computes float64", sc.process, np.zeros((2, 16), complex))
    raises("out has shape (2, 8) and dtype float64; expected an ndarray of shape (2, 16) and "
           "dtype float64", sc.process, np.zeros((2, 16)), out=np.zeros((2, 8)))
    raises("block is a scalar", StreamConvolver(H, 4).process, 1.0)
    raises("block has dtype object; expected numbers", StreamConvolver(H, 4).process,
           np.array([None]), exc=TypeError)
    sc32 = StreamConvolver(H.astype(np.float32), 16)
    sc32.process(np.zeros(16, np.float32))
    raises("block has dtype float64, which would compute in float64, but this convolver "
           "computes float32", sc32.process, np.zeros(16))


def test_kernel_layout_errors():
    raises("kernel has shape (10, 3), which does not fit blocks of channel shape (2,)",
           StreamConvolver(np.ones((10, 3)), 4, axis=0).process, np.zeros((4, 2)))
    raises("kernel has 2 dimensions but the blocks have 3; expected 1 (shared) or 3",
           StreamConvolver(np.ones((2, 10)), 4).process, np.zeros((2, 2, 4)))


def test_set_kernel_and_flush_errors():
    raises("flush() called before any block", StreamConvolver(H, 4).flush)
    sc = StreamConvolver(H, 4)
    sc.process(np.zeros(4))
    raises("kernel has 11 taps, more than the 10 this convolver was made for",
           sc.set_kernel, np.ones(11))
    raises("crossfade=-3 is invalid; expected an int >= 0", sc.set_kernel, H, crossfade=-3)
    raises("kernel has 1 non-finite tap", sc.set_kernel, [np.nan])
    sc.set_kernel(H, crossfade=100)
    raises("set_kernel called during a crossfade (100 samples from the previous set_kernel)",
           sc.set_kernel, H)
    shared = StreamConvolver(H, 4)
    shared.process(np.zeros((2, 4)))
    raises("kernel has one kernel per channel, but the convolver was made with a shared "
           "kernel", shared.set_kernel, np.ones((2, 10)))


def test_fir_filter_errors():
    raises("zi has shape (3,); expected (9,) (x's shape with len(b) - 1 = 9 along axis 0",
           fir_filter, H, np.zeros(20), zi=np.zeros(3))
    raises("zi has shape (9,); expected (2, 9)", fir_filter, H, np.zeros((2, 20)),
           zi=np.zeros(9))
    raises("b has shape (2, 5); expected a 1-D array of taps", fir_filter, np.ones((2, 5)),
           np.zeros(20))
    raises("b has shape (0,), with no taps", fir_filter, [], np.zeros(20))
    raises("b has 1 non-finite tap", fir_filter, [1.0, np.inf], np.zeros(20))
    raises("axis=2 is out of range for arrays with 1 dimension", fir_filter, H, np.zeros(20),
           axis=2)
    raises("x is a scalar", fir_filter, H, 1.0)
