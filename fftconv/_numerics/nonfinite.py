"""Non-finite and missing samples on every method: ``propagate`` and ``omit`` at any density.

**The rule** (docs/conventions.md, "Non-finite values"): an output is the IEEE value of
the direct sum over its *whole* window, ``y[i] = sum_j k[j] * x~[i + j]``: a zero tap
times a non-finite sample counts (``0 * inf`` is ``nan``), and so does a non-finite tap
times any sample, whether the sample comes from ``x`` or from the boundary rule
(``cval``). The finite terms cannot change a non-finite result, so only the *classes* of
the non-finite products matter: the output is ``nan`` if one product is ``nan`` or both
``+inf`` and ``-inf`` occur, else the infinity that occurs.

**propagate.** The direct sum is IEEE by itself, except that it skips zero taps: it runs
on the raw input, and outputs where a zero tap meets a non-finite sample become ``nan``.
A transform must not see a non-finite sample (it would spread over the whole array), so
the FFT strategies run on the input with them zeroed, then restore the footprint:

- ``scatter`` (few non-finite samples): add every non-finite term ``k[j] * x~[p]`` to the
  outputs ``p - j`` its window reaches; IEEE arithmetic combines them;
- ``dense``: exact integer counts of the non-finite samples in each window (running box
  sums: ``O(n)`` whatever the kernel) mark the footprint ``nan``; with infinities, counts
  of ``+inf``/``-inf`` samples under the positive, negative and zero taps give each
  output's class (complex infinities always scatter).

**omit** is normalised convolution, ``y = (sum k) * corr(x~ v, k) / corr(v, k)`` with ``v``
the valid mask of ``x~`` (``cval`` is valid data), evaluated where a window holds a missing
sample (elsewhere ``y`` is the plain result); ``nan`` where no valid sample lies under a
non-zero tap. ``corr(v, k)`` is one more run of the plan on the missing mask, reusing the
kernel spectrum (``dense``; block by block beside the data's blocks on ``overlap``, and on
an ``overlap`` executor built for it where that is cheaper than the plan twice: see
:func:`.blockhook.blocked_omit`), or a scatter of the missing weights (``scatter``); the empty
windows are found by exact counts. Masked samples (``numpy.ma``) are missing exactly like
non-finite ones.

The choice between ``scatter`` and ``dense`` is made per call from the number of missing
samples, against a threshold the planner fixes per problem (``report()`` shows it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from .._problem import Problem
from . import blockhook as _blockhook
from . import counts as _counts
from . import dense as _dense
from . import fused as _fused
from .boundary import extend, index_map

__all__ = ["NonFinite", "describe", "fill_is_finite", "thresholds"]

#: Seconds per sample of the fused pass that marks the ``nan`` footprint from exact
#: window counts, and of the split and finishing passes together (measured on this class
#: of machine with two threads; only ratios to the scatter's cost matter).
FINISH_SECONDS = 1.5e-9
FUSED_SECONDS = 3.5e-9


def _nan(dtype: np.dtype) -> complex | float:
    return complex(np.nan, np.nan) if dtype.kind == "c" else np.nan


@lru_cache(maxsize=256)
def fill_is_finite(problem: Problem) -> bool:
    """Whether the samples the extension adds are finite (a non-finite ``cval`` it uses
    makes ``x~`` non-finite even for a finite ``x``)."""
    return (problem.boundary != "constant" or problem.pad_is_zero
            or bool(np.isfinite(problem.cval)))


def thresholds(problem: Problem, seconds: float, method: str = "") -> dict[str, int]:
    """Missing samples of ``x~`` up to which the scatter is cheaper than the dense way.

    ``seconds`` is the plan's predicted time: the dense ``omit`` runs the plan once more
    (on the validity mask), the scatter adds each missing sample's kernel weights instead.
    On ``overlap`` the dense way has no full-array passes (they are fused into the
    blocks); elsewhere both ways share them.
    """
    ntaps = math.prod(problem.k)
    samples = problem.batch * math.prod(problem.extended)
    dense = FINISH_SECONDS * samples
    passes = FUSED_SECONDS * samples if method == "overlap" else 0.0
    update = ntaps * _counts.SCATTER_SECONDS
    return {"propagate": int(dense / update), "omit": int(max(seconds - passes, 0.0) / update)}


def _blocked(problem: Problem, method: str, seconds: float, memory: int,
             workers: int) -> tuple[Any, Any] | None:
    passes = FUSED_SECONDS * problem.batch * math.prod(problem.extended)
    return _blockhook.blocked_omit(problem, method, seconds, passes, memory, workers)


def describe(problem: Problem, method: str, seconds: float, memory: int = 0,
             workers: int = 1) -> str:
    """One line for the plan's report: how non-finite and missing samples are served."""
    if problem.compute_dtype.kind not in "fc":
        return ""
    t = thresholds(problem, seconds, method)
    blocked = _blocked(problem, method, seconds, memory, workers)
    dense = "normalised convolution (the validity mask transformed with the data, same "
    if blocked is not None:
        dense += ("kernel, block by block on an overlap-save of "
                  + "x".join(map(str, blocked[1].fft_shape)) + " blocks: cheaper than "
                  f"{method} twice)")
    else:
        dense += "kernel spectrum)"
    if method == "direct":
        how = "the direct sum of the raw input (zero taps meeting them made nan)"
    else:
        how = (f"a scatter of their terms up to {t['propagate']} of them, else exact "
               "window counts")
    return (f"non-finite samples: propagate via {how}; omit via a scatter up to "
            f"{t['omit']} missing samples, else {dense}")


class NonFinite(_dense.FusedPasses):
    """The non-finite handling of one plan: its kernel facts and sparse/dense threshold."""

    def __init__(self, problem: Problem, kernel: np.ndarray,
                 execute: Callable[[np.ndarray, np.ndarray], None], method: str,
                 seconds: float, memory: int = 0, workers: int = 1) -> None:
        self.p, self.kernel, self.execute, self.method = problem, kernel, execute, method
        self.memory = memory  # the plan's own scratch
        self.seconds, self.workers = seconds, workers
        p = problem
        self.raw = method == "direct"  # the direct sum's own arithmetic is IEEE
        nz = kernel != 0
        self.nonzero = nz
        self.nnz = nz.reshape(nz.shape[0], -1).sum(axis=1)
        self.full_box = bool(nz.all())
        self.zero_taps = None if self.full_box else ~nz
        with np.errstate(invalid="ignore", over="ignore"):  # only omit uses it (finite)
            self.total = kernel.reshape(kernel.shape[0], -1).sum(axis=1).reshape(
                (-1,) + (1,) * p.ndim)
            self.l1 = float(np.abs(kernel).sum(dtype=np.float64))  # bounds the weight transform
        self.threshold = thresholds(p, seconds, method)
        self.batchable = method in ("fft", "overlap") and kernel.shape[0] == 1
        self.fill_bad = (p.boundary == "constant" and not p.pad_is_zero
                         and not bool(np.isfinite(p.cval)))
        # the fused passes (_numerics/fused.py): 1-d and 2-d real signals
        self.fused = p.ndim <= 2 and p.compute_dtype.kind == "f" and not self.fill_bad
        self._init_fused()

    # ------------------------------------------------------------------ helpers
    def _ext(self, marks: np.ndarray, fill: bool) -> np.ndarray:
        p = self.p
        if p.boundary == "constant":
            return extend(marks, p.pad, "constant", fill)
        return extend(marks, p.pad, p.boundary, False)

    def _positions(self, marks_ext: np.ndarray, xb: np.ndarray) -> tuple[np.ndarray, ...]:
        """(extended coordinates, batch index, values) of the marked samples of ``x~``."""
        p = self.p
        where = np.nonzero(marks_ext)
        pos = np.stack(where[1:], axis=1).astype(np.intp)
        src = []
        for axis, (n, (lo, hi)) in enumerate(zip(p.n, p.pad)):
            src.append(index_map(n, lo, hi, p.boundary)[where[axis + 1]])
        inside = np.all(np.stack(src) >= 0, axis=0) if src else np.ones(len(pos), bool)
        vals = np.full(len(pos), p.cval, xb.dtype)
        idx = (where[0][inside],) + tuple(s[inside] for s in src)
        vals[inside] = xb[idx]
        return pos, where[0].astype(np.intp), vals

    # ------------------------------------------------------------------ propagate
    def _footprint(self, xb: np.ndarray, bad: np.ndarray, nbad: int, out: np.ndarray) -> None:
        """Make ``out`` (the result of ``xb`` with ``bad`` zeroed) non-finite where the
        direct sum is, with its IEEE value."""
        p = self.p
        bad_ext = self._ext(bad, False)
        nbad_ext = nbad if p.boundary == "constant" else int(np.count_nonzero(bad_ext))
        real = p.compute_dtype.kind == "f"
        nans = np.isnan(xb)
        infs = int(np.count_nonzero(nans)) != nbad
        if nbad_ext <= self.threshold["propagate"] or (infs and not real):
            pos, bidx, vals = self._positions(bad_ext, xb)
            _counts.scatter(pos, bidx, vals, self.kernel, out)
            return
        if not infs:
            np.copyto(out, _nan(p.compute_dtype), where=_counts.box_counts(bad_ext, p.k) > 0)
            return
        k = self.kernel
        plus, minus = self._ext(xb == np.inf, False), self._ext(xb == -np.inf, False)
        pos_t, neg_t = k > 0, k < 0
        up = (_counts.count(plus, pos_t) + _counts.count(minus, neg_t)) > 0
        down = (_counts.count(plus, neg_t) + _counts.count(minus, pos_t)) > 0
        nan = _counts.box_counts(self._ext(nans, False), p.k) > 0
        if self.zero_taps is not None:
            nan |= _counts.count(plus | minus, self.zero_taps) > 0
        out[up] = np.inf
        out[down] = -np.inf
        out[nan | (up & down)] = np.nan

    def _propagate(self, xb: np.ndarray, out: np.ndarray, skip: np.ndarray | None) -> None:
        """``out`` = the IEEE direct sum of ``xb`` with the samples in ``skip`` zeroed."""
        p = self.p
        if self.raw:
            xr = xb
            if skip is not None:
                xr = xb.copy()
                np.copyto(xr, 0, where=skip)
            self.execute(xr, out)
            if self.zero_taps is not None:
                bad = ~np.isfinite(xr)
                if bad.any() or self.fill_bad:
                    marks = self._ext(bad, self.fill_bad)
                    out[_counts.count(marks, self.zero_taps) > 0] = _nan(p.compute_dtype)
            return
        bad = ~np.isfinite(xb)
        if skip is not None:
            bad &= ~skip
        nbad = int(np.count_nonzero(bad))
        if nbad or skip is not None:
            x0 = xb.copy()
            np.copyto(x0, 0, where=bad if skip is None else bad | skip)
            self.execute(x0, out)
            del x0
        else:
            self.execute(xb, out)
        if nbad:
            self._footprint(xb, bad, nbad, out)

    # ------------------------------------------------------------------ omit
    def _omit(self, xb: np.ndarray, out: np.ndarray, missing: np.ndarray,
              rest: bool) -> np.ndarray:
        """Normalised convolution with ``missing`` samples left out; returns the empty
        windows (no valid sample under a non-zero tap), which are ``nan``. ``rest``: other
        non-finite samples remain (they propagate, IEEE)."""
        p = self.p
        miss_ext = self._ext(missing, False)
        nmiss = int(np.count_nonzero(miss_ext))
        if rest or nmiss <= self.threshold["omit"]:
            return self._omit_general(xb, out, missing, miss_ext, nmiss)
        B = xb.shape[0]
        c = p.cval if p.boundary == "constant" and not p.pad_is_zero else 0
        both = np.empty((2 * B,) + xb.shape[1:], p.compute_dtype)
        _fused.prepare(xb, missing, both[:B], both[B:], c)
        conv = np.empty((2 * B,) + out.shape[1:], p.compute_dtype)
        if self.batchable:  # one call: the blocks of both arrays share the pool
            self.execute(both, conv)
        else:
            self.execute(both[:B], conv[:B])
            self.execute(both[B:], conv[B:])
        del both
        hits = _counts.count(miss_ext, self.nonzero, nmarks=nmiss)
        return _fused.normalise(conv[:B], conv[B:], hits, self.total, self.nnz, c, out)

    def _omit_general(self, xb: np.ndarray, out: np.ndarray, missing: np.ndarray,
                      miss_ext: np.ndarray, nmiss: int) -> np.ndarray:
        p = self.p
        self._propagate(xb, out, missing)  # the numerator (other non-finite samples: IEEE)
        if nmiss <= self.threshold["omit"]:
            pos, bidx, _ = self._positions(miss_ext, xb)
            ones = np.ones(len(pos), p.compute_dtype)
            lost = np.zeros(out.shape, p.compute_dtype)  # kernel weight on missing samples
            _counts.scatter(pos, bidx, ones, self.kernel, lost)
            hits = np.zeros(out.shape, np.float64)
            _counts.scatter(pos, bidx, ones.real.astype(np.float64),
                            self.nonzero.astype(np.float64), hits)
            hits_i = hits.astype(np.int64)
            weight = np.broadcast_to(self.total, out.shape) - lost
        else:
            buf = np.empty(xb.shape, p.compute_dtype)
            c = p.cval
            if p.boundary == "constant" and not p.pad_is_zero and c != 0:
                buf[...] = c  # c * v: the plan fills the border with c, the valid weight
                buf[missing] = 0
                weight = np.empty(out.shape, p.compute_dtype)
                self.execute(buf, weight)
                weight /= c
            else:
                np.copyto(buf, missing, casting="unsafe")
                weight = np.empty(out.shape, p.compute_dtype)
                self.execute(buf, weight)
                np.subtract(self.total, weight, out=weight)
            del buf
            hits_i = _counts.count(miss_ext, self.nonzero, nmarks=nmiss)
        untouched = hits_i == 0
        empty = hits_i >= self.nnz.reshape(self.total.shape)
        del hits_i
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            np.divide(self.total, weight, out=weight)  # the scale (sum k) / (valid weight)
            np.copyto(weight, 1, where=untouched)  # a window without gaps keeps its sum
            out *= weight
        np.copyto(out, _nan(p.compute_dtype), where=empty)
        return empty

    def _blocked_choice(self) -> tuple[Any, Any] | None:
        """Strategy and estimate of the blocked executor for the dense ``omit``, or None."""
        return _blocked(self.p, self.method, self.seconds, self.memory, self.workers)

    # ------------------------------------------------------------------ entry
    def scratch(self) -> int:
        """Bytes of scratch one signal of the batch needs here (dense ``omit``, the most)."""
        p = self.p
        size = p.compute_dtype.itemsize
        n, ext, out = math.prod(p.n), math.prod(p.extended), math.prod(p.out_len)
        if self.fused:  # data and weight, marks, both results, the empty windows
            extra = 0 if p.boundary == "constant" else ext
            return n * (2 * size + 1) + extra + out * (2 * size + 1)
        return n * (2 * size + 1) + 5 * ext + out * (2 * size + 5)

    def run(self, xb: np.ndarray, out: np.ndarray, masked: np.ndarray | None = None,
            keep_inf: bool = False, want_empty: bool = False) -> np.ndarray | None:
        """Fill ``out`` for ``xb`` under the plan's ``nan_policy``.

        ``masked`` (bool, like ``xb``) marks missing samples; the return value is then the
        outputs without a valid value (propagate: the window covers a masked sample; omit:
        no valid weight), else None. ``keep_inf`` (``omit`` only): only ``nan`` is
        missing; infinities are data, and propagate (astropy's ``convolve`` rule).

        Within the plan's memory budget: the batch is served in chunks of signals whose
        scratch fits what the plan itself leaves of ``max_memory``.
        """
        B = xb.shape[0]
        room = self.p.max_memory - self.memory
        one = self.scratch()
        if one > room and self._by_blocks(xb, out, masked):
            # omit block by block needs a few blocks, not a signal: the whole batch at once
            self.blocks_only = True
            try:
                return self._apply(xb, out, masked, keep_inf, want_empty)
            finally:
                self.blocks_only = False
        if one > room:
            raise ValueError(
                f"max_memory={self.p.max_memory} bytes is too small for non-finite or "
                f"missing samples here: one signal needs {one} bytes of scratch besides the "
                f"plan's own {self.memory} (nan_policy={self.p.nan_policy!r}); raise "
                "max_memory, or split the signal and convolve the parts")
        chunk = B
        if self.batchable and B > 1:
            chunk = int(min(B, max(1, room // max(one, 1))))
        if chunk >= B:
            return self._apply(xb, out, masked, keep_inf, want_empty)
        result = None if masked is None else np.empty(out.shape, np.bool_)
        for b0 in range(0, B, chunk):
            sel = slice(b0, b0 + chunk)
            got = self._apply(xb[sel], out[sel], None if masked is None else masked[sel],
                              keep_inf, want_empty)
            if result is not None and got is not None:
                result[sel] = got
        return result

    def _by_blocks(self, xb: np.ndarray, out: np.ndarray, masked: np.ndarray | None) -> bool:
        """Whether ``omit`` runs here block by block, whatever the count (see dense.py)."""
        return (self.p.nan_policy == "omit" and self.fused and self.full_box
                and masked is None and self._takes_hook(xb, out))

    def _apply(self, xb: np.ndarray, out: np.ndarray, masked: np.ndarray | None,
               keep_inf: bool, want_empty: bool = False) -> np.ndarray | None:
        p = self.p
        omit = p.nan_policy == "omit"
        if self.fused and masked is None and (self.full_box if omit else not self.raw):
            kept = self._lock.acquire(blocking=False)
            try:
                if not omit:
                    self._propagate_fused(xb, out, kept)
                    return None
                got = self._omit_fused(xb, out, keep_inf, want_empty, kept)
                if got is not False:
                    return got
            finally:
                if kept:
                    self._lock.release()
        if omit:
            floating = p.compute_dtype.kind in "fc"
            missing = (np.isnan(xb) if keep_inf else ~np.isfinite(xb)) if floating else None
            if masked is not None:
                missing = masked if missing is None else missing | masked
            assert missing is not None
            rest = keep_inf and floating and bool(np.isinf(xb).any())
            return self._omit(xb, out, missing, rest)
        self._propagate(xb, out, masked)
        if masked is None:
            return None
        return _counts.box_counts(self._ext(masked, False), p.k) > 0
