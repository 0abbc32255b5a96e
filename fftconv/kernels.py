"""Common filter kernels, each with its exact definition.

Every function returns a new array of ``dtype`` (keyword-only, default float64), computed
in float64 and rounded once: ``gaussian(8.0, dtype="float32")`` keeps a float32 image's
convolution in single precision. Apart from :func:`box` with an even size,
the kernels have an odd length along each axis and are centred on the middle sample, so
``convolve(x, k, mode="same")`` does not shift the image. Arguments out of range raise
``ValueError`` naming the parameter and value.

The array axes are the image axes: axis 0 is the row (``y``, pointing down), axis 1 the
column (``x``, pointing right).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any, SupportsIndex

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["box", "disk", "gaussian", "laplacian_of_gaussian", "motion", "normalize"]


def _invalid(name: str, value: object, expected: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid; expected {expected}")


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    """The ``dtype=`` argument as a real floating-point numpy dtype."""
    expected = "a real floating-point dtype such as 'float32' or 'float64'"
    try:
        dt = None if isinstance(dtype, (bool, np.bool_)) else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dtype is None:
        raise _invalid("dtype", dtype, expected)
    if dt.kind != "f":
        raise ValueError(f"dtype={dt.name!r} is invalid; expected {expected}")
    return dt


def _check_size(shape: Sequence[int], what: str) -> None:
    """Refuse, before allocating it, a kernel that cannot fit in the available memory.

    The weights are computed in float64 (8 bytes each) whatever ``dtype`` is.
    """
    from ._machine.resources import available_memory

    nbytes = 8 * math.prod(shape)
    available = available_memory()
    if nbytes > available:
        dims = "x".join(map(str, shape))
        raise ValueError(f"{what} gives a {dims} kernel of {nbytes / 2**30:.3g} GiB, more "
                         f"than the {available / 2**30:.3g} GiB of memory available")


def _real(value: object, name: str, *, positive: bool = False) -> float:
    """A finite real number, ``>= 0`` (or ``> 0`` with ``positive``)."""
    bound = "> 0" if positive else ">= 0"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _invalid(name, value, f"a finite number {bound}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise _invalid(name, value, f"a finite number {bound}")
    return v


def _positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1, else the standard error naming ``name``."""
    try:
        n = operator.index(value) if isinstance(value, SupportsIndex) else 0
    except TypeError:  # e.g. a float 0-d array: it has __index__, which raises
        n = 0
    if isinstance(value, (bool, np.bool_)) or n < 1:
        raise _invalid(name, value, "an int >= 1")
    return n


def _ndim(ndim: object, default: int) -> int:
    return default if ndim is None else _positive_int("ndim", ndim)


def _per_axis(value: object, name: str, ndim: object, item: Callable[[object], Any]) -> tuple:
    """Apply ``item`` to a scalar or to each entry of a sequence; check ``ndim``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        try:
            flat = np.ndim(value) == 1 and len(value) > 0
        except ValueError:  # ragged
            flat = False
        if not flat:
            raise _invalid(name, value, "a number or a non-empty 1-d sequence")
        n = _ndim(ndim, len(value))
        if n != len(value):
            raise ValueError(f"{name}={value!r} has {len(value)} entries but ndim={n}")
        return tuple(item(v) for v in value)
    return (item(value),) * _ndim(ndim, 2)


def _outer(factors: Sequence[np.ndarray]) -> np.ndarray:
    """The n-d outer product of 1-d arrays."""
    out = np.ones(())
    for f in factors:
        out = np.multiply.outer(out, f)
    return out


def _gaussian_1d(sigma: float, truncate: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and normalised weights of scipy.ndimage's 1-d Gaussian."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    if radius == 0:  # also sigma == 0: the identity, as in scipy.ndimage
        return x, np.ones(1)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2)
    return x, phi / phi.sum()


def gaussian(
    sigma: float | Sequence[float], truncate: float = 4.0, ndim: int | None = None, *,
    dtype: DTypeLike = "float64",
) -> np.ndarray:
    """Sampled Gaussian kernel, identical to the one :func:`scipy.ndimage.gaussian_filter` uses.

    Along an axis with standard deviation ``s`` the kernel has radius
    ``r = int(truncate * s + 0.5)`` and weights ``exp(-x**2 / (2 * s**2))`` for the integer
    offsets ``x = -r, ..., r``, divided by their sum. The n-d kernel is the outer product of
    the 1-d kernels, so it sums to 1. An axis with ``s = 0`` (or ``r = 0``) has length 1.

    Parameters
    ----------
    sigma : float or sequence of float
        Standard deviation in samples, ``>= 0``; a sequence gives one per axis.
    truncate : float, optional
        Radius in units of ``sigma``, ``>= 0``. Default 4.0, as in scipy.ndimage.
    ndim : int, optional
        Number of dimensions. Default: ``len(sigma)`` for a sequence, else 2.
    dtype : str or numpy.dtype, optional
        Real floating type of the result (computed in float64, rounded once).

    Returns
    -------
    numpy.ndarray
        ``dtype`` array of shape ``(2*r_0 + 1, ..., 2*r_{ndim-1} + 1)``.

    Examples
    --------
    >>> gaussian(1.0, truncate=1.0, ndim=1).round(4)
    array([0.2741, 0.4519, 0.2741])
    >>> gaussian((2.0, 0.5)).shape
    (17, 5)
    """
    dt = _float_dtype(dtype)
    t = _real(truncate, "truncate")
    sigmas = _per_axis(sigma, "sigma", ndim, lambda s: _real(s, "sigma"))
    _check_size([2 * int(t * s + 0.5) + 1 for s in sigmas], f"sigma={sigma!r}")
    return _outer([_gaussian_1d(s, t)[1] for s in sigmas]).astype(dt, copy=False)


def laplacian_of_gaussian(
    sigma: float | Sequence[float], truncate: float = 4.0, ndim: int | None = None, *,
    dtype: DTypeLike = "float64",
) -> np.ndarray:
    """Laplacian-of-Gaussian kernel, identical to :func:`scipy.ndimage.gaussian_laplace`'s.

    With ``g_a`` the 1-d kernel of :func:`gaussian` along axis ``a`` (same radius rule)
    and ``d_a[x] = g_a[x] * (x**2 - s_a**2) / s_a**4`` its second derivative as
    scipy.ndimage samples it, the kernel is ``sum_a d_a ⊗ prod_{b != a} g_b``. In 2-d with
    one ``s``: ``k[i, j] = g[i] * g[j] * ((i**2 + j**2) / s**4 - 2 / s**2)``. It is negative
    at the centre and, being truncated, sums only approximately to 0.

    Parameters
    ----------
    sigma : float or sequence of float
        Standard deviation in samples, ``> 0``; a sequence gives one per axis.
    truncate : float, optional
        Radius in units of ``sigma``, ``>= 0``. Default 4.0.
    ndim : int, optional
        Number of dimensions. Default: ``len(sigma)`` for a sequence, else 2.
    dtype : str or numpy.dtype, optional
        Real floating type of the result (computed in float64, rounded once).

    Returns
    -------
    numpy.ndarray
        ``dtype`` array, same shape as ``gaussian(sigma, truncate, ndim)``.

    Examples
    --------
    >>> k = laplacian_of_gaussian(2.0)
    >>> k.shape, bool(k[8, 8] < 0)
    ((17, 17), True)
    """
    dt = _float_dtype(dtype)
    t = _real(truncate, "truncate")
    sigmas = _per_axis(sigma, "sigma", ndim, lambda s: _real(s, "sigma", positive=True))
    _check_size([2 * int(t * s + 0.5) + 1 for s in sigmas], f"sigma={sigma!r}")
    pairs = [_gaussian_1d(s, t) for s in sigmas]
    gs = [g for _, g in pairs]
    out = np.zeros([g.size for g in gs])
    for a, (s, (x, g)) in enumerate(zip(sigmas, pairs)):
        d2 = g * (x**2 - s * s) / s**4
        out += _outer(gs[:a] + [d2] + gs[a + 1:])
    return out.astype(dt, copy=False)


def box(size: int | Sequence[int], ndim: int | None = None, *,
        dtype: DTypeLike = "float64") -> np.ndarray:
    """Uniform (mean) kernel: ``size`` ones divided by their count.

    Parameters
    ----------
    size : int or sequence of int
        Length along each axis, ``>= 1``; a sequence gives one per axis. Even lengths are
        allowed (the kernel then has no centre sample; see ``anchor`` in
        :func:`fftconv.convolve`).
    ndim : int, optional
        Number of dimensions. Default: ``len(size)`` for a sequence, else 2.
    dtype : str or numpy.dtype, optional
        Real floating type of the result (computed in float64, rounded once).

    Returns
    -------
    numpy.ndarray
        ``dtype`` array of the given shape, every entry ``1 / prod(shape)``.

    Examples
    --------
    >>> box(3, ndim=1)
    array([0.33333333, 0.33333333, 0.33333333])
    """
    dt = _float_dtype(dtype)
    shape = _per_axis(size, "size", ndim, lambda v: _positive_int("size", v))
    _check_size(shape, f"size={size!r}")
    return np.full(shape, 1.0 / math.prod(shape), dtype=dt)


def _quadrant_area(x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    """Signed area of ``{x'^2 + y'^2 <= r^2}`` within the rectangle from (0, 0) to (x, y)."""
    sign = np.sign(x) * np.sign(y)
    x = np.minimum(np.abs(x), r)
    y = np.minimum(np.abs(y), r)

    def primitive(t: np.ndarray) -> np.ndarray:  # integral of sqrt(r^2 - t^2) from 0 to t
        return 0.5 * (t * np.sqrt(np.maximum(r * r - t * t, 0.0)) + r * r * np.arcsin(t / r))

    xc = np.sqrt(np.maximum(r * r - y * y, 0.0))  # where the circle meets height y
    cut = xc * y + primitive(x) - primitive(np.minimum(xc, x))
    return sign * np.where(x * x + y * y <= r * r, x * y, cut)


def disk(radius: float, *, dtype: DTypeLike = "float64") -> np.ndarray:
    """Anti-aliased disk (pillbox, "bokeh") kernel.

    Each sample ``(i, j)`` stands for the unit square ``[i - 1/2, i + 1/2] x
    [j - 1/2, j + 1/2]``; its weight is the exact area of that square's overlap with the
    disk of the given radius centred on the centre sample, computed in closed form, divided
    by the disk's area ``pi * radius**2`` so that the kernel sums to 1. The shape is
    ``(2h + 1, 2h + 1)`` with ``h = ceil(radius + 1/2) - 1``, the smallest holding the
    whole disk. ``disk(r) * (pi * r**2)`` is the fraction of each square covered; a binary
    disk, if wanted, is ``normalize(disk(r) * (np.pi * r**2) >= 0.5)``.

    Parameters
    ----------
    radius : float
        Radius in samples, ``> 0``.
    dtype : str or numpy.dtype, optional
        Real floating type of the result (computed in float64, rounded once).

    Returns
    -------
    numpy.ndarray
        ``dtype`` array, square, odd-sized, symmetric under flips and transposition.

    Examples
    --------
    >>> (disk(1.0) * np.pi).round(3)
    array([[0.079, 0.457, 0.079],
           [0.457, 1.   , 0.457],
           [0.079, 0.457, 0.079]])
    """
    dt = _float_dtype(dtype)
    r = _real(radius, "radius", positive=True)
    h = math.ceil(r + 0.5) - 1
    _check_size((2 * h + 1, 2 * h + 1), f"radius={radius!r}")
    edges = np.arange(-h - 0.5, h + 1.0)
    cumulative = _quadrant_area(edges[None, :], edges[:, None], r)
    area = np.diff(np.diff(cumulative, axis=0), axis=1)
    return (area / area.sum()).astype(dt, copy=False)


def motion(length: float, angle: float, *, dtype: DTypeLike = "float64") -> np.ndarray:
    """Linear motion-blur kernel: a line segment, anti-aliased by exact pixel coverage.

    The segment has the given length and its midpoint on the centre sample; its direction
    is ``angle`` degrees counter-clockwise from the ``+x`` axis (axis 1) as seen on screen,
    where rows (axis 0) point down, so 90 degrees points to smaller row indices. Each sample
    stands for the unit square around it and its weight is the length of the part of the
    segment inside that square, divided by ``length``: the kernel sums to 1, and convolving
    with it averages the (piecewise constant) image along the segment. Horizontal and
    vertical segments give 1-row or 1-column kernels, e.g. ``motion(3, 0)`` is
    ``[[1/3, 1/3, 1/3]]`` and ``motion(4, 0)`` is ``[[1/8, 1/4, 1/4, 1/4, 1/8]]``.
    The shape is the smallest odd, centred one holding the segment; ``length=0`` gives
    ``[[1.0]]``.

    Parameters
    ----------
    length : float
        Length of the segment in samples, ``>= 0``.
    angle : float
        Direction in degrees, counter-clockwise from ``+x``; ``angle`` and ``angle + 180``
        give the same kernel.
    dtype : str or numpy.dtype, optional
        Real floating type of the result (computed in float64, rounded once).

    Returns
    -------
    numpy.ndarray
        ``dtype`` 2-d array, symmetric under a rotation by 180 degrees.

    Examples
    --------
    >>> motion(2, 90)
    array([[0.25],
           [0.5 ],
           [0.25]])
    >>> k = motion(5, 45)
    >>> k.shape, bool(k[0, -1] > 0), float(k[0, 0])
    ((5, 5), True, 0.0)
    """
    dt = _float_dtype(dtype)
    n = _real(length, "length")
    if isinstance(angle, (bool, np.bool_)) or not isinstance(angle, numbers.Real) \
            or not math.isfinite(angle):
        raise _invalid("angle", angle, "a finite number of degrees")
    if n == 0:
        return np.ones((1, 1), dtype=dt)
    theta = math.radians(float(angle))
    step = np.array([-math.sin(theta), math.cos(theta)])  # (row, col) per unit of length
    half = np.ceil(0.5 * n * np.abs(step) - 0.5 - 1e-9).clip(min=0).astype(int)
    _check_size([2 * int(h) + 1 for h in half], f"length={length!r}")
    # Split the segment, parametrised by t in [-n/2, n/2], where it crosses a pixel edge.
    cuts = [np.array([-0.5 * n, 0.5 * n])]
    for axis in range(2):
        if step[axis] != 0:
            cuts.append(np.arange(-half[axis] - 0.5, half[axis] + 1.0) / step[axis])
    t = np.unique(np.clip(np.concatenate(cuts), -0.5 * n, 0.5 * n))
    piece = np.diff(t)
    keep = piece > 1e-12 * n  # drop rounding slivers where a row and a column edge meet
    middle = 0.5 * (t[1:] + t[:-1])[keep]
    pixel = np.clip(np.rint(middle[:, None] * step).astype(int) + half, 0, 2 * half)
    out = np.zeros(2 * half + 1)
    np.add.at(out, (pixel[:, 0], pixel[:, 1]), piece[keep])
    return (out / out.sum()).astype(dt, copy=False)


def normalize(kernel: object, *, dtype: DTypeLike = "float64") -> np.ndarray:
    """Return ``kernel / kernel.sum()`` as a new array of ``dtype`` (default float64).

    Parameters
    ----------
    kernel : array_like
        Real-valued kernel (bool, integer or float) whose sum is finite and non-zero.
    dtype : str or numpy.dtype, optional
        Real floating type of the result (computed in float64, rounded once).

    Returns
    -------
    numpy.ndarray
        Array of ``dtype``, of the same shape, summing to 1 (up to rounding).

    Raises
    ------
    TypeError
        If ``kernel`` is complex or not numeric.
    ValueError
        If its sum is zero or not finite (an empty kernel sums to zero).

    Examples
    --------
    >>> normalize([[1, 2, 1]])
    array([[0.25, 0.5 , 0.25]])
    """
    dt = _float_dtype(dtype)
    k = np.asarray(kernel)
    if not (np.issubdtype(k.dtype, np.integer) or np.issubdtype(k.dtype, np.floating)
            or k.dtype == np.bool_):
        raise TypeError(f"kernel of dtype {k.dtype} cannot be normalised; expected real numbers")
    k = k.astype(np.float64)
    total = k.sum()
    if total == 0 or not math.isfinite(total):
        raise ValueError(f"kernel sums to {float(total)!r}; cannot normalise it to sum 1")
    return (k / total).astype(dt, copy=False)
