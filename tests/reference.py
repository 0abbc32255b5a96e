"""A naive, independent reference for convolution and correlation.

The input is extended with :func:`numpy.pad` (the boundary rule), then every output
sample is a plain sum over a sliding window, following the formulas of the contract:

- ``correlate``: ``y[i] = sum_j k[j] * x~[i + j - a]`` (``k`` conjugated when
  ``conjugate``), default ``a = K // 2``;
- ``convolve``: ``y[i] = sum_j k[j] * x~[i - j + a]``, default ``a = (K - 1) // 2``.

``full`` reads ``x~`` on ``[-(K-1), N+K-1)``, ``valid`` only inside ``x``. Floats are
summed in float64/complex128, integers and booleans exactly as Python ints.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fftconv.strategies import names, registry

BOUNDARIES = ("constant", "reflect", "symmetric", "edge", "wrap")
MODES = ("full", "same", "valid")
#: Every registered strategy and 'auto': a new strategy is tested the day it is registered.
#: A strategy marked ``conditional`` (serving only some problems) is skipped, by the
#: hook in conftest.py, where it declines a case.
METHODS = (*names(), "auto")
#: The strategies that serve only some problems (declared by the strategy itself).
CONDITIONAL = tuple(n for n, s in registry().items() if getattr(s, "conditional", False))


def normalize_axes(ndim: int, axes: int | Sequence[int] | None) -> tuple[int, ...]:
    """Return the convolved axes as non-negative ints (all axes when ``axes`` is None)."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    return tuple(int(a) % ndim for a in axes)


def full_kernel(kernel: np.ndarray, ndim: int, axes: tuple[int, ...]) -> np.ndarray:
    """Return ``kernel`` with ``ndim`` dimensions (size 1 on batch axes of a reduced kernel).

    A kernel with ``len(axes)`` dimensions maps its dimension ``d`` to ``axes[d]``.
    """
    if kernel.ndim == ndim:
        return kernel
    if kernel.ndim != len(axes):
        raise ValueError("kernel must have len(axes) or x.ndim dimensions")
    shape = [1] * ndim
    for d, ax in enumerate(axes):
        shape[ax] = kernel.shape[d]
    order = np.argsort(axes)
    return np.transpose(kernel, order).reshape(shape)


def _compute_dtype(x: np.ndarray, kernel: np.ndarray) -> np.dtype:
    if x.dtype.kind in "biu" and kernel.dtype.kind in "biu":
        return np.dtype(object)
    if x.dtype.kind == "c" or kernel.dtype.kind == "c":
        return np.dtype(np.complex128)
    return np.dtype(np.float64)


def _as_compute(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype == object:  # noqa: E721  (a numpy dtype compared with object) exact: Python ints
        ints = a.astype(np.int64) if a.dtype.kind == "b" else a
        return np.array(ints.tolist(), dtype=object).reshape(a.shape)
    return a.astype(dtype)


def naive(
    x,
    kernel,
    mode: str = "full",
    *,
    operation: str = "convolve",
    axes: int | Sequence[int] | None = None,
    boundary: str = "constant",
    cval: complex = 0,
    anchor: int | Sequence[int] | None = None,
    conjugate: bool = True,
) -> np.ndarray:
    """Convolve or correlate ``x`` with ``kernel`` by direct summation.

    Parameters
    ----------
    x, kernel : array_like
        Signal and kernel; the kernel has ``x.ndim`` dimensions (size 1 or equal to
        ``x``'s on batch axes) or ``len(axes)`` dimensions.
    mode : {'full', 'same', 'valid'}
        Output size per convolved axis: N+K-1, N, N-K+1.
    operation : {'convolve', 'correlate'}
        ``convolve`` flips the kernel, ``correlate`` does not.
    axes : int or sequence of int, optional
        Convolved axes; the others are batch axes.
    boundary : {'constant', 'reflect', 'symmetric', 'edge', 'wrap'}
        numpy.pad mode extending ``x`` (``cval`` fills ``constant``).
    cval : scalar
        Fill value of the ``constant`` boundary.
    anchor : int or sequence of int, optional
        Kernel index on ``x[i]`` for ``mode='same'``.
    conjugate : bool
        Conjugate the kernel in ``correlate``.

    Returns
    -------
    numpy.ndarray
        float64/complex128 result, or an object array of Python ints for integer and
        boolean inputs (exact).
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    ax = normalize_axes(x.ndim, axes)
    k = full_kernel(kernel, x.ndim, ax)
    dtype = _compute_dtype(x, kernel)
    xc, kc = _as_compute(x, dtype), _as_compute(k, dtype)
    if operation == "correlate" and conjugate and dtype.kind == "c":
        kc = np.conj(kc)
    sizes = [k.shape[a] for a in ax]
    if anchor is None:
        anchors = [s // 2 if operation == "correlate" else (s - 1) // 2 for s in sizes]
    else:
        anchors = list(np.broadcast_to(np.asarray(anchor), (len(ax),)))
    if operation == "convolve":
        # convolve with anchor a == correlate with the flipped kernel and anchor K-1-a
        kc = np.flip(kc, axis=ax)
        anchors = [s - 1 - a for s, a in zip(sizes, anchors)]

    # window start (index into x~ for y[0]) and output length per convolved axis
    starts, lengths = [], []
    for a, size, anc in zip(ax, sizes, anchors):
        n = x.shape[a]
        start, length = {"full": (-(size - 1), n + size - 1),
                         "same": (-anc, n),
                         "valid": (0, n - size + 1)}[mode]
        starts.append(start)
        lengths.append(length)

    pad = [(0, 0)] * x.ndim
    for a, size in zip(ax, sizes):
        pad[a] = (size - 1, size - 1)
    if mode == "valid" or x.size == 0:
        xp = np.pad(xc, pad, mode="constant", constant_values=0)
    elif boundary == "constant":
        xp = np.pad(xc, pad, mode="constant", constant_values=cval)
    else:
        xp = np.pad(xc, pad, mode=boundary)
    if dtype == object:  # noqa: E721  (a numpy dtype) np.pad fills with numpy ints, which overflow: back to Python ints
        xp = np.frompyfunc(int, 1, 1)(xp)

    windows = np.lib.stride_tricks.sliding_window_view(xp, sizes, axis=ax)
    index = [slice(None)] * x.ndim
    for a, size, start, length in zip(ax, sizes, starts, lengths):
        index[a] = slice(start + size - 1, start + size - 1 + length)
    windows = windows[tuple(index)]

    # kernel laid out as (x.ndim dims: batch sizes, 1 on convolved axes) + window dims
    kb = np.moveaxis(kc, ax, range(x.ndim - len(ax), x.ndim))
    kb = kb.reshape([1 if d in ax else k.shape[d] for d in range(x.ndim)] + sizes)
    wdims = tuple(range(x.ndim, x.ndim + len(ax)))
    with np.errstate(invalid="ignore", over="ignore"):  # IEEE results of inf and nan inputs
        return (windows * kb).sum(axis=wdims)


def naive_omit(x, kernel, mode: str = "full", **options) -> np.ndarray:
    """Reference for ``nan_policy='omit'``: ``(sum k) * corr(x~ v, k) / corr(v, k)``.

    ``v`` marks the finite samples of the extended input ``x~``, so samples made by the
    boundary rule (``cval`` included) are valid data; an output with no valid weight is
    NaN. Takes the options of :func:`naive`.
    """
    x = np.asarray(x, dtype=np.result_type(x, np.float64))
    kernel = np.asarray(kernel)
    if options.get("operation") == "correlate" and options.pop("conjugate", True):
        kernel = np.conj(kernel)
    options["conjugate"] = False
    finite = np.isfinite(x)
    cval = options.pop("cval", 0)
    fill = cval if np.isfinite(cval) else 0
    num = naive(np.where(finite, x, 0), kernel, mode, cval=fill, **options)
    den = naive(finite.astype(np.float64), kernel, mode, cval=float(np.isfinite(cval)), **options)
    ax = normalize_axes(x.ndim, options.get("axes"))
    ksum = full_kernel(kernel, x.ndim, ax).sum(axis=ax, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = ksum * num / den
    return np.where(den == 0, np.nan, y)


def random_array(shape, dtype="float64", seed=0) -> np.ndarray:
    """Random test data: normals for floats (complex parts too), small ints, random bools.

    ``seed`` is an int or a :class:`numpy.random.Generator`.
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "u":
        return rng.integers(0, 200, shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(-300, 300, shape).astype(dtype)
    a = rng.standard_normal(shape)
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def expected_dtype(x_dtype, kernel_dtype) -> np.dtype:
    """Result dtype of the contract: exact int64/uint64 for integers and booleans,
    float64 for integers with floats, float16 computed as float32, else numpy's rule."""
    xd, kd = np.dtype(x_dtype), np.dtype(kernel_dtype)
    if xd.kind in "biu" and kd.kind in "biu":
        return np.dtype(np.uint64 if xd.kind == kd.kind == "u" else np.int64)
    if xd.kind in "biu" or kd.kind in "biu":
        inexact = kd if xd.kind in "biu" else xd
        return np.result_type(inexact, np.float64)
    return np.result_type(xd, kd, np.float32)


def assert_close(got, want, x, kernel, *, cval: complex = 0, factor: float = 8.0) -> None:
    """Assert ``got`` equals the exact reference ``want`` within rounding error.

    Integer results must be exact. For floats the absolute tolerance is
    ``factor * eps * sqrt(x.size + kernel.size) * sum|k| * max|x~|``: the rounding bound of
    an FFT, far below what a one-sample misalignment of non-constant data produces.
    """
    got = np.asarray(got)
    assert got.shape == np.shape(want), f"shape {got.shape} != {np.shape(want)}"
    if got.dtype.kind in "iu":
        np.testing.assert_array_equal(got.astype(object), np.asarray(want, dtype=object))
        return
    x, kernel = np.asarray(x), np.asarray(kernel)
    eps = np.finfo(got.dtype).eps
    finite = np.isfinite(x)
    xmax = max(np.max(np.abs(x[finite]), initial=0), abs(cval))
    scale = np.sum(np.abs(kernel.astype(np.complex128))) * xmax
    atol = factor * eps * np.sqrt(x.size + kernel.size) * scale
    want = np.asarray(want).astype(np.result_type(got.dtype, np.float64))
    np.testing.assert_allclose(got, want, rtol=0, atol=atol, equal_nan=True)
