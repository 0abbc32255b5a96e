"""``StreamReport``: the partitioning planner's choice, printable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core import fmt_bytes, fmt_seconds
from ._cost import Estimate
from ._partition import Partitioning

__all__ = ["StreamReport"]


@dataclass(frozen=True)
class StreamReport:
    """Every partitioning the planner weighed; ``str()`` is a table.

    Attributes
    ----------
    chosen : Partitioning
        The partitioning in use.
    candidates : tuple of (Partitioning, Estimate)
        Each method's best partitioning with its predicted cost per block.
    requested : str
        The ``method`` argument.
    channels : int or None
        Signal channels (None before the first block fixed them; estimates assume 1).
    dtype : numpy.dtype
        Compute dtype assumed by the estimates.
    """

    chosen: Partitioning
    candidates: tuple[tuple[Partitioning, Estimate], ...]
    requested: str
    channels: int | None
    dtype: np.dtype

    @property
    def estimate(self) -> Estimate:
        return next(e for p, e in self.candidates if p.method == self.chosen.method)

    def __str__(self) -> str:
        c = self.chosen
        ch = "channels not yet known (estimates for 1)" if self.channels is None else (
            f"{self.channels} channel{'s' if self.channels != 1 else ''}")
        head = (f"fftconv stream plan: kernel {c.kernel_length} taps, block {c.block_size}, "
                f"latency {c.latency}, {self.dtype}, {ch}\n"
                f"method={self.requested!r} -> {c.method!r}\n")
        rows = [("", "method", "per block", "worst block", "memory", "partitions")]
        for p, e in self.candidates:
            rows.append(("*" if p.method == c.method else "", p.method, fmt_seconds(e.mean),
                         fmt_seconds(e.worst), fmt_bytes(e.memory), p.describe()))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r[:5], widths)) + "  " + r[5]
                 for r in rows]
        segs = "\n".join(f"  {s}" for s in c.segments)
        return head + "\n".join(x.rstrip() for x in lines) + f"\nsegments:\n{segs}"

    def _repr_pretty_(self, p, cycle):  # pragma: no cover - IPython only
        p.text(str(self))
