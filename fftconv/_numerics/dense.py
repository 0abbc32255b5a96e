"""The dense ``propagate`` and ``omit`` on 1-d and 2-d real signals, with fused passes.

A mixin of :class:`~fftconv._numerics.nonfinite.NonFinite` (which holds the problem, the
kernel facts, the executor and the thresholds). Three ways, cheapest first:

- the dense ``omit`` is done block by block (:mod:`.blockhook`): a count of the missing
  samples (it stops at the scatter threshold), then the transforms of each block and
  of its weight signal. On ``overlap`` by the plan's own executor; on another method by
  an ``overlap`` executor built for it when that is cheaper than the plan's dense way
  below and fits the budget (:func:`.blockhook.blocked_omit`; it is held with the plan
  and counted in its ``nbytes``);
- otherwise one compiled pass splits the input (:func:`.fused.split`: zeroed data, weight
  signal, marks), the plan runs on it (data and weight signal together when it can), and
  one compiled pass over the outputs (:func:`.fused.finish`) normalises, or marks the
  ``nan`` footprint, from exact window counts;
- few missing samples: their kernel weights (``omit``) or terms (``propagate``) are
  scattered instead of the second transform or the footprint pass.

The input-sized scratch of the last two is kept with the plan between calls, so that
repeated calls do not fault fresh pages in, and counted in the plan's ``nbytes``; a call
made while another holds it uses fresh buffers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._machine.workers import get_workers
from . import blockhook as _blockhook
from . import counts as _counts
from . import fused as _fused

__all__ = ["FusedPasses"]


class FusedPasses:
    """The fused dense paths (see the module docstring); state is set by ``_init_fused``."""

    if TYPE_CHECKING:  # provided by NonFinite
        p: Any
        kernel: np.ndarray
        execute: Any
        method: str
        threshold: dict[str, int]
        total: np.ndarray
        nnz: np.ndarray
        l1: float
        batchable: bool
        blocks_only: bool
        workers: int

        def _blocked_choice(self) -> tuple[Any, Any] | None: ...

        def _ext(self, marks: np.ndarray, fill: bool) -> np.ndarray: ...

        def _footprint(self, xb: np.ndarray, bad: np.ndarray, nbad: int,
                       out: np.ndarray) -> None: ...

    def _init_fused(self) -> None:
        #: The executor that takes a BlockHook (None: not asked yet; False: none).
        self._hooked: Callable[[np.ndarray, np.ndarray], None] | bool | None = None
        self._blocked_bytes = 0  # held by an overlap executor built for the dense omit
        self._lock = threading.Lock()  # guards the kept scratch (one call at a time)
        self._kept: dict[str, np.ndarray] = {}
        self.blocks_only = False  # set by a call whose budget has no room for the scratch

    @property
    def nbytes(self) -> int:
        """Bytes held between calls: the kept scratch of the whole-array paths and the
        blocked executor of the dense ``omit``, if built."""
        return self._blocked_bytes + sum(a.nbytes for a in list(self._kept.values()))

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type,
                kept: bool) -> np.ndarray:
        """Scratch of ``shape``: the plan's kept buffer (``kept``: this call holds the
        lock), grown as needed, so that repeated calls do not fault fresh pages in (on
        a virtual machine that costs about as much as the pass that writes them)."""
        size = math.prod(shape)
        if not kept:
            return np.empty(shape, dtype)
        have = self._kept.get(name)
        if have is None or have.size < size or have.dtype != np.dtype(dtype):
            self._kept.pop(name, None)
            have = self._kept[name] = np.empty(size, dtype)
        return have[:size].reshape(shape)

    def _marks(self, marks: np.ndarray, nmarks: int) -> tuple[np.ndarray, tuple[int, ...], int]:
        """(marks array, its extended coordinates, marks of ``x~``) for the fused pass."""
        p = self.p
        if p.boundary == "constant":  # the border is valid data (a finite cval)
            return marks, tuple(lo for lo, _ in p.pad), nmarks
        ext = self._ext(marks.view(np.bool_), False)
        return ext.view(np.uint8), (0,) * p.ndim, int(np.count_nonzero(ext))

    def _propagate_fused(self, xb: np.ndarray, out: np.ndarray, kept: bool) -> None:
        p = self.p
        B = xb.shape[0]
        workers = get_workers()
        x0 = self._buffer("data", xb.shape, p.compute_dtype, kept)
        marks = self._buffer("marks", xb.shape, np.uint8, kept)
        nbad, ninf = _fused.split(xb, x0, None, marks, 0, False, workers)
        self.execute(x0, out)
        if not nbad:
            return
        if ninf:  # the class of each output needs the counts of each infinity
            self._footprint(xb, marks.view(np.bool_).reshape(B, *p.n), nbad, out)
            return
        m, offsets, n_ext = self._marks(marks, nbad)
        if n_ext <= self.threshold["propagate"]:  # few: their terms, scattered
            pos, bidx = self._where(m, offsets)
            _counts.scatter(pos, bidx, np.full(len(pos), np.nan, p.compute_dtype),
                            self.kernel, out)
            return
        _fused.finish(m, offsets, p.k, out, workers)

    def _hook_executor(self, xb: np.ndarray, out: np.ndarray) -> Callable | None:
        """The executor that does the dense ``omit`` block by block, if any (decided
        once): the plan's own on ``overlap``, else one built for it (see the module)."""
        if self._hooked is None:
            self._hooked = False
            run, held = None, 0
            if self.method == "overlap":
                if self.kernel.shape[0] == 1:
                    run = self.execute
            else:
                choice = self._blocked_choice()
                if choice is not None:
                    strategy, est = choice
                    run, held = strategy.build(self.p, self.kernel, est, self.workers), est.memory
            if run is not None:
                probe = _blockhook.BlockHook(self.p.k, self.total, self.nnz, 0, None, probe=True)
                with _blockhook.block_hook(probe):
                    run(xb, out)
                if probe.supported:
                    self._hooked, self._blocked_bytes = run, held
        return self._hooked if callable(self._hooked) else None

    def _takes_hook(self, xb: np.ndarray, out: np.ndarray) -> bool:
        """Whether the dense ``omit`` is done block by block."""
        return self._hook_executor(xb, out) is not None

    def _where(self, m: np.ndarray, offsets: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        flat = np.flatnonzero(m.view(np.bool_))  # fast on a flat bool view
        where = np.unravel_index(flat, m.shape)
        pos = np.stack(where[1:], axis=1).astype(np.intp) + np.asarray(offsets, np.intp)
        return pos, where[0].astype(np.intp)

    def _omit_blocks(self, xb: np.ndarray, out: np.ndarray, c: complex,
                     want_empty: bool) -> np.ndarray | None:
        """The dense ``omit`` block by block (every non-finite sample missing)."""
        p = self.p
        empty = np.empty(out.shape, np.bool_) if want_empty else None
        run = self._hook_executor(xb, out)
        assert run is not None
        with _blockhook.block_hook(_blockhook.BlockHook(p.k, self.total, self.nnz, c, empty,
                                                         l1=self.l1)):
            run(xb, out)
        return empty

    def _omit_fused(self, xb: np.ndarray, out: np.ndarray, keep_inf: bool, want_empty: bool,
                    kept: bool) -> np.ndarray | None | Literal[False]:
        """Normalised convolution with the fused passes; False when infinities that are
        data remain (``keep_inf``): the general path serves those."""
        p = self.p
        B = xb.shape[0]
        workers = get_workers()
        dt = p.compute_dtype
        c = p.cval if p.boundary == "constant" and not p.pad_is_zero else 0
        if self._takes_hook(xb, out):  # the blocks do the passes: count first
            # only whether the count passes the threshold matters, unless infinities
            # that are data must be found
            nbad, ninf = _fused.count(xb, workers, -1 if keep_inf or self.blocks_only
                                      else self.threshold["omit"])
            if keep_inf and ninf:
                if self.blocks_only:
                    raise ValueError(
                        f"max_memory={self.p.max_memory} bytes is too small for infinities "
                        "that are data (they need the whole-array formulation); raise "
                        "max_memory")
                return False
            if nbad > self.threshold["omit"] or self.blocks_only:
                return self._omit_blocks(xb, out, c, want_empty)
            few = True  # under the threshold: the scatter needs no weight signal
        else:
            few = False
        both = self._buffer("data", ((1 if few else 2) * B, *p.n), dt, kept)
        marks = self._buffer("marks", xb.shape, np.uint8, kept)
        nmiss, ninf = _fused.split(xb, both[:B], None if few else both[B:], marks, c, keep_inf,
                                   workers)
        if keep_inf and ninf:
            return False
        m, offsets, n_ext = self._marks(marks, nmiss)
        if few and n_ext > self.threshold["omit"]:  # the extension repeats missing samples
            return self._omit_blocks(xb, out, c, want_empty)
        empty = np.empty(out.shape, np.bool_) if want_empty else None
        if n_ext <= self.threshold["omit"]:
            # the numerator by the plan; the kernel weight on missing samples scattered
            self.execute(both[:B], out)
            lost = self._buffer("conv", out.shape, dt, kept)
            lost[...] = 0
            pos, bidx = self._where(m, offsets)
            _counts.scatter(pos, bidx, np.ones(len(pos), dt), self.kernel, lost)
            _fused.finish(m, offsets, p.k, out, workers, num=out, conv=lost,
                          total=self.total, nnz=self.nnz, c=0, empty=empty)
            return empty
        conv = self._buffer("conv", (2 * B, *p.out_len), dt, kept)
        if self.batchable:  # one call: the blocks of both arrays share the pool
            self.execute(both, conv)
        else:
            self.execute(both[:B], conv[:B])
            self.execute(both[B:], conv[B:])
        _fused.finish(m, offsets, p.k, out, workers, num=conv[:B], conv=conv[B:],
                      total=self.total, nnz=self.nnz, c=c, empty=empty)
        return empty

