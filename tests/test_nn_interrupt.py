"""Ctrl-C stops a long fftconv.nn call promptly on both methods, and nn stays usable.

A child process starts a layer that runs for seconds; the test sends it a real SIGINT.
The work is bounded pieces taken from fftconv's shared queue, and the calling thread
sees the interrupt between its pieces, so the child must report the
``KeyboardInterrupt`` long before the call could have finished, then compute a small
layer that matches the direct sum.
"""

from __future__ import annotations

import sys

import pytest
from interrupt_util import assert_interrupt_stops


CHILD = r"""
import sys, time
import numpy as np
import fftconv
from fftconv import nn

method, workers, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
if case == "image" and method == "direct":  # one image: output channels and strips
    x = rng.standard_normal((1, 32, 1024, 1024)).astype(np.float32)
    w = rng.standard_normal((32, 32, 9, 9))
elif case == "image":  # one image: weight spectra, then ranges of transforms and bins
    x = rng.standard_normal((1, 4, 2048, 2048)).astype(np.float32)
    w = rng.standard_normal((8, 4, 31, 31))
else:  # a batch: pieces of items
    x = rng.standard_normal((16, 16, 512, 512)).astype(np.float32)
    w = rng.standard_normal((16, 16, 11, 11))
w = w.astype(np.float32)
small_x, small_w = x[:1, :2, :20, :20], w[:3, :2, :5, :5]
nn.conv2d(small_x, small_w, method=method)
print("ready", flush=True)
t0 = time.monotonic()
try:
    with fftconv.set_workers(workers):
        nn.conv2d(x, w, padding="same", method=method)
except KeyboardInterrupt:
    print("interrupted", flush=True)
else:
    print(f"finished after {time.monotonic() - t0:.1f} s", flush=True)
    sys.exit(3)
with fftconv.set_workers(workers):
    y = nn.conv2d(small_x, small_w, padding="same", method="fft")
    z = nn.conv2d(small_x, small_w, padding="same", method="direct")
assert np.allclose(y, z, atol=1e-3), "wrong after the interrupt"
print("usable", flush=True)
"""

CASES = [("direct", 2, "image"), ("direct", 1, "batch"), ("fft", 2, "image"),
         ("fft", 2, "batch")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("method", "workers", "case"), CASES)
def test_sigint_stops_a_long_layer_and_leaves_nn_usable(method, workers, case):
    assert_interrupt_stops(CHILD, method, str(workers), case)
