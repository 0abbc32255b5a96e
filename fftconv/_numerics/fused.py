"""Fused passes of the dense ``omit``: one read of the input before the transforms, one
pass over the outputs after them (each a full-array pass the plain convolution does not
pay, so they are compiled and fused rather than chained numpy operations)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

__all__ = ["normalise", "prepare"]


@lru_cache(maxsize=1)
def _kernels() -> tuple[Callable, Callable]:
    from numba import njit

    @njit(cache=True, nogil=True, error_model="numpy")
    def prep(x, missing, data, weight, c):  # pragma: no cover - compiled
        """``data = x`` with missing samples 0; ``weight`` = the missing mask (``c == 0``)
        or ``c`` times the valid mask (so a border filled with ``c`` is valid weight)."""
        zero = data.dtype.type(0)
        w_missing = weight.dtype.type(0 if c != 0 else 1)
        w_valid = weight.dtype.type(c if c != 0 else 0)
        for i in range(x.shape[0]):
            m = missing[i]
            data[i] = zero if m else x[i]
            weight[i] = w_missing if m else w_valid

    @njit(cache=True, nogil=True, error_model="numpy")
    def post(num, conv, hits, total, nnz, c, out, empty):  # pragma: no cover - compiled
        """``out = num * total / weight`` where a window has gaps; nan where it has no
        valid weight. ``weight = conv / c`` (``c != 0``) or ``total - conv``. Written
        without branches in the loop body, so that it vectorises."""
        nan = num.dtype.type(np.nan)
        for b in range(num.shape[0]):
            t = total[b if total.shape[0] > 1 else 0]
            z = nnz[b if nnz.shape[0] > 1 else 0]
            if c != 0:
                for i in range(num.shape[1]):
                    h = hits[b, i]
                    scaled = num[b, i] * (t / (conv[b, i] / c))
                    v = num[b, i] if h == 0 else scaled
                    e = h >= z
                    out[b, i] = nan if e else v
                    empty[b, i] = e
            else:
                for i in range(num.shape[1]):
                    h = hits[b, i]
                    scaled = num[b, i] * (t / (t - conv[b, i]))
                    v = num[b, i] if h == 0 else scaled
                    e = h >= z
                    out[b, i] = nan if e else v
                    empty[b, i] = e

    return prep, post


def prepare(xb: np.ndarray, missing: np.ndarray, data: np.ndarray, weight: np.ndarray,
            c: complex) -> None:
    """Fill ``data`` and ``weight`` (both shaped like ``xb``) in one pass; see ``prep``."""
    prep = _kernels()[0]
    prep(xb.reshape(-1), missing.reshape(-1), data.reshape(-1), weight.reshape(-1),
         data.dtype.type(c))


def normalise(num: np.ndarray, conv: np.ndarray, hits: np.ndarray, total: np.ndarray,
              nnz: np.ndarray, c: complex, out: np.ndarray) -> np.ndarray:
    """Write the normalised result into ``out``; return the empty windows (bool)."""
    post = _kernels()[1]
    B = num.shape[0]
    empty = np.empty(out.shape, np.bool_)
    post(num.reshape(B, -1), conv.reshape(B, -1), hits.reshape(B, -1),
         np.ascontiguousarray(total.reshape(-1), dtype=num.dtype),
         np.ascontiguousarray(nnz.reshape(-1), dtype=np.int64), num.dtype.type(c),
         out.reshape(B, -1), empty.reshape(B, -1))
    return empty
