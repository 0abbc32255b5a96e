"""scipy.signal's argument rules, mapped onto fftconv's engine (behind :mod:`fftconv.signal`).

Every rule here was read from scipy.signal's implementation: the result dtype is
``np.result_type(in1, in2)`` (``fftconvolve``: floating, integers as float64), ``'valid'``
swaps the inputs when the second is the larger, ``correlate`` conjugates ``in2``,
``correlate2d`` aligns ``'same'`` at ``(K - 1) // 2``, and so on. Integer results are
computed exactly by the engine and cast (wrapping like scipy's integer arithmetic);
``method='fft'`` on integers rounds a float64 FFT, as scipy does.
"""

from __future__ import annotations

import numbers
import timeit
import warnings

from collections.abc import Callable
from typing import cast

import numpy as np

from ._api import convolve as engine_convolve
from ._api import correlate as engine_correlate
from ._api import explain
from ._typing import Mode
from ._validate import AxesRules, normalise_axes

__all__ = ["choose_method", "conv2d", "freq_conv", "signal_conv"]

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")
#: convolve2d's boundary names -> numpy.pad's.
BOUNDARIES = {"fill": "constant", "pad": "constant", "symm": "symmetric",
              "symmetric": "symmetric", "wrap": "wrap", "circular": "wrap"}
_INTEGER = "biu"


def _refused(value: object, message: str, looked_up: bool) -> Exception:
    """The error for a flag outside the choices: ``ValueError``, but ``TypeError`` for an
    unhashable one where scipy looks the flag up in a dict (``looked_up``)."""
    if looked_up:
        try:
            hash(value)
        except TypeError:
            return TypeError(message)
    return ValueError(message)


def check_mode(mode: object, looked_up: bool = False) -> Mode:
    """``mode`` as one of :data:`MODES`; ``looked_up``: scipy finds it in a dict (correlate,
    convolve2d, correlate2d), so an unhashable one is a ``TypeError``."""
    if isinstance(mode, str) and mode in MODES:
        return cast(Mode, mode)
    raise _refused(mode, f"mode={mode!r} is invalid; acceptable mode flags are 'valid', "
                         "'same', or 'full'", looked_up)


def check_method(method: object) -> str:
    if isinstance(method, str) and method in METHODS:
        return method
    raise ValueError(f"method={method!r} is invalid; acceptable method flags are 'auto', "
                     "'direct', or 'fft'")


def swap_needed(mode: object, s1: tuple[int, ...], s2: tuple[int, ...], axes=None) -> bool:
    """Whether ``'valid'`` mode must swap the inputs (the second is the larger)."""
    if mode != "valid" or not s1:
        return False
    axes = range(len(s1)) if axes is None else axes
    ok1 = all(s1[i] >= s2[i] for i in axes)
    ok2 = all(s2[i] >= s1[i] for i in axes)
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in "
                         f"every dimension; got shapes {s1} and {s2}")
    return not ok1


def _reverse(a: np.ndarray) -> np.ndarray:
    return a[(slice(None, None, -1),) * a.ndim]


def _same_ndim(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim != b.ndim:
        raise ValueError(f"in1 and in2 should have the same dimensionality; got {a.ndim} "
                         f"and {b.ndim}")


def _engine(op, *args, **options) -> np.ndarray:
    """Run the engine; integer sums beyond int64 (which scipy lets wrap) go to float64."""
    try:
        return op(*args, **options)
    except OverflowError:
        return np.rint(op(*args, **{**options, "dtype": "float64"}))


def signal_conv(in1: object, in2: object, mode: object, method: object, *,
                correlate: bool) -> np.ndarray:
    """scipy.signal.convolve / correlate."""
    a, b = np.asarray(in1), np.asarray(in2)
    if a.ndim == b.ndim == 0:
        return a * (np.conj(b) if correlate and b.dtype.kind == "c" else b)
    _same_ndim(a, b)
    mode, method = check_mode(mode, looked_up=correlate), check_method(method)
    swap = swap_needed(mode, a.shape, b.shape)
    rtype = np.result_type(a, b)
    x, k = (b, a) if swap else (a, b)
    options: dict = {"method": method}
    if method == "fft" and x.dtype.kind in _INTEGER and k.dtype.kind in _INTEGER:
        options["dtype"] = "float64"  # scipy's method='fft' on integers: a float64 FFT, rounded
    if method == "fft" and k.dtype.kind in "fc" and not np.isfinite(k).all():
        options["method"] = "direct"  # only the direct sum gives the IEEE result of inf/nan
    if correlate and swap:  # correlate(b, a) reversed and conjugated equals correlate(a, b)
        out = np.conj(_reverse(_engine(engine_correlate, x, k, "valid", **options)))
    else:
        out = _engine(engine_correlate if correlate else engine_convolve, x, k, mode, **options)
    if "dtype" in options:
        np.rint(out, out=out)
    if method == "fft" and out.dtype.kind in "fc" and not np.isfinite(out).all():
        warnings.warn("Use of fft convolution on input with NAN or inf results in NAN or inf "
                      "output (only where the direct sum's window covers them).",
                      RuntimeWarning, stacklevel=3)
    return np.ascontiguousarray(out, dtype=rtype)


#: scipy.fft's rules for ``axes``, in its words.
_AXES = AxesRules(
    is_scalar=lambda axes: isinstance(axes, numbers.Number), bools=True,
    not_int="axes={axes!r} is invalid: axes must be a scalar or iterable of integers",
    not_iterable="axes={axes!r} is invalid: axes must be a scalar or iterable of integers",
    empty="axes=[] is invalid: when provided, axes cannot be empty",
    out_of_range="axes={axes!r} is invalid: axes exceeds dimensionality of input ({ndim})",
    repeated="axes={axes!r} is invalid: all axes must be unique")


def _axes(axes: object, ndim: int) -> list[int]:
    """scipy.fft's rules for ``axes`` (``None``: all axes)."""
    return list(normalise_axes(axes, ndim, _AXES))


def _fft_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """scipy.fft's working precision: integers as float64, float16 as float32."""
    def one(dt: np.dtype) -> np.dtype:
        if dt.kind in _INTEGER:
            return np.dtype(np.float64)
        return np.dtype(np.float32) if dt == np.float16 else dt
    return np.result_type(one(a.dtype), one(b.dtype))


def _centered(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    start = [(n - s) // 2 for n, s in zip(a.shape, shape)]
    return a[tuple(slice(i, i + s) for i, s in zip(start, shape))]


def freq_conv(in1: object, in2: object, mode: object, axes: object) -> np.ndarray:
    """scipy.signal.fftconvolve / oaconvolve (broadcasting over the other axes)."""
    a, b = np.asarray(in1), np.asarray(in2)
    if a.ndim == b.ndim == 0:
        return a * b
    _same_ndim(a, b)
    if a.size == 0 or b.size == 0:
        return np.asarray([])
    mode = check_mode(mode)
    # Axes where either input has length 1 are broadcast, not convolved (scipy's rule).
    conv = [i for i in _axes(axes, a.ndim) if a.shape[i] != 1 and b.shape[i] != 1]
    batch = [i for i in range(a.ndim) if i not in conv]
    if not all(a.shape[i] == b.shape[i] or 1 in (a.shape[i], b.shape[i]) for i in batch):
        raise ValueError(f"incompatible shapes for in1 and in2: {a.shape} and {b.shape}")
    if swap_needed(mode, a.shape, b.shape, conv):
        a, b = b, a
    if not conv:
        out = a * b
        return (_centered(out, a.shape) if mode == "same" else out).copy()
    if mode == "same":  # in1's length on every axis: the kernel's centre where in1 has 1
        b = b[tuple(slice((b.shape[i] - 1) // 2, (b.shape[i] - 1) // 2 + 1)
                    if i in batch and a.shape[i] == 1 else slice(None) for i in range(b.ndim))]
    else:
        a = np.broadcast_to(a, tuple(max(a.shape[i], b.shape[i]) if i in batch else a.shape[i]
                                     for i in range(a.ndim)))
    return engine_convolve(a, b, mode, axes=tuple(conv), dtype=_fft_dtype(a, b))


def _fill_value(fillvalue: object, dtype: np.dtype) -> object:
    """convolve2d's ``fillvalue`` as a Python scalar of the output dtype (scipy's checks)."""
    try:
        size = np.asarray(fillvalue, dtype=complex).size
    except TypeError:  # not a number at all: scipy's TypeError ("must be real number")
        raise TypeError(f"fillvalue={fillvalue!r} is invalid: must be real number, not "
                        f"{type(fillvalue).__name__}") from None
    except ValueError:  # a string that does not parse
        raise ValueError(f"fillvalue={fillvalue!r} is invalid; expected a number") from None
    if size == 0:
        raise ValueError("`fillvalue` cannot be an empty array.")
    if size != 1:
        raise ValueError(f"fillvalue={fillvalue!r} is invalid: `fillvalue` must be scalar or "
                         "an array with one element.")
    cast_error = ValueError(f"could not cast `fillvalue` directly to the output type {dtype} "
                            f"(fillvalue={fillvalue!r})")
    try:
        if isinstance(fillvalue, np.ndarray):  # arrays must cast safely, scalars are converted
            if not np.can_cast(fillvalue.dtype, dtype):
                raise cast_error
            value = fillvalue.astype(dtype).reshape(())
        else:
            value = np.array(fillvalue, dtype=dtype).reshape(())
    except (TypeError, ValueError, OverflowError):
        raise cast_error from None
    item = value.item()
    return int(item) if isinstance(item, bool) else item


def conv2d(in1: object, in2: object, mode: object, boundary: object, fillvalue: object, *,
           correlate: bool) -> np.ndarray:
    """scipy.signal.convolve2d / correlate2d."""
    a, b = np.asarray(in1), np.asarray(in2)
    if not a.ndim == b.ndim == 2:
        name = "correlate2d" if correlate else "convolve2d"
        raise ValueError(f"{name} inputs must both be 2-D arrays; got {a.ndim} and {b.ndim} "
                         "dimensions")
    swap = swap_needed(mode, a.shape, b.shape)
    mode = check_mode(mode, looked_up=True)
    if not (isinstance(boundary, str) and boundary in BOUNDARIES):
        raise _refused(boundary, f"boundary={boundary!r} is invalid; acceptable boundary flags "
                       "are 'fill', 'circular' (or 'wrap'), and 'symmetric' (or 'symm')", True)
    rtype = np.result_type(a, b)
    # scipy reads (and checks) fillvalue only for the boundary that uses it
    uses_fill = BOUNDARIES[boundary] == "constant"
    cval = _fill_value(fillvalue, rtype) if uses_fill else 0
    options: dict = {"boundary": BOUNDARIES[boundary], "cval": cval}
    if rtype.kind == "f" and a.dtype.kind in _INTEGER and b.dtype.kind in _INTEGER:
        options["dtype"] = "float64"  # uint64 with int64: scipy computes in float64
    if correlate and swap:  # scipy correlates in2 with conj(in1), then reverses (no conj)
        out = _reverse(_engine(engine_correlate, b, a, "valid", **options))
    elif correlate:  # correlate2d's 'same' anchor is (K - 1) // 2, unlike correlate's K // 2
        anchor = tuple((k - 1) // 2 for k in b.shape) if mode == "same" else None
        out = _engine(engine_correlate, a, b, mode, anchor=anchor, **options)
    else:
        out = _engine(engine_convolve, *((b, a) if swap else (a, b)), mode, **options)
    return np.ascontiguousarray(out, dtype=rtype)


def _seconds(func) -> float:
    """Best time of one call (calls repeated so one run lasts at least half a millisecond)."""
    timer = timeit.Timer(func)
    number = 1
    while timer.timeit(number) < 5e-4 and number < 10**6:
        number *= 10
    return min(timer.repeat(3, number)) / number


def choose_method(in1: object, in2: object, mode: object, measure: bool,
                  convolve: Callable[..., object]) -> str | tuple[str, dict[str, float]]:
    """scipy.signal.choose_conv_method, answered by fftconv's planner."""
    a, b = np.asarray(in1), np.asarray(in2)
    if measure:
        times = {m: _seconds(lambda m=m: convolve(a, b, mode=mode, method=m))
                 for m in ("fft", "direct")}
        return ("fft" if times["fft"] < times["direct"] else "direct"), times
    mode = check_mode(mode)
    kinds = a.dtype.kind + b.dtype.kind
    if (a.ndim != b.ndim or a.ndim == 0 or a.size == 0 or b.size == 0 or kinds == "bb"
            or any(k not in "biufc" for k in kinds)
            or any(dt.itemsize > (16 if dt.kind == "c" else 8) for dt in (a.dtype, b.dtype))):
        return "direct"
    if any(k in "ui" for k in kinds):  # scipy's bound: float64 cannot hold the sums exactly
        bound = int(np.abs(a).max()) * int(np.abs(b).max()) * min(a.size, b.size)
        if bound > 2**52 - 1:
            return "direct"
    try:
        if swap_needed(mode, a.shape, b.shape):
            a, b = b, a
    except ValueError:
        return "direct"
    report = explain(a.shape, b.shape, mode, x_dtype=a.dtype, kernel_dtype=b.dtype)
    return "direct" if report.method == "direct" else "fft"
