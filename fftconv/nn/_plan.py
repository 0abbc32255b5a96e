"""Plans of :mod:`fftconv.nn`: the strategies' estimates, the choice, and the plan.

The two strategies are :mod:`._direct` (the sum itself, by a compiled kernel or im2col +
BLAS) and :mod:`._fft` (a frequency-domain sum over input channels). A plan reports its
candidates like a core plan (:meth:`NNPlan.report`); :func:`explain` reports without
building.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._engine import calls
from .._machine.costs import threads_speedup
from .._machine.resources import resolve_max_memory
from .._plan import Candidate, LazyExecutor
from ..strategies import Estimate
from .._numerics.scaling import all_finite as _all_finite
from ._direct import DIRECT_IMPLS, build_direct, direct_estimates
from ._fft import FFTLayout, build_fft, fft_estimate, fft_layout, weight_seconds
from ._problem import NNProblem, Runner, nn_costs
from ._report import NNPlanReport

__all__ = ["NNEstimates", "NNPlan", "DIRECT_IMPLS", "build_fft", "choose", "estimates",
           "fft_layout", "get_plan", "report"]


#: Weights up to a sixteenth of this are remembered (with their plan) by their bytes.
_CACHE_MAX_BYTES = 256 << 20
#: Plans holding more than this are not remembered by the call memo (a quarter of its
#: 256 MiB), so their estimates include the weight spectra every call recomputes.
_KEPT_MAX_BYTES = _CACHE_MAX_BYTES // 4


@dataclass(frozen=True)
class NNEstimates:
    """Predicted seconds and scratch memory of every strategy and variant of one problem.

    Attributes
    ----------
    direct : dict of str to Estimate
        Per implementation of the direct method (:data:`DIRECT_IMPLS`; the compiled
        kernel serves real dtypes only).
    fft : tuple of (Estimate, FFTLayout)
        Per way of serving a stride (subsampling, and polyphase when ``stride > 1``).
    budget : int
        The ``max_memory`` budget of scratch memory (bytes).
    """

    direct: dict[str, Estimate]
    fft: tuple[tuple[Estimate, FFTLayout], ...]
    budget: int

    @property
    def direct_impl(self) -> str:
        """The cheaper implementation of the direct method that fits the budget (the
        cheaper one when none does: the direct method always serves)."""
        fits = {k: e for k, e in self.direct.items() if e.memory <= self.budget} or self.direct
        return min(fits, key=lambda k: fits[k].seconds)

    @property
    def fft_best(self) -> tuple[Estimate, FFTLayout]:
        """The cheaper FFT variant that fits the budget (else the smaller), and its layout."""
        fits = [t for t in self.fft if t[0].memory <= self.budget]
        if fits:
            return min(fits, key=lambda t: t[0].seconds)
        return min(self.fft, key=lambda t: t[0].memory)

    @property
    def fft_rejected(self) -> str | None:
        """Why the FFT cannot serve within the budget, or None."""
        est = self.fft_best[0]
        if est.memory <= self.budget:
            return None
        return (f"needs {_bytes(est.memory)} of scratch memory, over the max_memory budget "
                f"of {_bytes(self.budget)}")

    def seconds(self) -> dict[str, float]:
        """The best estimate of each strategy."""
        return {"direct": self.direct[self.direct_impl].seconds, "fft": self.fft_best[0].seconds}


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n < 2**30 else f"{n / 2**30:.2f} GiB"


def estimates(p: NNProblem, workers: int, max_memory: int | None = None) -> NNEstimates:
    """Every strategy's estimates for ``p`` (computed once per plan); ``max_memory``: the
    scratch budget, by default the core's (half the available memory)."""
    costs = nn_costs()[0]
    variants = (False, True) if max(p.stride) > 1 else (False,)  # polyphase?
    layouts = [fft_layout(p, poly, costs["prime_weight"]) for poly in variants]
    timed = []
    for lay in layouts:
        est = fft_estimate(p, lay, workers)
        if est.memory > _KEPT_MAX_BYTES:  # not remembered: every call transforms the weight
            est = replace(est, seconds=est.seconds + weight_seconds(p, lay) / threads_speedup(
                costs, "overlap", workers))
        timed.append((est, lay))
    return NNEstimates(direct_estimates(p, workers), tuple(timed),
                       resolve_max_memory(max_memory))


def _note_direct(est: NNEstimates, chosen: str) -> str:
    names = {"kernel": "compiled kernel", "im2col": "im2col + BLAS"}
    others = [f"{names[k]} {v.seconds * 1e3:.3g} ms" for k, v in est.direct.items()
              if k != chosen]
    return names[chosen] + (f" (else {', '.join(others)})" if others else "")


def _note_fft(layout: FFTLayout, p: NNProblem) -> str:
    way = ("polyphase" if layout.polyphase else "subsampled") if max(p.stride) > 1 else ""
    return " ".join(filter(None, ["x".join(map(str, layout.fft_shape)), way]))


def report(p: NNProblem, est: NNEstimates, method: str, requested: str, direct: str,
           finite: bool, workers: int) -> NNPlanReport:
    """The report of a plan using ``method`` (and ``direct`` for the direct method)."""
    fft_est, layout = est.fft_best
    rejected_fft = est.fft_rejected if finite else (
        "the weight has non-finite values (a transform spreads them over every output)")
    cands = []
    for name, base, note, rejected in (
            ("direct", est.direct[direct], _note_direct(est, direct), None),
            ("fft", fft_est, _note_fft(layout, p), rejected_fft)):
        if rejected is None and name != method:
            rejected = "higher estimate" if requested == "auto" else f"method={requested!r}"
        cands.append(Candidate(name, replace(base, note=note),
                               None if name == method else rejected, None, name == method))
    return NNPlanReport(problem=p, candidates=tuple(cands), method=method,
                        requested=requested, direct=direct, workers=workers)


def choose(est: NNEstimates, method: str, finite: bool) -> str:
    """The strategy: the named one, or the cheaper (never the FFT for a non-finite weight,
    nor over the memory budget)."""
    if method == "fft" and not finite:
        raise ValueError("method='fft' cannot serve a weight with non-finite values "
                         "(a transform spreads them over every output); use "
                         "method='direct' or 'auto'")
    if method == "fft" and est.fft_rejected:
        raise ValueError(f"method='fft' cannot serve this problem: {est.fft_rejected}")
    if method != "auto":
        return method
    seconds = est.seconds()
    if not finite or est.fft_rejected:
        return "direct"
    return min(seconds, key=seconds.__getitem__)


class NNPlan:
    """A planned ``conv{d}d`` in the torch layout: weight prepared (and transformed) once.

    Non-finite values make an FFT smear NaN over whole outputs, so ``'auto'`` never uses
    the FFT path for a non-finite weight, and falls back to ``direct`` for a non-finite
    input; an explicit ``method='fft'`` with a non-finite weight or input is an error.

    Parameters
    ----------
    p : NNProblem
    w : ndarray
        The weight ``(O, C/groups, *k)``, C-contiguous, in the compute dtype.
    method : str
        ``'auto'``, ``'direct'`` or ``'fft'``.
    workers : int
    direct : str, optional
        The implementation of the direct method (one of :data:`DIRECT_IMPLS`); by default
        the cheaper estimate.
    max_memory : int, optional
        The budget of scratch memory in bytes; by default the core's (half the available
        memory). The FFT path cannot serve over it.

    Attributes
    ----------
    problem : NNProblem
    method : str
        ``'direct'`` or ``'fft'``.
    direct : str
        The implementation of the direct method (used by ``method='direct'``, and by
        ``'auto'`` for a non-finite input): ``'kernel'`` or ``'im2col'``.
    estimates : dict
        Predicted seconds of every strategy (``'direct'``: its chosen implementation).
    direct_estimates : dict
        Predicted seconds of every implementation of the direct method.
    layout : FFTLayout or None
        The FFT geometry (``polyphase`` tells how a stride is served).
    memory : int
        Scratch bytes the plan uses (weight spectra, transform buffers, phase planes); the
        estimate of the chosen strategy, shown in :meth:`report`.
    """

    def __init__(self, p: NNProblem, w: np.ndarray, method: str, workers: int,
                 direct: str | None = None, max_memory: int | None = None) -> None:
        est = estimates(p, workers, max_memory)
        if direct is not None and direct not in est.direct:
            raise ValueError(f"direct={direct!r} cannot serve dtype {p.dtype}; expected one of "
                             + ", ".join(repr(k) for k in est.direct))
        finite = bool(np.isfinite(w).all())
        chosen = choose(est, method, finite)
        self.problem, self.method = p, chosen
        self.estimates = est.seconds()
        self.direct_estimates = {k: e.seconds for k, e in est.direct.items()}
        self.direct = direct or est.direct_impl
        self.layout = est.fft_best[1] if chosen == "fft" else None
        self._report = report(p, est, chosen, method, self.direct, finite, workers)
        self._w, self._workers = w, workers
        if self.layout is not None:
            self._run, self.memory = build_fft(p, w, self.layout, workers)
        else:
            self._run, self.memory = build_direct(p, w, workers, self.direct)
        self._fallback = LazyExecutor(lambda: build_direct(p, w, workers, self.direct)[0])

    def report(self) -> NNPlanReport:
        """The candidates, their estimates and why the others lost."""
        return self._report

    def __call__(self, x: np.ndarray, bias: np.ndarray | None, *, auto: bool = True) -> np.ndarray:
        """The convolution of ``x`` ``(N, C, *S)`` (compute dtype) plus ``bias``."""
        p = self.problem
        out = np.empty((p.batch, p.out_channels, *p.out_len), p.dtype)
        x = np.ascontiguousarray(x)
        run: Runner = self._run
        if self.method == "fft" and not _all_finite(x):
            if not auto:
                raise ValueError("method='fft' cannot serve an input with non-finite values "
                                 "(a transform spreads them over every output, where the "
                                 "direct sum keeps them in the windows that cover them); use "
                                 "method='direct' or 'auto'")
            run = self._fallback
        if out.size:
            run(x, out)
        if bias is not None:
            out += bias.reshape(-1, *(1,) * len(p.n))
        return out


def get_plan(p: NNProblem, w: np.ndarray, method: str, workers: int) -> NNPlan:
    """A plan for ``p`` and weight ``w``, reused while the same weight comes back.

    Plans live in the engine's one call memo, keyed by the weight's bytes; a remembered
    plan owns a copy of its weight, so changing the caller's array cannot reach it.
    """
    if w.nbytes > _CACHE_MAX_BYTES // 16:
        return NNPlan(p, w, method, workers)
    key = ("nn", p, method, workers, w.shape, w.tobytes())
    hit = calls.get(key)
    if isinstance(hit, NNPlan):  # the memo's entries under an ("nn", ...) key are NNPlans
        return hit
    owned = np.array(w, order="C")
    owned.flags.writeable = False
    plan = NNPlan(p, owned, method, workers)
    calls.put(key, plan, plan.memory + owned.nbytes)
    return plan
