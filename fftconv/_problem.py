"""The frozen description of one convolution job."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

__all__ = ["KernelFacts", "Problem", "canonical_pad"]


@dataclass(frozen=True)
class KernelFacts:
    """What the planner needs to know about the kernel's values, found once per kernel.

    Attributes
    ----------
    finite : bool
        Whether every kernel value (and ``cval``, where the boundary uses it) is finite;
        only the direct sum gives the IEEE result of non-finite kernels.
    nonzero : int
        Non-zero taps of one kernel (the direct sum skips zero taps).
    rank : int or None
        Number of separable terms of the (shared) kernel, or None when it has no cheap
        factorisation.
    """

    finite: bool
    nonzero: int
    rank: int | None


def canonical_pad(n: tuple[int, ...], k: tuple[int, ...], anchor: tuple[int, ...], mode: str,
                  flip: bool) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Output lengths and the ``(lo, hi)`` extension of each convolved axis."""
    out_len, pad = [], []
    for ni, ki, ai in zip(n, k, anchor):
        if mode == "full":
            length = ni + ki - 1 if ni > 0 else 0
        elif mode == "same":
            length = ni
        else:
            length = ni - ki + 1
        # Anchor of the canonical correlation (kernel already flipped if convolving).
        lo = ki - 1 - ai if flip else ai
        out_len.append(length)
        pad.append((lo, length + ki - 1 - lo - ni))
    return tuple(out_len), tuple(pad)


@dataclass(frozen=True)
class Problem:
    """What to compute, independent of how; built only by :func:`fftconv._validate.make_problem`.

    The engine reduces every job to one canonical form: a *valid correlation* of the
    extended input ``x~`` with the prepared kernel ``k'`` (flipped for ``convolve``,
    conjugated for ``correlate(conjugate=True)``). The convolved axes are moved last and
    the batch axes flattened into one leading axis, so strategies see ``(B, *spatial)``.

    Attributes
    ----------
    x_shape, kernel_shape : tuple of int
        Shapes as given (the kernel's already padded with unit batch axes).
    x_dtype, kernel_dtype : numpy.dtype
        Input dtypes.
    compute_dtype : numpy.dtype
        Precision of the arithmetic: float32/float64/complex64/complex128, or int64/uint64
        for exact integer results.
    result_dtype : numpy.dtype
        Dtype of the returned array.
    axes : tuple of int
        Convolved axes of ``x`` (non-negative, in the user's order).
    mode, boundary : str
        Canonical option values.
    cval : complex or float or int
        Fill value for ``boundary='constant'``.
    flip, conjugate : bool
        Whether the kernel is flipped (convolution) and conjugated.
    anchor : tuple of int
        Per convolved axis, the kernel index (user's kernel) multiplying ``x[i]`` for
        ``y[i]`` in ``mode='same'``; for ``full``/``valid`` the value the mode implies.
    nan_policy : str
        ``'propagate'``, ``'omit'`` or ``'raise'``.
    kernel_batched : bool
        Whether the kernel varies along the batch axes (one kernel per batch element).
    kernel : KernelFacts or None
        Facts about the kernel's values; None when they are unknown (:func:`explain`
        plans from shapes alone).
    max_memory : int
        Scratch memory (bytes) a plan may use; the planner rejects strategies predicted to
        need more, and overlap-save shrinks its blocks to fit.
    """

    x_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    x_dtype: np.dtype
    kernel_dtype: np.dtype
    compute_dtype: np.dtype
    result_dtype: np.dtype
    axes: tuple[int, ...]
    mode: str
    boundary: str
    cval: complex | float | int
    flip: bool
    conjugate: bool
    anchor: tuple[int, ...]
    nan_policy: str
    kernel_batched: bool
    kernel: KernelFacts | None = None
    max_memory: int = 1 << 62
    # Derived geometry, computed once in __post_init__ (not part of equality: it follows).
    batch_axes: tuple[int, ...] = field(init=False, compare=False, repr=False)
    n: tuple[int, ...] = field(init=False, compare=False, repr=False)
    k: tuple[int, ...] = field(init=False, compare=False, repr=False)
    out_len: tuple[int, ...] = field(init=False, compare=False, repr=False)
    pad: tuple[tuple[int, int], ...] = field(init=False, compare=False, repr=False)
    batch: int = field(init=False, compare=False, repr=False)
    #: Shape of the result, convolved axes where they were in ``x``.
    out_shape: tuple[int, ...] = field(init=False, compare=False, repr=False)
    #: Shapes of the canonical input and result, ``(batch, *n)`` and ``(batch, *out_len)``.
    canonical_in: tuple[int, ...] = field(init=False, compare=False, repr=False)
    canonical_out: tuple[int, ...] = field(init=False, compare=False, repr=False)
    #: Axis order that brings the batch axes first, or None when they already are.
    order: tuple[int, ...] | None = field(init=False, compare=False, repr=False)
    #: Number of convolved axes.
    ndim: int = field(init=False, compare=False, repr=False)
    #: Lengths of the extended input ``x~`` along the convolved axes.
    extended: tuple[int, ...] = field(init=False, compare=False, repr=False)
    #: Whether the extension adds no samples (``x~`` is ``x``).
    pad_is_zero: bool = field(init=False, compare=False, repr=False)
    # Derived from the options and the kernel facts, also computed once (the planner asks
    # each strategy, and each strategy reads several of them).
    #: Whether the extension is plain zeros (no explicit padding needed).
    zero_fill: bool = field(init=False, compare=False, repr=False)
    #: Whether the result must be an exact integer.
    is_exact_integer: bool = field(init=False, compare=False, repr=False)
    #: Whether the kernel and ``cval`` are finite (assumed when their values are unknown).
    kernel_finite: bool = field(init=False, compare=False, repr=False)
    #: Non-zero taps of one kernel (all of them when the values are unknown).
    kernel_nonzero: int = field(init=False, compare=False, repr=False)
    #: Separable terms of the kernel; None when unknown or not cheaply separable.
    kernel_rank: int | None = field(init=False, compare=False, repr=False)
    #: Number of distinct kernels (1, or :attr:`batch`).
    kernel_batch: int = field(init=False, compare=False, repr=False)
    #: Multiply-adds of the direct sum (zero taps skipped).
    macs: int = field(init=False, compare=False, repr=False)
    _hash: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        state = self.__dict__  # frozen: the derived fields are set once, here
        geometry, taps, outputs = _geometry(self.x_shape, self.kernel_shape, self.axes,
                                            self.anchor, self.mode, self.flip)
        state.update(geometry)
        facts = self.kernel
        nonzero = taps if facts is None else facts.nonzero
        state.update(zero_fill=self.boundary == "constant" and self.cval == 0,
                     is_exact_integer=self.compute_dtype.kind in "iu",
                     kernel_finite=facts is None or facts.finite, kernel_nonzero=nonzero,
                     kernel_rank=None if facts is None else facts.rank,
                     kernel_batch=self.batch if self.kernel_batched else 1,
                     macs=outputs * nonzero)
        state["_hash"] = hash(_compared(self))

    def __hash__(self) -> int:
        """The hash of the compared fields, computed once (a problem keys every cache)."""
        return self._hash

    def describe(self) -> str:
        """One line, for reports: shapes, dtype, mode and boundary."""
        op = "convolve" if self.flip else "correlate"
        shape = "x".join(map(str, self.x_shape)) or "scalar"
        kshape = "x".join(map(str, self.kernel_shape)) or "scalar"
        return (f"{op} {shape} ({self.x_dtype}) with {kshape} ({self.kernel_dtype}), "
                f"axes={self.axes}, mode={self.mode!r}, boundary={self.boundary!r}, "
                f"computed in {self.compute_dtype}")


@lru_cache(maxsize=512)
def _geometry(x_shape: tuple[int, ...], kernel_shape: tuple[int, ...], axes: tuple[int, ...],
              anchor: tuple[int, ...], mode: str,
              flip: bool) -> tuple[dict[str, object], int, int]:
    """A problem's derived geometry (shared by every problem of the same shapes: a new
    kernel of a known kind rebuilds none of it), with the taps of one kernel and the
    output samples."""
    batch_axes = tuple([a for a in range(len(x_shape)) if a not in axes])
    n = tuple([x_shape[a] for a in axes])
    k = tuple([kernel_shape[a] for a in axes])
    out_len, pad = canonical_pad(n, k, anchor, mode, flip)
    order = batch_axes + axes
    shape = list(x_shape)
    for a, length in zip(axes, out_len):
        shape[a] = length
    batch = math.prod([x_shape[a] for a in batch_axes])
    geometry = {"out_shape": tuple(shape), "batch_axes": batch_axes, "n": n, "k": k,
                "out_len": out_len, "pad": pad, "batch": batch, "canonical_in": (batch, *n),
                "canonical_out": (batch, *out_len),
                "order": None if order == tuple(range(len(order))) else order,
                "ndim": len(axes), "pad_is_zero": all([p == (0, 0) for p in pad]),
                "extended": tuple([ni + lo + hi for ni, (lo, hi) in zip(n, pad)])}
    return geometry, math.prod(k), batch * math.prod(out_len)


#: The compared fields of a problem, as one tuple (what equality and the hash see).
_compared = operator.attrgetter(*(f.name for f in fields(Problem) if f.compare))
