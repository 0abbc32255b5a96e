"""Norms of an array in float64: the 2-norm without the BLAS, and the 1-norm.

``np.linalg.norm`` of more than 10,000 samples (and ``np.dot``) goes to the BLAS dot,
which OpenBLAS runs on its own threads; those then spin for about 100 ms after the call,
waiting for more work. On a 2-core box that is a core taken from the transform that
follows for as long as it runs: an exact-integer FFT of a 1024² uint8 image with a 31²
kernel, which bounds its rounding error by the image's norm on every call, ran in
20.9 ms against 12.7 ms with the BLAS on one thread. ``np.einsum`` sums the products in
numpy's own loops, on the calling thread, and casts in small buffers (no float64 copy of
the whole array).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["norm1", "norm2"]


def norm2(a: np.ndarray) -> float:
    """``sqrt(sum(|a|^2))`` in float64 (``np.linalg.norm(a.ravel())``), on this thread."""
    v = np.asarray(a).reshape(-1)
    if v.dtype.kind == "c":
        v = np.ascontiguousarray(v)
        v = v.view(v.real.dtype)  # the real and imaginary parts, interleaved
    if v.dtype.kind == "b":
        v = v.view(np.uint8)
    return math.sqrt(float(np.einsum("i,i->", v, v, dtype=np.float64, casting="safe")))


def norm1(a: np.ndarray) -> float:
    """``sum(|a|)`` in float64. Integers are cast first: ``abs(-2**63)`` wraps in int64,
    and a negative norm would pass any bound."""
    v = np.asarray(a)
    if v.dtype.kind not in "fc":
        v = v.astype(np.float64)
    return float(np.abs(v).sum(dtype=np.float64))
