"""How :mod:`fftconv.nn` splits a call into pieces for fftconv's shared queue.

Every parallel path of ``fftconv.nn`` hands its work to
:func:`fftconv._machine.threads.parallel_map` as bounded pieces -- ranges of batch items,
of output channels (whole groups, or blocks of four channels within one), of output
strips, of transforms or of frequency bins -- many more than there are threads, so that a
thread the OS deschedules holds back only the piece it runs. A call too short to repay
waking a second thread runs in the calling thread alone, still in pieces when it is long,
so that Ctrl-C is seen between them.
"""

from __future__ import annotations

from .._machine.costs import threads_speedup
from .._machine.threads import piece_count

__all__ = ["BLOCK", "OUT_BLOCK", "channel_blocks", "pieces", "ranges", "threads_for"]

#: Output channels the compiled direct kernel computes together (each input load feeds
#: as many multiply-adds): channel pieces are whole multiples of it (the last of a group
#: may be shorter).
OUT_BLOCK = 4
#: Frequency bins per block of the spectral sum (a block of the whole chunk's input
#: spectra stays in cache): bin pieces are ranges of whole blocks.
BLOCK = 64
#: A second thread must save this many times the measured cost of waking it.
_WAKE_MARGIN = 5.0


def threads_for(seconds: float, workers: int, costs: dict, kind: str) -> int:
    """Threads worth using for a call of about ``seconds`` on one thread.

    More than one only when the time a second thread saves (by the measured speed-up of
    ``kind``) is several times the measured cost of waking it and sharing out pieces.
    """
    if workers <= 1:
        return 1
    saved = seconds * (1.0 - 1.0 / threads_speedup(costs, kind, workers))
    return workers if saved > _WAKE_MARGIN * costs["overhead"].get("parallel", 0.0) else 1


def pieces(seconds: float, threads: int, limit: int) -> int:
    """How many pieces a call of ``seconds`` (one thread) is cut into, at most ``limit``:
    several per thread, each at most about ``PIECE_SECONDS``."""
    return piece_count(seconds, threads, max(limit, 1))


def ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """``[a, b)`` ranges covering ``0 .. n-1`` in about ``parts`` near-equal pieces."""
    parts = max(1, min(n, parts))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def channel_blocks(out_channels: int, groups: int, parts: int) -> list[tuple[int, int, int]]:
    """``(group, first, stop)`` ranges of output channels, about ``parts`` in all.

    Whole groups when there are at least ``parts`` of them; else every group is cut into
    ranges of whole :data:`OUT_BLOCK` blocks, so the kernel keeps its blocking.
    """
    per = out_channels // groups
    if per == 0:
        return []
    split = max(1, -(-parts // groups))
    units = -(-per // OUT_BLOCK)
    out = []
    for g in range(groups):
        for a, b in ranges(units, split):
            out.append((g, g * per + a * OUT_BLOCK, g * per + min(per, b * OUT_BLOCK)))
    return out
