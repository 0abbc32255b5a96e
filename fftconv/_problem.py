"""The frozen description of one convolution job."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """What to compute, independent of how; built only by :mod:`fftconv._validate`.

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
    kernel_finite : bool
        Whether every kernel value (and ``cval``) is finite; only the direct sum gives
        the IEEE result of non-finite kernels.
    kernel_nonzero : int
        Non-zero taps of one kernel (``-1``: unknown, count them all); the direct sum
        skips zero taps.
    kernel_rank : int
        Number of separable terms of the (shared) kernel; ``-1`` when it has no cheap
        factorisation, ``-2`` when its values are unknown.
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
    kernel_finite: bool = True
    kernel_nonzero: int = -1
    kernel_rank: int = -2
    max_memory: int = 1 << 62
    # Derived geometry, filled in __post_init__ (not part of equality: it follows).
    batch_axes: tuple[int, ...] = field(init=False, compare=False, repr=False)
    n: tuple[int, ...] = field(init=False, compare=False, repr=False)
    k: tuple[int, ...] = field(init=False, compare=False, repr=False)
    out_len: tuple[int, ...] = field(init=False, compare=False, repr=False)
    pad: tuple[tuple[int, int], ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        batch_axes = tuple(a for a in range(len(self.x_shape)) if a not in self.axes)
        n = tuple(self.x_shape[a] for a in self.axes)
        k = tuple(self.kernel_shape[a] for a in self.axes)
        out_len, pad = [], []
        for ni, ki, ai in zip(n, k, self.anchor):
            if self.mode == "full":
                length = ni + ki - 1 if ni > 0 else 0
            elif self.mode == "same":
                length = ni
            else:
                length = ni - ki + 1
            # Anchor of the canonical correlation (kernel already flipped if convolving).
            lo = ki - 1 - ai if self.flip else ai
            hi = length + ki - 1 - lo - ni
            out_len.append(length)
            pad.append((lo, hi))
        set_(self, "batch_axes", batch_axes)
        set_(self, "n", n)
        set_(self, "k", k)
        set_(self, "out_len", tuple(out_len))
        set_(self, "pad", tuple(pad))

    def __hash__(self) -> int:
        """The hash of the compared fields, computed once (a problem keys every cache)."""
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(tuple(getattr(self, f.name) for f in fields(self) if f.compare))
            object.__setattr__(self, "_hash", h)
        return h

    # ------------------------------------------------------------------ geometry
    @property
    def ndim(self) -> int:
        """Number of convolved axes."""
        return len(self.axes)

    @property
    def batch(self) -> int:
        """Number of independent signals (product of the batch axes' lengths)."""
        return math.prod(self.x_shape[a] for a in self.batch_axes)

    @property
    def kernel_batch(self) -> int:
        """Number of distinct kernels (1, or :attr:`batch`)."""
        return self.batch if self.kernel_batched else 1

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the result, convolved axes where they were in ``x``."""
        shape = list(self.x_shape)
        for a, length in zip(self.axes, self.out_len):
            shape[a] = length
        return tuple(shape)

    @property
    def extended(self) -> tuple[int, ...]:
        """Lengths of the extended input ``x~`` along the convolved axes."""
        return tuple(ni + lo + hi for ni, (lo, hi) in zip(self.n, self.pad))

    @property
    def is_exact_integer(self) -> bool:
        """Whether the result must be an exact integer."""
        return self.compute_dtype.kind in "iu"

    @property
    def pad_is_zero(self) -> bool:
        """Whether the extension adds no samples (``x~`` is ``x``)."""
        return all(p == (0, 0) for p in self.pad)

    @property
    def zero_fill(self) -> bool:
        """Whether the extension is plain zeros (no explicit padding needed)."""
        return self.boundary == "constant" and self.cval == 0

    @property
    def macs(self) -> int:
        """Multiply-adds of the direct sum (zero taps skipped)."""
        taps = self.kernel_nonzero if self.kernel_nonzero >= 0 else math.prod(self.k)
        return self.batch * math.prod(self.out_len) * taps

    def describe(self) -> str:
        """One line, for reports: shapes, dtype, mode and boundary."""
        op = "convolve" if self.flip else "correlate"
        shape = "x".join(map(str, self.x_shape)) or "scalar"
        kshape = "x".join(map(str, self.kernel_shape)) or "scalar"
        return (f"{op} {shape} ({self.x_dtype}) with {kshape} ({self.kernel_dtype}), "
                f"axes={self.axes}, mode={self.mode!r}, boundary={self.boundary!r}, "
                f"computed in {self.compute_dtype}")
