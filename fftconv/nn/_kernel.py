"""The compiled kernels of ``fftconv.nn`` (numba; loaded on use).

:func:`direct_sum` is the blocked direct convolution (four output channels by four taps
per pass over a strip of outputs), :func:`spectral_sum` the frequency-domain channel sum
of the FFT path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._pieces import BLOCK, OUT_BLOCK

__all__ = ["BLOCK", "OUT_BLOCK", "TAP_CHUNK", "blocked", "direct_sum", "spectral_sum"]

#: Taps summed into a fresh partial strip before it is added to the total. A running sum
#: over all ``C/groups * prod(k)`` taps loses float32 precision on long sums of
#: same-signed terms (16 ulp over 147 taps of a photograph, against 3 with chunks of 32,
#: as close as im2col + BLAS); the chunks cost about 8% of the time.
TAP_CHUNK = 32


def blocked(a: np.ndarray) -> np.ndarray:
    """``(O, Cg, F)`` -> ``(ceil(F / BLOCK), O, Cg, BLOCK)``, zero-padded, C-contiguous."""
    o, cg, nf = a.shape
    nblk = -(-nf // BLOCK)
    z = np.zeros((o, cg, nblk * BLOCK), a.dtype)
    z[..., :nf] = a
    return np.ascontiguousarray(z.reshape(o, cg, nblk, BLOCK).transpose(2, 0, 1, 3))


@njit(cache=True, nogil=True, fastmath={'contract'})
def spectral_sum(x, wr, wi, y, groups, blk0, blk1):  # pragma: no cover - compiled
    """``y[n, o, f] = sum_c w[o, c, f] * x[n, g(o) * Cg + c, f]``, ``w = wr + 1j * wi``, for
    the bins of blocks ``blk0 .. blk1-1`` (of :data:`BLOCK` bins each).

    ``x`` is ``(B, C, F)`` and ``y`` ``(B, O, F)`` (complex spectra, flattened bins);
    the weight spectrum comes in :func:`blocked` planes ``(F / BLOCK, O, Cg, BLOCK)``;
    ``g(o) = o // (O // groups)``. A small matrix product per frequency bin, done block
    by block: each block of ``x`` is split into real and imaginary planes once, so the
    innermost loop is a real multiply-add over a fixed number of contiguous bins, which
    vectorises.
    """
    nb, nc, nf = x.shape
    no, cg = wr.shape[1], wr.shape[2]
    out_per_group = no // groups
    xr = np.zeros((nb, nc, BLOCK), wr.dtype)
    xi = np.zeros((nb, nc, BLOCK), wr.dtype)
    ar = np.empty(BLOCK, wr.dtype)
    ai = np.empty(BLOCK, wr.dtype)
    for blk in range(blk0, min(blk1, wr.shape[0])):
        f0 = blk * BLOCK
        m = min(nf - f0, BLOCK)
        for n in range(nb):
            for c in range(nc):
                for j in range(m):
                    v = x[n, c, f0 + j]
                    xr[n, c, j] = v.real
                    xi[n, c, j] = v.imag
        for o in range(no):
            base = (o // out_per_group) * cg
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


@njit(cache=True, nogil=True, fastmath={'contract'})
def _block4(xb, q, tap_offsets, w, o, t, t1, acc, n):  # pragma: no cover - compiled
    """``acc[k, :n] = sum_{t <= u < t1} w[o + k, u] * xb[q + tap_offsets[u] : ... + n]``, ``k < 4``.

    Four taps per pass: per element, four input loads feed sixteen multiply-adds into
    four accumulators, each loaded and stored once. (Storing instead of accumulating in
    the first pass measured slower: the extra loop costs more than the zeroing.)
    """
    a0 = acc[0, :n]
    a1 = acc[1, :n]
    a2 = acc[2, :n]
    a3 = acc[3, :n]
    a0[:] = 0
    a1[:] = 0
    a2[:] = 0
    a3[:] = 0
    while t + 4 <= t1:
        x0 = xb[q + tap_offsets[t]:q + tap_offsets[t] + n]
        x1 = xb[q + tap_offsets[t + 1]:q + tap_offsets[t + 1] + n]
        x2 = xb[q + tap_offsets[t + 2]:q + tap_offsets[t + 2] + n]
        x3 = xb[q + tap_offsets[t + 3]:q + tap_offsets[t + 3] + n]
        w00, w01, w02, w03 = w[o, t], w[o, t + 1], w[o, t + 2], w[o, t + 3]
        w10, w11, w12, w13 = w[o + 1, t], w[o + 1, t + 1], w[o + 1, t + 2], w[o + 1, t + 3]
        w20, w21, w22, w23 = w[o + 2, t], w[o + 2, t + 1], w[o + 2, t + 2], w[o + 2, t + 3]
        w30, w31, w32, w33 = w[o + 3, t], w[o + 3, t + 1], w[o + 3, t + 2], w[o + 3, t + 3]
        for j in range(n):
            v0 = x0[j]
            v1 = x1[j]
            v2 = x2[j]
            v3 = x3[j]
            a0[j] = a0[j] + w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3
            a1[j] = a1[j] + w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3
            a2[j] = a2[j] + w20 * v0 + w21 * v1 + w22 * v2 + w23 * v3
            a3[j] = a3[j] + w30 * v0 + w31 * v1 + w32 * v2 + w33 * v3
        t += 4
    while t < t1:
        x0 = xb[q + tap_offsets[t]:q + tap_offsets[t] + n]
        w00, w10, w20, w30 = w[o, t], w[o + 1, t], w[o + 2, t], w[o + 3, t]
        for j in range(n):
            v0 = x0[j]
            a0[j] = a0[j] + w00 * v0
            a1[j] = a1[j] + w10 * v0
            a2[j] = a2[j] + w20 * v0
            a3[j] = a3[j] + w30 * v0
        t += 1


@njit(cache=True, nogil=True, fastmath={'contract'})
def _block1(xb, q, tap_offsets, w, o, t, t1, a, n):  # pragma: no cover - compiled
    """``a[:n] = sum_{t <= u < t1} w[o, u] * xb[q + tap_offsets[u] : ... + n]``, four taps per pass."""
    a = a[:n]
    a[:] = 0
    while t + 4 <= t1:
        x0 = xb[q + tap_offsets[t]:q + tap_offsets[t] + n]
        x1 = xb[q + tap_offsets[t + 1]:q + tap_offsets[t + 1] + n]
        x2 = xb[q + tap_offsets[t + 2]:q + tap_offsets[t + 2] + n]
        x3 = xb[q + tap_offsets[t + 3]:q + tap_offsets[t + 3] + n]
        w0, w1, w2, w3 = w[o, t], w[o, t + 1], w[o, t + 2], w[o, t + 3]
        for j in range(n):
            a[j] = a[j] + w0 * x0[j] + w1 * x1[j] + w2 * x2[j] + w3 * x3[j]
        t += 4
    while t < t1:
        x0 = xb[q + tap_offsets[t]:q + tap_offsets[t] + n]
        w0 = w[o, t]
        for j in range(n):
            a[j] = a[j] + w0 * x0[j]
        t += 1


@njit(cache=True, nogil=True, fastmath={'contract'})
def _sum_block(xb, q, tap_offsets, w, o, nout, acc, part, n):  # pragma: no cover - compiled
    """``acc[k, :n] (+ part[k, :n]) = sum_t w[o + k, t] * xb[q + tap_offsets[t] : ... + n]`` for
    ``k < nout`` (4 or 1), summed in chunks of :data:`TAP_CHUNK` taps.

    Returns True when the last chunk is left in ``part``, for the caller to add while it
    copies the result out.
    """
    T = tap_offsets.shape[0]
    for t in range(0, T, TAP_CHUNK):
        t1 = min(T, t + TAP_CHUNK)
        dst = acc if t == 0 else part
        if nout == OUT_BLOCK:
            _block4(xb, q, tap_offsets, w, o, t, t1, dst, n)
        else:
            _block1(xb, q, tap_offsets, w, o, t, t1, dst[0], n)
        if t > 0 and t1 < T:
            for k in range(nout):
                a = acc[k, :n]
                p = part[k, :n]
                for j in range(n):
                    a[j] += p[j]
    return T > TAP_CHUNK


@njit(cache=True, nogil=True, fastmath={'contract'})
def direct_sum(x, size, tap_offsets, w, out_per_group, group_step, rows, segs, strip, rnd, out, t0,
               t1):  # pragma: no cover - compiled
    """Tasks ``t0 .. t1-1`` of the direct sum on "wide" flat planes.

    ``x`` is 1-d: batch item ``b``'s input planes (padded, split into phases for a
    stride), flat, start at ``b * size``. Output element ``(r, c)`` of a plane (``r`` a
    row, flattened over the leading output axes) reads, for tap ``t``,
    ``x[b * size + g * group_step + rows[r] + c + tap_offsets[t]]``: every tap is a fixed offset,
    so a run of outputs is a contiguous slice. A segment ``segs[s] = (r0, r1, c0, c1)`` is
    columns ``c0 .. c1-1`` of rows ``r0 .. r1-1`` with equal row pitch: it is computed as
    one contiguous run of ``rows[r1-1] + c1 - rows[r0] - c0 <= strip`` positions into a
    scratch strip that stays in L1, then copied to ``out`` ``(N, O, R, Lc)``. The
    positions between rows are computed and dropped, and the run is rounded up to a
    multiple of ``rnd`` while it stays inside ``x``, so that the vectorised loops have no
    scalar remainder. ``w`` is ``(O, T)``; output channel ``o`` reads group
    ``g = o // out_per_group``. Task ``i`` is segment ``i % S`` of batch item ``i // S``, for all
    output channels (the input run stays in cache).
    """
    nseg = segs.shape[0]
    no = w.shape[0]
    tmax = tap_offsets[0]  # a loop: numba compiles ``tap_offsets.max()`` for 0.7 s
    for t in range(1, tap_offsets.shape[0]):
        tmax = tap_offsets[t] if tap_offsets[t] > tmax else tmax
    acc = np.empty((OUT_BLOCK, strip + rnd), out.dtype)
    part = np.empty((OUT_BLOCK, strip + rnd), out.dtype)
    for task in range(t0, t1):
        b = task // nseg
        s = task % nseg
        r0, r1, c0, c1 = segs[s, 0], segs[s, 1], segs[s, 2], segs[s, 3]
        q = b * size + rows[r0] + c0
        n = rows[r1 - 1] + c1 - rows[r0] - c0
        for o0 in range(0, no, out_per_group):
            qg = q + (o0 // out_per_group) * group_step
            nr = -(-n // rnd) * rnd
            if qg + tmax + nr > x.shape[0]:
                nr = n
            o = o0
            while o < o0 + out_per_group:
                nout = OUT_BLOCK if o + OUT_BLOCK <= o0 + out_per_group else 1
                pending = _sum_block(x, qg, tap_offsets, w, o, nout, acc, part, nr)
                for k in range(nout):
                    for r in range(r0, r1):
                        e = rows[r] - rows[r0]
                        src = acc[k, e:]
                        dst = out[b, o + k, r, c0:c1]
                        if pending:
                            add = part[k, e:]
                            for j in range(c1 - c0):
                                dst[j] = src[j] + add[j]
                        else:
                            for j in range(c1 - c0):
                                dst[j] = src[j]
                o += nout
