"""Low-rank (separable) factorisations of kernels.

A 2-d kernel is a sum of ``r`` outer products (its SVD truncated at numpy's
``matrix_rank`` tolerance, ``sigma_max * max(K) * eps``); an n-d kernel with ``n >= 3`` is
tested for rank 1 (an outer product of one vector per axis). A factorisation is kept only
when its passes cost fewer multiply-adds than the full sum: ``r * sum(K) < prod(K)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["factorize", "separable_rank"]

Terms = tuple[tuple[np.ndarray, ...], ...]


def _tolerance(kernel: np.ndarray, dtype: np.dtype) -> float:
    eps = np.finfo(np.dtype(dtype)).eps
    return float(max(kernel.shape)) * eps


def factorize(kernel: np.ndarray, compute: np.dtype) -> Terms | None:
    """Separable terms of ``kernel`` (one tuple of per-axis vectors each), or None.

    ``sum_t outer(*terms[t])`` equals ``kernel`` to within the dtype's rounding.
    """
    if compute.kind not in "fc":
        return None
    k, shape = kernel, kernel.shape
    if k.ndim < 2 or min(shape) < 2 or not np.isfinite(k).all():
        return None
    work = k.astype(np.complex128 if k.dtype.kind == "c" else np.float64)
    rel = _tolerance(k, compute)
    terms: list[tuple[np.ndarray, ...]] = []
    if k.ndim == 2:
        u, s, vh = np.linalg.svd(work)
        if s.size == 0 or s[0] == 0:
            return None
        r = int(np.count_nonzero(s > s[0] * rel))
        for i in range(r):
            terms.append((u[:, i] * s[i], vh[i, :]))
    else:
        peak = np.unravel_index(np.argmax(np.abs(work)), shape)
        pivot = work[peak]
        if pivot == 0:
            return None
        vecs = []
        for axis in range(k.ndim):
            index: list[Any] = list(peak)
            index[axis] = slice(None)
            vecs.append(work[tuple(index)])
        vecs[0] = vecs[0] / pivot ** (k.ndim - 1)
        rebuilt = vecs[0]
        for v in vecs[1:]:
            rebuilt = np.multiply.outer(rebuilt, v)
        if np.linalg.norm(rebuilt - work) > rel * np.linalg.norm(work) * math.sqrt(k.size):
            return None
        terms.append(tuple(vecs))
    if len(terms) * sum(shape) >= math.prod(shape):
        return None
    return tuple(tuple(v.astype(compute) for v in t) for t in terms)


def separable_rank(kernel: np.ndarray, compute: np.dtype) -> int | None:
    """Number of separable terms of ``kernel``, or None when it has no cheap factorisation."""
    terms = factorize(kernel, compute)
    return None if terms is None else len(terms)
