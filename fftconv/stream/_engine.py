"""The buffers and the per-chunk work of a partitioning (allocated once, reused).

:class:`Engine` owns an input ring (time domain), one or two output accumulator rings,
and a stage per segment. ``advance(piece)`` appends at most one block of input, runs
every stage whose chunk has completed, and ``emit`` moves finished output samples out.
Nothing here allocates after construction (pyfftw executes into planned arrays, the loops
are compiled).
"""

from __future__ import annotations

import numpy as np

from ._core import TransformPair
from ._kernels import (
    direct_fir,
    ring_add,
    ring_read,
    ring_take,
    ring_take_mix,
    ring_write,
    spectral_mac,
)
from ._partition import Partitioning, Segment

__all__ = ["THREADED_FFT", "Engine", "pow2_at_least"]

#: FFT stages at least this large (transform points) may use several FFTW threads.
THREADED_FFT = 16384


def pow2_at_least(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


class _DirectStage:
    """Time-domain taps ``offset .. offset + size - 1``, computed as samples arrive."""

    def __init__(self, seg: Segment, channels: int, kc: int, dtype: np.dtype,
                 block: int) -> None:
        self.seg = seg
        self.banks = [np.zeros((kc, seg.size), dtype)]
        self.window = np.zeros((channels, seg.size - 1 + block), dtype)
        self.row = np.zeros(block, dtype)

    def load(self, h: np.ndarray, bank: np.ndarray) -> None:
        part = h[:, self.seg.offset:self.seg.end]
        bank[...] = 0
        bank[:, :part.shape[1]] = part

    def new_bank(self) -> np.ndarray:
        return np.zeros_like(self.banks[0])

    def run(self, xr: np.ndarray, t: int, count: int, banks: list, accs: list) -> None:
        for bank, acc in zip(banks, accs):
            direct_fir(xr, t, count, bank, self.seg.offset, acc, self.window, self.row)

    def computed_until(self, received: int) -> int:
        """Input samples whose contributions this stage has added: all of them."""
        return received


class _FFTStage:
    """UPOLS of ``count`` partitions of ``size`` taps with a frequency-domain delay line."""

    def __init__(self, seg: Segment, channels: int, kc: int, compute: np.dtype,
                 threads: int) -> None:
        self.seg = seg
        p = seg.size
        threads = threads if 2 * p >= THREADED_FFT else 1
        self.pair = TransformPair(channels, (2 * p,), compute, threads)
        bins = self.pair.spec.shape[1]
        self.fdl = np.zeros((channels, seg.count, bins), self.pair.spec.dtype)
        self.banks = [np.zeros((kc, seg.count, bins), self.pair.spec.dtype)]
        self.kc = kc
        self.done = 0  # chunks completed

    def new_bank(self) -> np.ndarray:
        return np.zeros_like(self.banks[0])

    def load(self, h: np.ndarray, bank: np.ndarray) -> None:
        """Spectra of the partitions of ``h`` (``(kc, K)``), scaled by 1 / FFT size."""
        s, p, kc = self.seg, self.seg.size, self.kc
        buf = self.pair.inbuf
        for k in range(s.count):
            part = h[:, s.offset + k * p:s.offset + (k + 1) * p]
            buf[...] = 0
            buf[:kc, :part.shape[1]] = part
            bank[:, k] = self.pair.forward()[:kc]
        bank *= 1.0 / (2 * p)
        buf[...] = 0

    def reset(self) -> None:
        self.fdl[...] = 0
        self.done = 0

    def run(self, xr: np.ndarray, received: int, banks: list, accs: list) -> None:
        """Process every chunk completed by ``received`` input samples."""
        p, pair = self.seg.size, self.pair
        while (self.done + 1) * p <= received:
            c = self.done
            ring_read(xr, c * p - p, pair.inbuf)  # the previous and the current chunk
            slot = c % self.seg.count
            self.fdl[:, slot] = pair.forward()
            for bank, acc in zip(banks, accs):
                spectral_mac(self.fdl, slot, bank, pair.spec)
                ring_add(acc, c * p + self.seg.offset, pair.inverse(), p)
            self.done = c + 1

    def computed_until(self, received: int) -> int:
        return self.done * self.seg.size


class Engine:
    """Every buffer of one convolver: rings, stages, kernel banks.

    ``channels`` signal channels and ``kc`` kernel channels (1 or ``channels``) in the
    compute dtype ``compute``. Positions are absolute sample numbers since the last reset:
    ``received`` input samples so far, output sample ``n`` (of the full convolution) sits
    in accumulator slot ``n``.
    """

    def __init__(self, part: Partitioning, channels: int, kc: int, compute: np.dtype,
                 threads: int) -> None:
        self.part = part
        self.compute = compute
        k, lat, b = part.kernel_length, part.latency, part.block_size
        self.channels, self.kc = channels, kc
        span = max(s.end for s in part.segments)
        self.xr = np.zeros((channels, pow2_at_least(2 * span + lat + 2 * b + 1)), compute)
        self.accs = [np.zeros((channels, pow2_at_least(span + 2 * lat + 2 * b + 1)), compute)]
        self.stages: list = []
        for seg in part.segments:
            if seg.kind == "direct":
                self.stages.append(_DirectStage(seg, channels, kc, compute, b))
            else:
                self.stages.append(_FFTStage(seg, channels, kc, compute, threads))
        self.received = 0
        self.kernel_length = k

    # -- kernels ---------------------------------------------------------------------
    def load(self, h: np.ndarray, which: int = 0) -> None:
        """Load ``h`` (``(kc, K')`` with ``K' <= K``, compute dtype) into bank ``which``."""
        for st in self.stages:
            while len(st.banks) <= which:
                st.banks.append(st.new_bank())
            st.load(h, st.banks[which])
        while len(self.accs) <= which:
            self.accs.append(np.zeros_like(self.accs[0]))

    def swap(self) -> None:
        """Make bank 1 current (after a kernel change) and clear the old accumulator."""
        for st in self.stages:
            st.banks[0], st.banks[1] = st.banks[1], st.banks[0]
        self.accs[0], self.accs[1] = self.accs[1], self.accs[0]
        self.accs[1][...] = 0

    def pending(self, h: np.ndarray, acc: np.ndarray) -> None:
        """Fill ``acc`` with what the stages would already have added had ``h`` been the
        kernel all along: for each stage, its taps of ``h`` against every input sample it
        has consumed, for the outputs not yet emitted."""
        from ._core import convolve

        acc[...] = 0
        first = self.received - self.part.latency  # first output sample not yet emitted
        for st in self.stages:
            s = st.seg
            end = s.offset + st.computed_until(self.received)  # outputs computed so far
            if end <= first:
                continue
            taps = np.zeros((self.kc, s.taps), self.compute)
            part = h[:, s.offset:s.end]
            taps[:, :part.shape[1]] = part
            xs = np.empty((self.channels, end - first + s.taps - 1), self.compute)
            ring_read(self.xr, first - s.offset - s.taps + 1, xs)
            y = convolve(xs, taps, "valid", axes=1, method="auto", workers=1)
            ring_add(acc, first, np.ascontiguousarray(y, self.compute), 0)

    # -- streaming -------------------------------------------------------------------
    def advance(self, piece: np.ndarray, nbanks: int) -> None:
        """Append ``piece`` (``(channels, m)``, any real/compatible dtype) and add every
        contribution that became computable."""
        t, m = self.received, piece.shape[1]
        ring_write(self.xr, t, piece)
        self.received = t + m
        banks_of = self.accs[:nbanks]
        for st in self.stages:
            if isinstance(st, _FFTStage):
                st.run(self.xr, self.received, st.banks[:nbanks], banks_of)
            else:
                st.run(self.xr, t, m, st.banks[:nbanks], banks_of)

    def emit(self, dst: np.ndarray, first: int) -> None:
        """Move output samples ``first ..`` of the full convolution into ``dst``."""
        ring_take(self.accs[0], first, dst)

    def emit_mix(self, dst: np.ndarray, first: int, done: int, length: int) -> None:
        """As :meth:`emit`, crossfading from the current to the new kernel's output."""
        ring_take_mix(self.accs[0], self.accs[1], first, dst, done, length)

    def reset(self) -> None:
        self.xr[...] = 0
        for acc in self.accs:
            acc[...] = 0
        for st in self.stages:
            if isinstance(st, _FFTStage):
                st.reset()
        self.received = 0

    @property
    def nbytes(self) -> int:
        n = self.xr.nbytes + sum(a.nbytes for a in self.accs)
        for st in self.stages:
            n += sum(b.nbytes for b in st.banks)
            if isinstance(st, _FFTStage):
                n += st.fdl.nbytes + st.pair.inbuf.nbytes * 3
        return n

