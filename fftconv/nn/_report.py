"""``NNPlanReport``: why an :mod:`fftconv.nn` plan chose what it chose (printable)."""

from __future__ import annotations

from dataclasses import dataclass

from .._plan import Candidate, candidate_table
from ._problem import NNProblem

__all__ = ["NNPlanReport"]


@dataclass(frozen=True)
class NNPlanReport:
    """The candidates of one ``conv{d}d`` problem; ``str()`` is a table of them.

    Attributes
    ----------
    problem : NNProblem
        The problem, in the torch layout.
    candidates : tuple of Candidate
        ``direct`` and ``fft`` with their estimates, or why they cannot serve.
    method : str
        The strategy used (``'direct'`` or ``'fft'``).
    requested : str
        The ``method`` asked for (``'auto'``, ``'direct'`` or ``'fft'``).
    direct : str
        The implementation of the direct method: ``'kernel'`` or ``'im2col'``.
    workers : int
        Threads.
    """

    problem: NNProblem
    candidates: tuple[Candidate, ...]
    method: str
    requested: str
    direct: str
    workers: int

    def __str__(self) -> str:
        p = self.problem
        spatial = "x".join(map(str, p.n))
        kernel = "x".join(map(str, p.k))
        head = (f"fftconv.nn plan: conv{len(p.n)}d N={p.batch} C={p.channels} "
                f"O={p.out_channels} groups={p.groups}, input {spatial}, kernel {kernel}, "
                f"stride={p.stride}, dilation={p.dilation}, padding={p.pad} "
                f"({p.boundary!r}), {p.dtype}\n"
                f"output {p.out_len}, method={self.requested!r} -> {self.method!r}, "
                f"workers={self.workers}\n")
        return head + candidate_table(self.candidates)

    def _repr_pretty_(self, printer, cycle):  # pragma: no cover - IPython only
        printer.text(str(self))
