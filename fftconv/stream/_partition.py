"""Partitionings of a kernel for block-wise convolution.

A kernel of length ``K`` is cut into segments, each convolved with the input stream on
its own and added into the output at its tap offset:

- ``direct``: taps ``offset .. offset + size - 1`` summed in the time domain as samples
  arrive (no delay of its own);
- ``fft``: ``count`` partitions of ``size`` taps, by uniformly partitioned overlap-save
  (UPOLS): each input chunk of ``size`` samples is transformed once (FFT size
  ``2 * size``) into a frequency-domain delay line, where it meets every partition's
  spectrum in turn.

An FFT segment computes its output for a whole chunk when the chunk's last sample has
arrived, so its first output sample is late by ``size - 1`` samples. It may start at tap
``offset`` only if ``size <= offset + latency + 1``; the taps before it must come from
faster segments (a direct head, or smaller partitions). That single rule makes every
partitioning exact for any latency and any lengths of the blocks handed in.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["METHODS", "Partitioning", "Segment", "direct", "feasible", "nonuniform", "uniform"]

#: The partitionings ``method=`` may name (``'auto'`` lets the cost model choose).
METHODS = ("direct", "nonuniform", "uniform")


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment of a partitioning: ``kind`` ``'direct'`` or ``'fft'``."""

    kind: str
    offset: int
    size: int
    count: int = 1

    @property
    def taps(self) -> int:
        """Taps the segment spans (the last FFT partition may reach past the kernel)."""
        return self.size * self.count

    @property
    def end(self) -> int:
        return self.offset + self.taps

    def __str__(self) -> str:
        if self.kind == "direct":
            return f"direct taps {self.offset}..{self.end - 1}"
        parts = f"{self.count} x {self.size}" if self.count > 1 else f"{self.size}"
        return f"fft {parts} (FFT {2 * self.size}) from tap {self.offset}"


@dataclass(frozen=True, slots=True)
class Partitioning:
    """A method's segments for a kernel length, block size and latency."""

    method: str
    segments: tuple[Segment, ...]
    kernel_length: int
    block_size: int
    latency: int

    def describe(self) -> str:
        """Segment list in one line, e.g. ``'direct 63 + fft 64, 128, 256 x 3'``."""
        items = []
        for s in self.segments:
            if s.kind == "direct":
                items.append(f"direct {s.size}")
            else:
                items.append(f"fft {s.size}" + (f" x {s.count}" if s.count > 1 else ""))
        return " + ".join(items)


def feasible(p: Partitioning) -> None:
    """Raise ``AssertionError`` unless ``p`` covers the kernel and meets the latency rule."""
    at = 0
    for s in p.segments:
        assert s.offset == at, (p, s)
        assert s.size >= 1 and s.count >= 1, s
        if s.kind == "fft":
            assert s.size <= s.offset + p.latency + 1, (p, s)
        at = s.end
    assert at >= p.kernel_length, p


def _head(first: int, latency: int, k: int) -> int:
    """Taps a direct head needs so that an FFT segment of ``first`` taps can follow it."""
    return min(k, max(0, first - 1 - latency))


def direct(k: int, block: int, latency: int) -> Partitioning:
    """The whole kernel summed in the time domain."""
    return Partitioning("direct", (Segment("direct", 0, k),), k, block, latency)


def uniform(k: int, block: int, latency: int) -> Partitioning:
    """UPOLS with partitions of ``block`` taps, after a direct head when the latency is
    shorter than a block."""
    head = _head(block, latency, k)
    segs = [Segment("direct", 0, head)] if head else []
    if k > head:
        segs.append(Segment("fft", head, block, -(-(k - head) // block)))
    return Partitioning("uniform", tuple(segs), k, block, latency)


def nonuniform(k: int, block: int, latency: int, largest: int) -> Partitioning:
    """Partitions that double in size as the latency rule allows, up to ``largest``.

    After a direct head (if the latency is shorter than a block), partitions start at the
    block size; a partition doubles as soon as its offset permits the larger size
    (``2 * size <= offset + latency + 1``), as in Gardner (1995); from ``largest`` on the
    rest of the kernel is uniform. ``largest`` is chosen by the cost model.
    """
    head = _head(block, latency, k)
    sizes: list[int] = []
    at, size = head, block
    while at < k:
        if size < largest and 2 * size <= at + latency + 1 and 2 * size <= 2 * (k - at):
            size *= 2
            continue
        sizes.append(size)
        at += size
    segs = [Segment("direct", 0, head)] if head else []
    at = head
    for s in sizes:
        last = segs[-1] if segs else None
        if last is not None and last.kind == "fft" and last.size == s:
            segs[-1] = Segment("fft", last.offset, s, last.count + 1)
        else:
            segs.append(Segment("fft", at, s))
        at += s
    return Partitioning("nonuniform", tuple(segs), k, block, latency)
