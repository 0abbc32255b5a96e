"""Compiled inner loops of the streaming engine (numba, no allocation, GIL released).

Buffers are 2-D ``(channels, length)`` rings whose length is a power of two, indexed by
absolute sample number masked with ``length - 1``. Kernels broadcast over channels: a
kernel array with one channel row serves every signal channel.
"""

from __future__ import annotations

from numba import njit

__all__ = [
    "direct_fir",
    "ring_add",
    "ring_read",
    "ring_take",
    "ring_take_mix",
    "ring_write",
    "spectral_mac",
]

@njit(cache=True, nogil=True, fastmath={"contract"})
def ring_write(ring, t, src):
    """``ring[c, t + i] = src[c, i]``."""
    mask = ring.shape[1] - 1
    for c in range(src.shape[0]):
        for i in range(src.shape[1]):
            ring[c, (t + i) & mask] = src[c, i]


@njit(cache=True, nogil=True, fastmath={"contract"})
def ring_read(ring, t, dst):
    """``dst[c, i] = ring[c, t + i]`` (``t`` may be negative before the stream's start:
    those slots have never been written and hold zeros)."""
    mask = ring.shape[1] - 1
    for c in range(dst.shape[0]):
        for i in range(dst.shape[1]):
            dst[c, i] = ring[c, (t + i) & mask]


@njit(cache=True, nogil=True, fastmath={"contract"})
def ring_add(ring, t, src, lo):
    """``ring[c, t + i] += src[c, lo + i]`` for every ``i`` from 0 to the end of ``src``."""
    mask = ring.shape[1] - 1
    for c in range(src.shape[0]):
        for i in range(src.shape[1] - lo):
            ring[c, (t + i) & mask] += src[c, lo + i]


@njit(cache=True, nogil=True, fastmath={"contract"})
def ring_take(ring, t, dst):
    """Move ``ring[c, t + i]`` into ``dst[c, i]`` and clear the slot."""
    mask = ring.shape[1] - 1
    for c in range(dst.shape[0]):
        for i in range(dst.shape[1]):
            j = (t + i) & mask
            dst[c, i] = ring[c, j]
            ring[c, j] = 0


@njit(cache=True, nogil=True, fastmath={"contract"})
def ring_take_mix(old, new, t, dst, done, length):
    """Crossfade while moving out: ``dst = (1 - g) old + g new``, ``g = (done + i + 1) /
    length`` capped at 1, where ``done`` samples of the fade have already been emitted."""
    mask = old.shape[1] - 1
    for c in range(dst.shape[0]):
        for i in range(dst.shape[1]):
            j = (t + i) & mask
            g = min(1.0, (done + i + 1) / length)
            dst[c, i] = (1.0 - g) * old[c, j] + g * new[c, j]
            old[c, j] = 0
            new[c, j] = 0


@njit(cache=True, nogil=True, fastmath={"contract"})
def direct_fir(xr, t, count, h, shift, acc, window, row):
    """``acc[c, n + shift] += sum_j h[c, j] x[c, n - j]`` for ``n`` in ``t .. t+count-1``,
    with ``x`` read from the input ring ``xr``.

    ``window`` (``(channels, >= taps - 1 + count)``) and ``row`` (``>= count``) are
    scratch: the input window is copied out of the ring once, and the taps loop runs
    outside the samples loop, so the inner loop is a contiguous, vectorisable update.
    """
    xmask = xr.shape[1] - 1
    amask = acc.shape[1] - 1
    taps = h.shape[1]
    span = taps - 1 + count
    first = t - taps + 1
    for c in range(xr.shape[0]):
        kc = c if h.shape[0] > 1 else 0
        for i in range(span):
            window[c, i] = xr[c, (first + i) & xmask]
        for i in range(count):
            row[i] = 0
        for j in range(taps):
            hj = h[kc, j]
            base = taps - 1 - j
            for i in range(count):
                row[i] += hj * window[c, base + i]
        for i in range(count):
            acc[c, (t + i + shift) & amask] += row[i]


@njit(cache=True, nogil=True, fastmath={"contract"})
def spectral_mac(fdl, slot, spec, out):
    """Frequency-domain delay line product: ``out[c] = sum_k spec[c, k] * fdl[c, slot - k]``
    (slots modulo the line's length), i.e. partition ``k`` of the kernel meets the input
    block ``k`` blocks ago."""
    parts = fdl.shape[1]
    bins = fdl.shape[2]
    for c in range(fdl.shape[0]):
        kc = c if spec.shape[0] > 1 else 0
        for f in range(bins):
            out[c, f] = 0
        for k in range(parts):
            s = slot - k
            if s < 0:
                s += parts
            for f in range(bins):
                out[c, f] += spec[kc, k, f] * fdl[c, s, f]
