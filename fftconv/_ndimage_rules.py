"""scipy.ndimage's argument rules, mapped onto fftconv's engine (behind :mod:`fftconv.ndimage`).

Read from scipy.ndimage's implementation: weights are real float64 (complex128 when
complex), sums are computed in double precision and cast to the output dtype (C casts:
integers truncate toward zero); ``origin`` shifts the kernel index that sits on ``x[i]``
to ``K // 2 + origin`` for both correlate and convolve; weights dimensions map to the
*sorted* ``axes`` while origins follow ``axes``' order; the output is ``input``'s dtype
unless ``output`` says otherwise (complex promoted, with a warning).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from typing import TYPE_CHECKING, Any, SupportsFloat, SupportsIndex, cast

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

from ._api import convolve as engine_convolve
from ._api import correlate as engine_correlate
from ._typing import Method
from ._arraytypes import as_index
from ._validate import AxesRules, normalise_axes

__all__ = ["check_1d", "filter_1d", "filter_nd"]

#: ndimage's mode names -> numpy.pad's (ndimage 'reflect' is numpy 'symmetric').
MODES = {"reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect",
         "nearest": "edge", "wrap": "wrap", "grid-wrap": "wrap", "constant": "constant",
         "grid-constant": "constant"}
_INTEGER = "biu"

AxisError = getattr(np, "exceptions", np).AxisError  # numpy.exceptions from numpy 1.25


def boundary(mode: object) -> str:
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise RuntimeError(f"mode={mode!r} is invalid: a sequence of modes is not supported")
    if isinstance(mode, str) and mode in MODES:
        return MODES[mode]
    choices = ", ".join(repr(m) for m in sorted(MODES))
    raise RuntimeError(f"mode={mode!r} is invalid (boundary mode not supported); expected one "
                       f"of {choices}")


#: scipy.ndimage's rules for ``axes``, in its words (a non-integer raises its TypeError).
_AXES = AxesRules(
    is_scalar=np.isscalar, bools=True, not_int=None,
    not_iterable="axes={axes!r} is invalid: axes must be an integer, iterable of integers, "
                 "or None",
    empty=None,
    out_of_range="axes={axes!r} is invalid: specified axis: {value} is out of range for an "
                 "input with {ndim} dimensions",
    repeated="axes={axes!r} is invalid: axes must be unique")


def check_axes(axes: object, ndim: int) -> tuple[int, ...]:
    return normalise_axes(axes, ndim, _AXES)


def per_axis(value: object, n: int, name: str) -> list:
    if not isinstance(value, str) and np.iterable(value):
        values = list(value)
        if len(values) != n:
            raise RuntimeError(f"{name}={value!r} is invalid: sequence argument must have "
                               f"length equal to input rank ({n})")
        return values
    return [value] * n


def output_spec(output: object, x: np.ndarray,
                complex_output: bool) -> tuple[np.ndarray | None, np.dtype]:
    """ndimage's ``output`` rules: ``(array to fill or None, output dtype)``."""
    if output is None:
        dt = np.promote_types(x.dtype, np.complex64) if complex_output else x.dtype
        return None, np.dtype(dt)
    if isinstance(output, (type, np.dtype)):
        dt = np.dtype(output)
        if complex_output and dt.kind != "c":
            warnings.warn("promoting specified output dtype to complex", UserWarning,
                          stacklevel=5)
            dt = np.promote_types(dt, np.complex64)
        return None, dt
    if isinstance(output, str):
        dt = np.dtype(output)
        if complex_output and dt.kind != "c":
            raise RuntimeError(f"output={output!r} is invalid: output must have complex dtype "
                               "for complex input or weights")
        if not issubclass(dt.type, np.number):
            raise RuntimeError(f"output={output!r} is invalid: output must have numeric dtype")
        return None, dt
    out = np.asarray(output)
    if out.shape != x.shape:
        raise RuntimeError(f"output shape not correct: {out.shape}, expected {x.shape}")
    if complex_output and out.dtype.kind != "c":
        raise RuntimeError("output must have complex dtype for complex input or weights; got "
                           f"{out.dtype}")
    return out, out.dtype


def _filter_into(x: np.ndarray, w: np.ndarray, output: object, mode: object, cval: object,
                 axes: tuple[int, ...] | None, anchors: tuple[int, ...] | None, flip: bool) -> np.ndarray:
    """Compute into the output ndimage would return (validation of shapes already done)."""
    complex_output = x.dtype.kind == "c" or w.dtype.kind == "c"
    out, out_dtype = output_spec(output, x, complex_output)
    bnd = boundary(mode)
    cv = cval_number(cval, x.dtype.kind == "c")
    real = None if isinstance(cv, complex) else cv
    op = engine_convolve if flip else engine_correlate
    options: dict[str, Any] = dict(mode="same", axes=axes, anchor=anchors, boundary=bnd)
    if x.ndim == 0:
        options.update(axes=None, anchor=None)
    res = None
    if (real is not None and x.dtype.kind in _INTEGER and w.dtype.kind in _INTEGER
            and (bnd != "constant" or real.is_integer())):
        try:  # integer sums are exact integers, whatever the method
            res = op(x, w, cval=int(real) if bnd == "constant" else 0, **options)
        except OverflowError:  # may not fit int64: sum in double, as scipy does
            pass
    if res is None:
        # Integer outputs truncate: the direct sum truncates exactly as ndimage's does.
        method: Method = "direct" if out_dtype.kind in _INTEGER else "auto"
        res = op(x, w, cval=cv if bnd == "constant" else 0, method=method,
                 dtype=np.complex128 if complex_output else np.float64, **options)
    res = c_cast(res, out_dtype)
    if out is None:
        return res
    np.copyto(out, res, casting="unsafe")
    return out


def _to_int(t: np.ndarray, bits: int) -> np.ndarray:
    """x86-64's ``cvttsd2si`` of truncated doubles to a ``bits``-wide integer (as int64):
    values outside the range, and NaN, become the smallest integer."""
    lo = -(2.0 ** (bits - 1))
    return np.where((t >= lo) & (t < -lo), t, lo).astype(np.int64)


def c_cast(res: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """ndimage's C cast of double sums to the output dtype, as compiled for x86-64.

    Integer outputs of 32 bits or fewer (and bool, a byte) convert through a 32-bit
    integer, ``uint32`` through a 64-bit one, and keep the low bits: ``2**33 + 5`` is 0 as
    ``uint8`` and 5 as ``uint32``, 256 is False as bool. ``uint64`` converts values from
    ``2**63`` on by offset. Exact integer sums (integer data and weights) keep their value
    in 64-bit outputs and go through the same double conversion in narrower ones.
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in _INTEGER or res.dtype.kind not in "iuf":
        return res.astype(dtype)
    if res.dtype.kind in "iu" and dtype.itemsize == 8:
        return res.astype(dtype)  # integer to 64-bit integer: exact, or wraps like C
    with np.errstate(invalid="ignore"):
        t = np.trunc(res.astype(np.float64))
        if dtype == np.uint64:
            big = t >= 2.0 ** 63
            low = _to_int(np.where(big, t - 2.0 ** 63, t), 64).view(np.uint64)
            wide = np.where(big, low ^ np.uint64(1 << 63), low)
        else:
            wide = _to_int(t, 64 if dtype == np.uint32 or dtype.itemsize == 8 else 32)
    if dtype.kind == "b":
        return wide.astype(np.uint8) != 0
    return wide.astype(dtype)


def _real_number(cval: object, shown: object) -> float:
    """A ``cval`` part as ndimage's C code reads it: anything with ``__float__`` or
    ``__index__`` (a 0-d array too, with numpy's own errors); a string is not a number."""
    if isinstance(cval, (SupportsFloat, SupportsIndex)):
        return float(cval)
    raise TypeError(f"cval={shown!r} is invalid: must be real number, not "
                    f"{type(cval).__name__}")


def cval_number(cval: object, complex_input: bool) -> complex | float:
    """The ``cval`` ndimage fills with: a real number for real input; for complex input
    its real and imaginary parts (``numpy.real``, ``numpy.imag``), each a real number."""
    if not complex_input:
        return _real_number(cval, cval)
    parts = cast("npt.ArrayLike", cval)  # numpy.real and numpy.imag take any object
    return complex(_real_number(np.real(parts), cval), _real_number(np.imag(parts), cval))


def check_cval(x: np.ndarray, w: np.ndarray, cval: object) -> None:
    """A complex ``cval`` needs a complex input (checked first, as scipy does)."""
    # numpy.iscomplexobj takes any object (it reads a dtype, else converts)
    if np.iscomplexobj(cast("npt.ArrayLike", cval)) and x.dtype.kind != "c":
        if w.dtype.kind == "c":
            raise ValueError(f"cval={cval!r} is invalid: cannot provide a complex-valued cval "
                             "when the input is real")
        raise TypeError(f"cval={cval!r} is invalid: must be a real number for real input")


def _anchor(k: int, origin: object) -> int:
    """The kernel index on ``x[i]``: ``K // 2 + origin``, which must lie in the kernel.

    As in scipy, a float origin is checked against the range first (``ValueError``), and
    only then refused for not being an integer (``TypeError``)."""
    outside = isinstance(origin, (float, np.floating)) and (
        origin < -(k // 2) or origin > (k - 1) // 2)  # a nan is not outside (scipy's test)
    a = k if outside else k // 2 + as_index(origin)
    if not 0 <= a < k:
        raise ValueError(f"Invalid origin: origin={origin!r} with a kernel of length {k}; "
                         f"expected -(K // 2) <= origin <= (K - 1) // 2, i.e. {-(k // 2)} .. "
                         f"{(k - 1) // 2}")
    return a


def filter_nd(input: object, weights: object, output: object, mode: object, cval: object,
              origin: object, axes: object, *, flip: bool) -> np.ndarray:
    """scipy.ndimage.correlate / convolve."""
    x, w = np.asarray(input), np.asarray(weights)
    check_cval(x, w, cval)
    ax = check_axes(axes, x.ndim)
    filled = sum(s > 0 for s in w.shape) + x.ndim - len(ax)  # scipy's count (empty dims drop)
    if w.ndim != len(ax) or filled != x.ndim:
        shown = w.ndim if len(ax) < x.ndim and w.ndim != len(ax) else filled
        raise RuntimeError(f"weights.ndim ({shown}) must match len(axes) ({len(ax)}); weights "
                           f"have shape {w.shape}")
    # scipy maps origins onto ``axes`` only when it names some of the axes; with all of
    # them (in any order) origin[i] belongs to axis i, as without ``axes``
    origin_axes = ax if len(ax) < x.ndim else tuple(range(x.ndim))
    origins = dict(zip(origin_axes, per_axis(origin, len(ax), "origin")))
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise RuntimeError(f"mode={mode!r} is invalid: a sequence of modes is not supported")
    order = tuple(sorted(ax))  # weights' dimensions follow the sorted axes
    anchors = tuple(_anchor(k, origins[a]) for k, a in zip(w.shape, order))
    return _filter_into(x, w, output, mode, cval, order, anchors, flip)


def filter_1d(input: object, weights: object, axis: object, output: object, mode: object,
              cval: object, origin: object, *, flip: bool) -> np.ndarray:
    """scipy.ndimage.correlate1d / convolve1d."""
    x, w = np.asarray(input), np.asarray(weights)
    check_cval(x, w, cval)
    a, anchor = check_1d(x.ndim, w, axis, origin)
    return _filter_into(x, w, output, mode, cval, (a,), (anchor,), flip)


def check_1d(ndim: int, w: np.ndarray, axis: object, origin: object) -> tuple[int, int]:
    """scipy's checks of a 1-d filter's weights and axis: ``(axis in [0, ndim), anchor)``."""
    if w.ndim != 1 or w.shape[0] < 1:
        raise RuntimeError(f"weights with shape {w.shape} are invalid: no filter weights "
                           "given (expected a non-empty 1-d sequence)")
    try:
        a = as_index(axis)
    except TypeError:
        raise TypeError(f"axis={axis!r} is invalid; expected an int") from None
    if not -ndim <= a < ndim:
        raise AxisError(a, ndim)
    return a % ndim, _anchor(w.shape[0], origin)
