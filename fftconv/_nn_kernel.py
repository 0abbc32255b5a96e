"""The frequency-domain channel sum of the ``fftconv.nn`` FFT path (numba; loaded on use)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["BLOCK", "blocked", "spectral_sum"]

#: Frequency bins per block: a block of the whole batch's input spectra stays in cache.
BLOCK = 64


def blocked(a: np.ndarray) -> np.ndarray:
    """``(O, Cg, F)`` -> ``(ceil(F / BLOCK), O, Cg, BLOCK)``, zero-padded, C-contiguous."""
    o, cg, nf = a.shape
    nblk = -(-nf // BLOCK)
    z = np.zeros((o, cg, nblk * BLOCK), a.dtype)
    z[..., :nf] = a
    return np.ascontiguousarray(z.reshape(o, cg, nblk, BLOCK).transpose(2, 0, 1, 3))


@njit(cache=True, nogil=True, fastmath={'contract'})
def spectral_sum(x, wr, wi, y, groups):  # pragma: no cover - compiled
    """``y[n, o, f] = sum_c w[o, c, f] * x[n, g(o) * Cg + c, f]``, ``w = wr + 1j * wi``.

    ``x`` is ``(B, C, F)`` and ``y`` ``(B, O, F)`` (complex spectra, flattened bins);
    the weight spectrum comes in :func:`blocked` planes ``(F / BLOCK, O, Cg, BLOCK)``;
    ``g(o) = o // (O // groups)``. A small matrix product per frequency bin, done block
    by block: each block of ``x`` is split into real and imaginary planes once, so the
    innermost loop is a real multiply-add over a fixed number of contiguous bins, which
    vectorises.
    """
    nb, nc, nf = x.shape
    nblk, no, cg, _ = wr.shape
    og = no // groups
    xr = np.zeros((nb, nc, BLOCK), wr.dtype)
    xi = np.zeros((nb, nc, BLOCK), wr.dtype)
    ar = np.empty(BLOCK, wr.dtype)
    ai = np.empty(BLOCK, wr.dtype)
    for blk in range(nblk):
        f0 = blk * BLOCK
        m = min(nf - f0, BLOCK)
        for n in range(nb):
            for c in range(nc):
                for j in range(m):
                    v = x[n, c, f0 + j]
                    xr[n, c, j] = v.real
                    xi[n, c, j] = v.imag
        for o in range(no):
            base = (o // og) * cg
            for n in range(nb):
                ar[:] = 0
                ai[:] = 0
                for c in range(cg):
                    qr = wr[blk, o, c]
                    qi = wi[blk, o, c]
                    pr = xr[n, base + c]
                    pi = xi[n, base + c]
                    for j in range(BLOCK):
                        ar[j] += qr[j] * pr[j] - qi[j] * pi[j]
                        ai[j] += qr[j] * pi[j] + qi[j] * pr[j]
                for j in range(m):
                    y[n, o, f0 + j] = ar[j] + 1j * ai[j]
