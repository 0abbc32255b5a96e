"""Low-rank (separable) factorisations of kernels.

A 2-d kernel is a sum of ``r`` outer products (its SVD truncated at numpy's
``matrix_rank`` tolerance, ``sigma_max * max(K) * eps``); an n-d kernel with ``n >= 3`` is
tested for rank 1 (an outer product of one vector per axis). A factorisation is kept only
when its passes cost fewer multiply-adds than the full sum: ``r * sum(K) < prod(K)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from .norm import norm2

__all__ = ["factorize", "separable_rank", "singular_values", "small_facts"]

Terms = tuple[tuple[np.ndarray, ...], ...]


_EPS = {np.dtype(t): float(np.finfo(t).eps) for t in (np.float32, np.float64, np.complex64,
                                                         np.complex128)}


def _tolerance(kernel: np.ndarray, dtype: np.dtype) -> float:
    eps = _EPS.get(dtype) or float(np.finfo(np.dtype(dtype)).eps)
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
        factors = _svd(work, compute)
        if factors is None:
            return None
        u, s, vh = factors
        if s.size == 0 or s[0] == 0:
            return None
        r = int(np.count_nonzero(s > s[0] * rel))
        if r >= s.size and s.size < min(shape):  # the sketch is full: rank too high
            return None
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
        if norm2(rebuilt - work) > rel * norm2(work) * math.sqrt(k.size):
            return None
        terms.append(tuple(vecs))
    if len(terms) * sum(shape) >= math.prod(shape):
        return None
    return tuple(tuple(v.astype(compute) for v in t) for t in terms)


#: Above this side, only ranks up to :data:`_SKETCH_RANK` are looked for (a randomised
#: range finder, O(n^2) instead of the O(n^3) SVD, which takes seconds at n = 1000 and
#: cannot be interrupted): passes of a higher rank cost more than the FFT of such a kernel
#: (rank 9 at side 65 on 512²: 440 ms against 3.2 ms estimated). Not higher: LAPACK's
#: singular values of a 96² kernel run on OpenBLAS's threads, which then spin for 100 ms
#: beside the transforms that follow (see _numerics/norm.py); at 64² they do not.
_FULL_SVD_SIDE = 64
_SKETCH_RANK = 8


def _svd(work: np.ndarray, compute: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The SVD of a 2-d kernel, or of its best rank-``_SKETCH_RANK + 4`` approximation
    for large kernels (None when that approximation leaves more than the full SVD's
    truncation at ``compute``'s tolerance could: ``sqrt(n)`` values of ``rel * s[0]``)."""
    if min(work.shape) <= _FULL_SVD_SIDE:
        return np.linalg.svd(work)
    # the kernel-sized products in numpy's loops, not the BLAS, whose threads would spin
    # beside the transforms that follow (see _numerics/norm.py); the rest is small
    rng = np.random.default_rng(0)
    sketch = np.einsum("ij,jk->ik", work, rng.standard_normal((work.shape[1], _SKETCH_RANK + 4)))
    q, _ = np.linalg.qr(sketch)
    small = np.einsum("ji,jk->ik", q.conj(), work)
    ub, s, vh = np.linalg.svd(small, full_matrices=False)
    u = q @ ub
    total = norm2(work)
    rest = norm2(work - np.einsum("ik,kj->ij", u * s, vh))
    if rest > _tolerance(work, compute) * math.sqrt(min(work.shape)) * total:
        return None  # not captured: the kernel's rank is higher
    return u, s, vh


#: Real kernels up to this side have their singular values from :func:`_jacobi`.
_JACOBI_SIDE = 16


@lru_cache(maxsize=1)
def _jacobi() -> Callable[[np.ndarray, float], tuple[bool, int, int, np.ndarray]]:
    """One compiled pass over a small real kernel: whether it is finite, its non-zero
    taps, and its singular values by one-sided (Hestenes) Jacobi rotations with the
    number above ``rel`` times the largest (-1 when the largest is 0 or a value is not
    finite). For a 7 x 7 kernel a few microseconds, where ``np.linalg.svd`` spends tens in
    its Python wrapper on every new kernel a one-shot call sees. Jacobi's singular values
    are as accurate as LAPACK's (to high relative accuracy); the columns are scaled by
    the largest magnitude first, so no square overflows. One self-contained function of
    one argument type (float64, C order), so that numba caches it between processes."""
    from .._machine.jit import njit

    @njit(cache=True, nogil=True)
    def jacobi(a, rel):  # pragma: no cover - compiled
        # plain loops only: np.sort, transposed views and the like cost seconds to compile
        rows, cols = a.shape
        nonzero = 0
        finite = True
        peak = 0.0
        for i in range(rows):
            for j in range(cols):
                v = a[i, j]
                if v != 0.0:
                    nonzero += 1
                if not np.isfinite(v):
                    finite = False
                elif abs(v) > peak:
                    peak = abs(v)
        m, n = max(rows, cols), min(rows, cols)  # rotate the n columns of an m x n copy
        out = np.zeros(n)
        if not finite or peak == 0.0:
            return finite, nonzero, -1, out
        u = np.empty((m, n))
        for i in range(rows):
            for j in range(cols):
                if rows >= cols:
                    u[i, j] = a[i, j] / peak
                else:
                    u[j, i] = a[i, j] / peak
        for _sweep in range(60):
            rotated = False
            for p in range(n - 1):
                for q in range(p + 1, n):
                    alpha = beta = gamma = 0.0
                    for i in range(m):
                        alpha += u[i, p] * u[i, p]
                        beta += u[i, q] * u[i, q]
                        gamma += u[i, p] * u[i, q]
                    if gamma == 0.0 or abs(gamma) <= 1e-15 * math.sqrt(alpha * beta):
                        continue
                    rotated = True
                    zeta = (beta - alpha) / (2.0 * gamma)
                    t = (1.0 if zeta >= 0.0 else -1.0) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta))
                    c = 1.0 / math.sqrt(1.0 + t * t)
                    s = c * t
                    for i in range(m):
                        up, uq = u[i, p], u[i, q]
                        u[i, p] = c * up - s * uq
                        u[i, q] = s * up + c * uq
            if not rotated:
                break
        for j in range(n):
            acc = 0.0
            for i in range(m):
                acc += u[i, j] * u[i, j]
            value = math.sqrt(acc) * peak
            k = j  # insertion, largest first (n is at most a few dozen)
            while k > 0 and out[k - 1] < value:
                out[k] = out[k - 1]
                k -= 1
            out[k] = value
        above = 0
        for j in range(n):
            if out[j] > out[0] * rel:
                above += 1
        return True, nonzero, above, out

    return jacobi


#: Kernels whose facts a process finds with numpy before it takes the compiled pass: a
#: short script never pays for compiling it (0.8 s), a loop over new kernels soon does
#: (once; later processes load it from numba's cache).
COMPILE_AFTER = 16
_kernels_seen = 0


def _compiled() -> bool:
    """Whether to use the compiled pass (counting the kernels seen so far)."""
    global _kernels_seen
    _kernels_seen += 1
    return _kernels_seen > COMPILE_AFTER


def singular_values(kernel: np.ndarray) -> np.ndarray:
    """The singular values of a 2-d kernel, largest first."""
    if (kernel.dtype.kind == "f" and max(kernel.shape) <= _JACOBI_SIDE
            and _kernels_seen > COMPILE_AFTER):
        return _jacobi()(np.array(kernel, dtype=np.float64), 0.0)[3]
    wide = np.complex128 if kernel.dtype.kind == "c" else np.float64
    return np.linalg.svd(kernel.astype(wide, copy=False), compute_uv=False)


def small_facts(kernel: np.ndarray, compute: np.dtype) -> tuple[bool, int, int | None] | None:
    """``(finite, non-zero taps, separable rank)`` of a small real 2-d kernel, found in
    one compiled pass (the rank as :func:`separable_rank` gives it, None when the kernel
    is not finite); None when ``kernel`` is not such a kernel."""
    k = kernel
    if not (k.ndim == 2 and k.dtype.kind == "f" and compute.kind == "f"
            and 2 <= min(k.shape) and max(k.shape) <= _JACOBI_SIDE and _compiled()):
        return None
    finite, nonzero, r, _ = _jacobi()(np.array(k, dtype=np.float64), _tolerance(k, compute))
    return finite, nonzero, _paying(r, k)


def _paying(r: int, k: np.ndarray) -> int | None:
    """``r`` when ``r`` separable terms of the 2-d kernel ``k`` cost fewer multiply-adds
    than its full sum (``r * sum(K) < prod(K)``), else None (also for ``r <= 0``)."""
    return r if 0 < r and r * (k.shape[0] + k.shape[1]) < k.size else None


def _rank(s: np.ndarray, k: np.ndarray, compute: np.dtype) -> int | None:
    """The separable rank from the singular values ``s`` of the 2-d kernel ``k``."""
    if s[0] == 0:
        return None
    return _paying(int(np.count_nonzero(s > s[0] * _tolerance(k, compute))), k)


def separable_rank(kernel: np.ndarray, compute: np.dtype, finite: bool = False) -> int | None:
    """Number of separable terms of ``kernel``, or None when it has no cheap factorisation.

    For a 2-d kernel of side at most :data:`_FULL_SVD_SIDE` the singular values alone
    decide (the same rule as :func:`factorize`, without the singular vectors): this runs
    for every new kernel a one-shot call sees. ``finite=True`` says the caller has checked
    that every value is finite.
    """
    k = kernel
    if (k.ndim == 2 and compute.kind in "fc" and 2 <= min(k.shape) <= _FULL_SVD_SIDE):
        if not (finite or np.isfinite(k).all()):
            return None
        return _rank(singular_values(k), k, compute)
    terms = factorize(kernel, compute)
    return None if terms is None else len(terms)
