"""Ctrl-C stops a long call promptly on every strategy, and the library stays usable.

A child process starts a call that runs for many seconds; the test sends it a real
SIGINT. Long calls are split into bounded pieces taken from fftconv's shared queue, and
the calling thread sees the interrupt between its pieces, so the child must report the
``KeyboardInterrupt`` long before the call could have finished, then compute a small
convolution correctly.
"""

from __future__ import annotations

import sys

import pytest
from interrupt_util import assert_interrupt_stops


CHILD = r"""
import sys, time
import numpy as np
import fftconv

method, workers, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
axes = None
if case == "batch":  # 96 signals of 1024^2: the pieces are signals
    x = rng.standard_normal((96, 1024, 1024)).astype(np.float32)
    k = rng.standard_normal((31, 31)).astype(np.float32)
    axes = (1, 2)
elif case == "separable":  # the pieces are row ranges of each 1-d pass
    x = rng.standard_normal((4096, 4096))
    k = np.outer(np.hanning(1023), np.hanning(1023))
else:  # direct: row ranges; slabs: row and column slabs; overlap: batches of blocks
    n, kk = {"direct": (4096, 95), "slabs": (8192, 63), "overlap": (8192, 1023)}[case]
    x = rng.standard_normal((n, n)).astype(np.float32)
    k = rng.standard_normal((kk, kk)).astype(np.float32)
small_x, small_k = x[(0,) * (x.ndim - 2)][:40, :40], k[:5, :5]
from fftconv._machine import jit
jit.import_numba()  # compiled code loaded: a small warm-up call would run on numpy alone
fftconv.correlate(small_x, small_k, method=method if method != "separable" else "auto")
print("ready", flush=True)
t0 = time.monotonic()
try:
    fftconv.correlate(x, k, "same", method=method, workers=workers, axes=axes)
except KeyboardInterrupt:
    print("interrupted", flush=True)
else:
    print(f"finished after {time.monotonic() - t0:.1f} s", flush=True)
    sys.exit(3)
y = fftconv.correlate(small_x, small_k, "same", method="fft", workers=workers)
z = fftconv.correlate(small_x, small_k, "same", method="direct", workers=workers)
assert np.allclose(y, z, atol=1e-3), "wrong after the interrupt"
print("usable", flush=True)
"""

CASES = [
    ("direct", 1, "direct"),
    ("direct", 2, "direct"),
    ("fft", 1, "batch"),
    ("fft", 2, "slabs"),
    ("overlap", 2, "overlap"),
    ("separable", 1, "separable"),
]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("method", "workers", "case"), CASES)
def test_sigint_stops_a_long_call_and_leaves_the_library_usable(method, workers, case):
    assert_interrupt_stops(CHILD, method, str(workers), case)
