"""``Plan`` (reusable, callable, thread-safe) and ``PlanReport`` (printable)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import _masked
from ._machine import jit as _jit
from ._machine import learning as _learning
from ._machine import outputs
from ._numerics import nonfinite as _nonfinite
from ._numerics.scaling import all_finite
from ._errors import InexactError
from ._numerics.dtypes import check_integer_range, compute_and_result_dtype
from ._problem import Problem
from .strategies import Estimate, Executor

__all__ = ["Candidate", "LazyExecutor", "Plan", "PlanReport", "candidate_table", "needs_finite_check"]


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


@dataclass(frozen=True)
class Candidate:
    """One strategy as the planner saw it.

    Attributes
    ----------
    name : str
        Strategy name.
    estimate : Estimate or None
        The cost model's prediction (None when not applicable).
    rejected : str or None
        Why the strategy cannot serve, or lost (None for the chosen one).
    measured : float or None
        Measured seconds (``effort='measure'``).
    chosen : bool
        Whether the plan uses it.
    threads : int or None
        Threads the estimate is for, when fewer than the plan's ``workers`` (the learned
        corrections showed the strategy faster so); None for all of them.
    """

    name: str
    estimate: Estimate | None
    rejected: str | None = None
    measured: float | None = None
    chosen: bool = False
    threads: int | None = None

    @property
    def seconds(self) -> float:
        """The estimate's seconds; infinite for a strategy that has no estimate."""
        return math.inf if self.estimate is None else self.estimate.seconds


def candidate_table(candidates: tuple[Candidate, ...]) -> str:
    """The candidates as an aligned text table (``*`` marks the chosen one)."""
    rows = [("", "strategy", "estimate", "measured", "memory", "detail")]
    for c in candidates:
        e = c.estimate
        detail = c.rejected if c.rejected else (e.note if e else "")
        if c.threads is not None and not c.rejected:
            detail += f" (on {c.threads} thread{'s' if c.threads != 1 else ''})"
        rows.append(("*" if c.chosen else "", c.name,
                     _fmt_seconds(e.seconds if e else None), _fmt_seconds(c.measured),
                     _fmt_bytes(e.memory if e else None), detail))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
    return "\n".join(line.rstrip() for line in lines)


@dataclass(frozen=True)
class PlanReport:
    """Why the planner chose what it chose; ``str()`` is a table of every candidate."""

    problem: Problem
    candidates: tuple[Candidate, ...]
    method: str
    requested: str
    effort: str
    workers: int
    #: Which cost constants are in force (shipped / calibrated / learned, and how many
    #: calls back the learned correction).
    constants: str = ""

    def __str__(self) -> str:
        head = (f"fftconv plan: {self.problem.describe()}\n"
                f"output {self.problem.out_shape}, method={self.requested!r} -> "
                f"{self.method!r}, effort={self.effort!r}, workers={self.workers}\n")
        if self.constants:
            head += f"constants: {self.constants}\n"
        chosen = next((c.estimate for c in self.candidates if c.chosen and c.estimate), None)
        note = (_nonfinite.describe(self.problem, self.method, chosen.seconds, chosen.memory,
                                    self.workers) if chosen else "")
        return head + candidate_table(self.candidates) + (f"\n{note}" if note else "")

    def _repr_pretty_(self, p, cycle):  # pragma: no cover - IPython only
        p.text(str(self))


class LazyExecutor:
    """An executor built on first use (once, also when called from several threads)."""

    #: One lock for all (a fallback is rarely built; a lock per plan costs every plan).
    _lock = threading.Lock()

    def __init__(self, build: Callable[[], Executor]) -> None:
        self._build = build
        self._built: Executor | None = None

    def __call__(self, xb: np.ndarray, out: np.ndarray) -> None:
        built = self._built
        if built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
                built = self._built
        built(xb, out)


def needs_finite_check(problem: Problem, method: str) -> bool:
    """Whether a plan must look for non-finite inputs before executing.

    The compiled direct sum skips zero taps, so it needs the non-finite handling unless
    every tap is non-zero; then non-finite inputs go straight through and the check (a
    pass over the input) is saved.
    """
    p = problem
    ieee = (method == "direct" and p.nan_policy == "propagate" and p.kernel_batch == 1
            and p.kernel_nonzero == math.prod(p.k))
    return p.compute_dtype.kind in "fc" and not ieee


@dataclass(frozen=True, eq=False)
class Plan:
    """A reusable convolution: FFTW plans and the kernel spectrum are computed once.

    Call it as ``plan(x)`` or ``plan(x, out=array)``. Safe to call from several threads
    at once (scratch buffers are per thread). Built only by the planner; it owns a
    read-only copy of its kernel.

    Attributes
    ----------
    method : str
        The strategy used.
    fft_shape, block_shape : tuple of int or None
        Transform size and output block size (FFT strategies).
    estimated_seconds : float
        The cost model's prediction for one call.
    problem : Problem
        The job this plan computes.
    """

    problem: Problem
    method: str
    estimate: Estimate
    workers: int
    #: The planner's report, made on first request (most plans are never asked).
    _report: Callable[[], PlanReport] = field(repr=False)
    _kernel: np.ndarray = field(repr=False)
    _execute: Executor = field(repr=False)
    #: The exact direct executor, for integer inputs an FFT cannot be proven exact on.
    _fallback: Executor = field(repr=False)
    #: Whether the user named the method (then an inexact integer FFT is an error).
    _explicit: bool = field(default=False, repr=False)
    _dtype_override: Any = field(default=None, repr=False)
    #: Whether calls look for non-finite inputs first (see :func:`needs_finite_check`).
    _check_finite: bool = field(default=True, repr=False)
    #: Threads the executor was built for, when fewer than ``workers`` (0: ``workers``).
    _threads: int = field(default=0, repr=False)

    @property
    def threads(self) -> int:
        """Threads the plan's executor may use (at most ``workers``)."""
        return self._threads or self.workers

    @property
    def fft_shape(self) -> tuple[int, ...] | None:
        return self.estimate.fft_shape

    @property
    def block_shape(self) -> tuple[int, ...] | None:
        return self.estimate.block_shape

    @property
    def estimated_seconds(self) -> float:
        return self.estimate.seconds

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.problem.out_shape

    @property
    def dtype(self) -> np.dtype:
        """Dtype of the result."""
        return self.problem.result_dtype

    @property
    def nbytes(self) -> int:
        """Bytes the plan holds: its kernel, its predicted scratch (spectra, buffers) and
        what its non-finite handling holds (the blocked executor of a dense ``omit``)."""
        nf = self.__dict__.get("_nonfinite")
        return self._kernel.nbytes + self.estimate.memory + (nf.nbytes if nf is not None else 0)

    def report(self) -> PlanReport:
        """The planner's report: every candidate, its estimate and why it lost."""
        made = self.__dict__.get("_made_report")
        if made is None:
            made = self.__dict__["_made_report"] = self._report()
        return made

    def _missing(self) -> _nonfinite.NonFinite:
        """The non-finite handling of this plan (built on first need)."""
        nf = self.__dict__.get("_nonfinite")
        if nf is None:
            nf = _nonfinite.NonFinite(self.problem, self._kernel, self._execute, self.method,
                                      self.estimate.seconds, self.estimate.memory,
                                      self.workers)
            object.__setattr__(self, "_nonfinite", nf)
        return nf

    def __call__(self, x: object, out: np.ndarray | None = None) -> np.ndarray:
        """Convolve ``x`` (of the planned shape) and return the result (or ``out``)."""
        start = _learning.clock()()  # every call times itself for the planner to learn
        result = self._call(x, out)
        self._called(start)
        return result

    def _oneshot(self, x: np.ndarray) -> np.ndarray:
        """``self(x)`` for a plain ndarray that the call memo already matched to this plan
        (shape and dtype equal to the plan's, no ``out``): the checks are skipped."""
        start = _learning.clock()()
        if self.problem.is_exact_integer:
            self._check_range(x)
        result = self._fresh(self._canonical(x))
        self._called(start)
        return result

    def _called(self, start: float) -> None:
        """After a call that began at ``start``: time it for the planner, and count what
        it spent while compiled code waits to be loaded (the plan's ``_rent``)."""
        _learning.timed(self, start)
        rent = self.__dict__.get("_rent")
        if rent is not None:
            _jit.rent(*rent)

    def _check_range(self, x: np.ndarray) -> None:
        """For exact integer results: raise unless every result provably fits (on the
        values as given, before the cast to the compute dtype may wrap them)."""
        p = self.problem
        if p.is_exact_integer:
            pads = p.boundary == "constant" and not p.pad_is_zero
            check_integer_range(x, self._kernel, p.result_dtype,
                                int(p.cval.real) if pads else None)

    def _fresh(self, xb: np.ndarray) -> np.ndarray:
        """The result for the canonical ``xb``, in a new (or recycled) array."""
        return self._result(self._compute(xb, self._new_out()), None)

    def _new_out(self) -> np.ndarray:
        """A canonical output array: new memory when small, else recycled where one is
        free (:mod:`._machine.outputs`)."""
        p = self.problem
        shape, dtype = p.canonical_out, p.compute_dtype
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes < outputs.MIN_BYTES:
            return np.empty(shape, dtype)
        return outputs.empty(shape, dtype, nbytes)

    def _call(self, x: object, out: np.ndarray | None) -> np.ndarray:
        p = self.problem
        mask = None
        if isinstance(x, np.ma.MaskedArray):  # masked samples are missing (nan_policy)
            x, mask = _masked.split(x, self)
        x = np.asarray(x)
        if x.shape != p.x_shape:
            raise ValueError(f"x has shape {x.shape}, but this plan was made for x_shape="
                             f"{p.x_shape}; make a new plan for other shapes")
        if x.dtype != p.x_dtype:
            got = compute_and_result_dtype(x.dtype, p.kernel_dtype, self._dtype_override)[1]
            if got != p.result_dtype:
                raise ValueError(f"x has dtype {x.dtype}, which gives {got} results, but this "
                                 f"plan computes {p.result_dtype} (x_dtype={p.x_dtype}); make "
                                 "a new plan")
        target = None  # ``out`` itself, when the canonical result can be written into it
        if out is not None:
            if not isinstance(out, np.ndarray) or out.shape != p.out_shape or out.dtype != p.result_dtype:
                desc = (f"shape {out.shape} and dtype {out.dtype}" if isinstance(out, np.ndarray)
                        else f"type {type(out).__name__}")
                raise ValueError(f"out has {desc}; expected an ndarray of shape {p.out_shape} "
                                 f"and dtype {p.result_dtype}")
            if not out.flags.writeable:
                raise ValueError("out is read-only")
            if (p.order is None and out.flags.c_contiguous and out.dtype == p.compute_dtype
                    and not np.may_share_memory(x, out)):
                target = out.reshape((p.batch, *p.out_len))
        self._check_range(x)
        xb = self._canonical(x)
        if mask is not None:
            return _masked.finish(self, xb, mask, out)
        if target is not None and out is not None:  # target is out, reshaped
            self._compute(xb, target)
            return out
        if out is None:
            return self._fresh(xb)
        return self._result(self._compute(xb, self._new_out()), out)

    def _compute(self, xb: np.ndarray, outb: np.ndarray) -> np.ndarray:
        """Fill ``outb`` with the canonical ``(B, *out_len)`` result for the canonical ``xb``."""
        p = self.problem
        if outb.size == 0:
            return outb
        if self._check_finite and not (_nonfinite.fill_is_finite(p) and all_finite(xb)):
            if p.nan_policy == "raise" and not all_finite(xb):
                raise ValueError("x contains non-finite values (nan_policy='raise'); use "
                                 "nan_policy='propagate' or 'omit' to accept them")
            self._missing().run(xb, outb)
            return outb
        try:
            self._execute(xb, outb)
        except InexactError as exc:
            if self._explicit:
                raise ValueError(f"method={self.method!r} cannot serve these integer inputs: "
                                 f"{exc}; use method='direct' or 'auto'") from None
            self._fallback(xb, outb)
        return outb

    def _canonical(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a C-contiguous ``(B, *n)`` array in the compute dtype (batch axes first)."""
        p = self.problem
        xt = x if p.order is None else x.transpose(p.order)
        # An executor listing x's dtype in ``exact_inputs`` reads it uncast, exactly.
        keep = x.dtype in getattr(self._execute, "exact_inputs", ())
        return np.ascontiguousarray(xt.reshape(p.canonical_in),
                                    dtype=x.dtype if keep else p.compute_dtype)

    def _result(self, outb: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        """The canonical result in the caller's axis order (copied into ``out`` if given)."""
        p = self.problem
        if out is None and p.order is None and p.result_dtype == p.compute_dtype:
            return outb.reshape(p.out_shape)  # already C-contiguous, in the caller's order
        y = outb.reshape(tuple(p.x_shape[a] for a in p.batch_axes) + p.out_len)
        if p.order is not None:
            y = y.transpose(np.argsort(p.order))
        if out is not None:
            np.copyto(out, y)
            return out
        return np.ascontiguousarray(y, dtype=self.problem.result_dtype)

    def __repr__(self) -> str:
        return (f"Plan(method={self.method!r}, x_shape={self.problem.x_shape}, "
                f"kernel_shape={self.problem.kernel_shape}, out_shape={self.out_shape}, "
                f"dtype={self.dtype}, fft_shape={self.fft_shape}, "
                f"estimated_seconds={self.estimated_seconds:.3g})")

    def __str__(self) -> str:
        return str(self.report())
