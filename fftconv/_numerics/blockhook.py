"""The dense ``omit`` inside a blocked strategy: each gathered block and its weight signal.

``overlap`` gathers blocks of the extended input one batch at a time. Under a
:class:`BlockHook` (set with :func:`block_hook` around the executor call), it transforms
two signals per block, the block with its non-finite samples zeroed and its weight
signal, and hands each block's two results to the hook, which writes the normalised
outputs. Every pass happens on a block in cache, on the pool threads that run the
blocks: the dense ``omit`` costs the transforms of the weight signal and little more.
The exact count of missing samples in each window comes from running column sums of the
block's marks, as in :mod:`.fused`.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["BlockHook", "block_hook", "blocked_omit", "current_hook"]


@lru_cache(maxsize=1)
def _kernels() -> tuple[Callable, Callable]:
    from numba import njit

    from .fused import row_kernels

    window_hits, normalise_row, empty_row = row_kernels()

    @njit(cache=True, nogil=True, error_model="numpy")
    def split_block(data, weight, marks, c):  # pragma: no cover - compiled
        """Gathered blocks: non-finite samples zeroed in ``data``, ``weight`` as ``prep``,
        ``marks`` 1 where missing."""
        zero = data.dtype.type(0)
        w_missing = weight.dtype.type(0 if c != 0 else 1)
        w_valid = weight.dtype.type(c if c != 0 else 0)
        for i in range(data.shape[0]):
            v = data[i]
            m = (v - v) != 0
            data[i] = zero if m else v
            weight[i] = w_missing if m else w_valid
            marks[i] = m

    @njit(cache=True, nogil=True, error_model="numpy")
    def finish_block(num, conv, marks, k0, k1, t, z, c, out, empty,
                     with_empty):  # pragma: no cover - compiled
        """``windows`` for one block, its ``marks`` summed into running column sums."""
        n0, n1 = out.shape
        ext = n1 + k1 - 1
        any_mark = 0
        for r in range(n0 + k0 - 1):
            mr = marks[r, :ext]
            for jj in range(ext):
                any_mark += mr[jj]
            if any_mark:
                break
        if any_mark == 0:  # no missing sample reaches the block: the plain result
            for i in range(n0):
                orow, nrow = out[i], num[i]
                for j in range(n1):
                    orow[j] = nrow[j]
            if with_empty:
                empty[:, :] = False
            return
        col = np.zeros(ext, np.int32)
        pre = np.empty(ext + 1, np.int32)
        hits = np.empty(n1, np.int32)
        for r in range(k0):
            mr = marks[r, :ext]
            for jj in range(ext):
                col[jj] += mr[jj]
        for i in range(n0):
            if i > 0:
                ma, ms = marks[i + k0 - 1, :ext], marks[i - 1, :ext]
                for jj in range(ext):
                    col[jj] += np.int32(ma[jj]) - np.int32(ms[jj])
            window_hits(col, pre, k1, hits)
            normalise_row(num[i], conv[i], hits, t, z, c, out[i])
            if with_empty:
                empty_row(hits, z, empty[i])

    return split_block, finish_block


class BlockHook:
    """The dense ``omit`` done inside a blocked strategy (``overlap``), block by block.

    A strategy that takes the hook (see :func:`current_hook`) transforms two signals per
    gathered block, the block itself with its non-finite samples zeroed and its weight
    signal (:meth:`split`), and hands each block's two results to :meth:`finish`, which
    writes the normalised outputs: no full-array pass before or after the transforms.
    Every non-finite sample is missing. ``probe``: the strategy only sets ``supported``.
    """

    def __init__(self, k: tuple[int, ...], total: np.ndarray, nnz: np.ndarray, c: complex,
                 empty: np.ndarray | None, probe: bool = False, l1: float = math.inf) -> None:
        self.k = (1, *k) if len(k) == 1 else tuple(k)
        self.l1 = l1  # the kernel's L1 norm (unknown: inf)
        self.total = float(np.ravel(total)[0])
        self.nnz = int(np.ravel(nnz)[0])
        self.c, self.empty, self.probe = c, empty, probe
        self.supported: bool | None = None

    def split(self, data: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Blocks ``data`` (gathered) and ``weight`` (same shape), in place; returns the
        blocks' marks (uint8, 1 where missing: this thread's scratch, valid until its
        next call)."""
        marks = getattr(_scratch, "marks", None)
        if marks is None or marks.size < data.size:
            marks = _scratch.marks = np.empty(data.size, np.uint8)
        marks = marks[:data.size]
        _kernels()[0](data.reshape(-1), weight.reshape(-1), marks, data.dtype.type(self.c))
        return marks.reshape(data.shape)

    def weight_bound(self) -> float:
        """A bound on ``|weight|`` times the kernel's L1 norm over each transform point
        (see :meth:`weight_may_overflow`)."""
        return self.l1 * max(1.0, abs(self.c))

    def weight_may_overflow(self, points: int, dtype: np.dtype) -> bool:
        """Whether the transforms of a weight signal (``|w| <= max(1, |c|)``) over
        ``points`` points can overflow: every value on their way is at most ``points``
        times ``|w|`` times the kernel's L1 norm (the spectrum holds ``1 / points``)."""
        return not points * self.weight_bound() < float(np.finfo(dtype).max) / 64

    def finish(self, num: np.ndarray, conv: np.ndarray, marks: np.ndarray,
               out: np.ndarray, target: tuple) -> None:
        """One block's outputs: ``num``/``conv`` the two results cropped like ``out``
        (a view of the plan's output at ``target``), ``marks`` the block's marks from
        its first sample."""
        if out.ndim == 1:
            num, conv, marks, out = num[None], conv[None], marks[None], out[None]
        k0, k1 = self.k
        empty = self.empty
        e = empty[target].reshape(out.shape) if empty is not None else np.zeros((1, 1), np.bool_)
        _kernels()[1](num, conv, marks, k0, k1, out.dtype.type(self.total), self.nnz,
                      out.dtype.type(self.c), out, e, empty is not None)


#: Per-thread scratch of :meth:`BlockHook.split` (a few blocks of bytes).
_scratch = threading.local()


_hook: contextvars.ContextVar[BlockHook | None] = contextvars.ContextVar("fftconv_block_hook",
                                                                        default=None)


def current_hook() -> BlockHook | None:
    """The block hook of the running call, if any (read by the executor before it hands
    blocks to pool threads)."""
    return _hook.get()


@contextlib.contextmanager
def block_hook(hook: BlockHook) -> Iterator[BlockHook]:
    token = _hook.set(hook)
    try:
        yield hook
    finally:
        _hook.reset(token)


def blocked_omit(problem: Any, method: str, seconds: float, passes: float, memory: int,
                 workers: int) -> tuple[Any, Any] | None:
    """(strategy, estimate) of the blocked ``overlap`` that serves the dense ``omit`` of a
    plan on another method, block by block with the weight signals, when that is cheaper
    than the plan's own dense way (the plan twice, and ``passes`` seconds of passes
    before and after) and fits what the plan leaves of ``max_memory``; else None.

    Only for what the hook serves: 1-d and 2-d real signals, one kernel without a zero
    tap, a finite ``cval``.
    """
    p = problem
    facts = p.kernel
    if (method == "overlap" or p.nan_policy != "omit" or p.ndim > 2
            or p.compute_dtype.kind != "f" or p.kernel_batched or p.is_exact_integer
            or facts is None or facts.nonzero != math.prod(p.k)
            or not (p.boundary != "constant" or p.pad_is_zero or math.isfinite(p.cval))):
        return None
    from .._machine.costs import machine_costs
    from ..strategies import registry

    strategy = registry().get("overlap")
    if strategy is None or strategy.applicable(p) is not None:
        return None
    est = strategy.estimate(p, machine_costs(), workers)
    if 2 * est.seconds >= 2 * seconds + passes or est.memory > p.max_memory - memory:
        return None
    return strategy, est
