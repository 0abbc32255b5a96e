"""Non-finite samples on any method: ``propagate`` and ``omit`` without smearing.

An FFT spreads one NaN over the whole array. So the FFT strategies run on the input with
its non-finite samples zeroed, and the terms those samples contribute are added back
sparsely: for every non-finite sample of the extended input, ``k[j] * x~[p]`` is scattered
to the outputs ``p - j`` its window reaches. An output is therefore non-finite exactly where
the direct sum's window covers a non-finite sample, with the direct sum's IEEE value
(``nan``, ``+inf`` or ``-inf``): the finite terms cannot change it.

``omit`` is normalised convolution: with ``v`` the finite mask of ``x~`` (samples made by the
boundary rule count, so ``cval`` is valid data),
``y = (sum k) * corr(x~ v, k) / corr(v, k)``, evaluated only where a window holds a missing
sample (elsewhere ``y`` is exactly the ``propagate`` result); ``nan`` where the window has no
valid sample under a non-zero tap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

from .boundary import extend
from .._problem import Problem

__all__ = ["propagate", "omit"]


@lru_cache(maxsize=1)
def _kernel() -> Callable:
    from numba import njit

    @njit(cache=True, nogil=True)
    def scatter(pos, bidx, vals, taps, kvals, out, lengths):  # pragma: no cover - compiled
        d = lengths.shape[0]
        T = taps.shape[0]
        for m in range(pos.shape[0]):
            b = bidx[m]
            kb = b if kvals.shape[0] > 1 else 0
            for t in range(T):
                flat = 0
                ok = True
                for a in range(d):
                    i = pos[m, a] - taps[t, a]
                    if i < 0 or i >= lengths[a]:
                        ok = False
                        break
                    flat = flat * lengths[a] + i
                if ok:
                    out[b, flat] += kvals[kb, t] * vals[m]

    return scatter


def _bad_positions(problem: Problem, xb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(extended coordinates, batch index, values) of the non-finite samples of ``x~``."""
    ext = extend(xb, problem.pad, problem.boundary, problem.cval)
    where = np.nonzero(~np.isfinite(ext))
    bidx = where[0].astype(np.intp)
    pos = np.stack(where[1:], axis=1).astype(np.intp) if len(where) > 1 else np.zeros((len(bidx), 0), np.intp)
    return np.ascontiguousarray(pos), bidx, ext[where]


def _scatter(problem: Problem, pos: np.ndarray, bidx: np.ndarray, vals: np.ndarray,
             kernel: np.ndarray, out: np.ndarray) -> None:
    taps = np.indices(kernel.shape[1:], dtype=np.intp).reshape(kernel.ndim - 1, -1).T.copy()
    kvals = np.ascontiguousarray(kernel.reshape(kernel.shape[0], -1))
    flat = out.reshape(out.shape[0], -1)
    _kernel()(pos, bidx, vals, taps, kvals, flat, np.asarray(problem.out_len, dtype=np.intp))


def propagate(problem: Problem, xb: np.ndarray, kernel: np.ndarray,
              execute: Callable[[np.ndarray, np.ndarray], None], out: np.ndarray) -> None:
    """The direct sum's non-finite footprint and values, on any strategy."""
    pos, bidx, vals = _bad_positions(problem, xb)
    execute(np.where(np.isfinite(xb), xb, 0), out)
    extra = np.zeros_like(out)
    _scatter(problem, pos, bidx, vals.astype(out.dtype), kernel, extra)
    out += extra


def omit(problem: Problem, xb: np.ndarray, kernel: np.ndarray,
         execute: Callable[[np.ndarray, np.ndarray], None], out: np.ndarray) -> None:
    """Normalised convolution treating non-finite samples as missing."""
    pos, bidx, _ = _bad_positions(problem, xb)
    execute(np.where(np.isfinite(xb), xb, 0), out)
    ones = np.ones(len(bidx), dtype=out.dtype)
    missing = np.zeros_like(out)  # corr(1 - v, k): the kernel weight that fell on gaps
    _scatter(problem, pos, bidx, ones, kernel, missing)
    taps_nonzero = (kernel != 0).astype(np.float64)
    hit = np.zeros(out.shape, np.float64)  # how many non-zero taps fell on gaps
    _scatter(problem, pos, bidx, ones.real.astype(np.float64), taps_nonzero, hit)
    total = kernel.reshape(kernel.shape[0], -1).sum(axis=1)
    total = total.reshape((-1,) + (1,) * (out.ndim - 1))
    nnz = taps_nonzero.reshape(kernel.shape[0], -1).sum(axis=1).reshape(total.shape)
    touched = hit > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.broadcast_to(total, out.shape) / (np.broadcast_to(total, out.shape) - missing)
        out[touched] = (out * norm)[touched]
    out[hit >= np.broadcast_to(nnz, out.shape)] = np.nan
