"""``fftconv.signal`` and ``fftconv.ndimage`` given a dask array: lazy, or a clear refusal.

Where a function's semantics map exactly onto :mod:`fftconv.dask` (a dask input, an
in-memory kernel), the façade returns the lazy dask array the in-memory call would have
computed: same values, dtype and shape. Everything else raises a ``TypeError`` naming the
function and what to use instead. Nothing here ever computes a dask array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._api import is_dask, run
from ._core import nd_rules, signal_rules

__all__ = ["ndimage_filter", "ndimage_filter_1d", "refuse", "signal_conv", "signal_freq_conv"]

_INTEGER = "biu"


def refuse(name: str, why: str = "") -> TypeError:
    """The error for a façade function that cannot take a dask array lazily."""
    return TypeError(
        f"fftconv.{name} does not take dask arrays{': ' + why if why else ''}; it would "
        "have to compute them. Use fftconv.dask.convolve / fftconv.dask.correlate (or "
        "fftconv.dask.ndfilters) for a lazy result, or pass the computed numpy array "
        "(x.compute()) to compute in memory")


def _dask_input(name: str, x: object, xname: str, k: object, kname: str) -> tuple[Any, Any]:
    import dask.array as da

    if is_dask(k):
        raise refuse(name, f"{kname} is a dask array, and fftconv.dask needs an in-memory "
                     f"kernel (call {kname}.compute() if it fits in memory)")
    if not isinstance(x, da.Array):
        raise refuse(name, f"{xname} is a {type(x).__name__}, not a dask.array.Array")
    return x, np.asarray(k)


def signal_conv(name: str, in1: object, in2: object, mode: object, method: object, *,
                correlate: bool) -> Any:
    """scipy.signal.convolve / correlate of a dask ``in1`` with an in-memory ``in2``."""
    import dask.array as da

    a, b = _dask_input(f"signal.{name}", in1, "in1", in2, "in2")
    if a.ndim == b.ndim == 0:
        return a * (np.conj(b) if correlate and b.dtype.kind == "c" else b)
    signal_rules._same_ndim(a, b)
    mode, method = signal_rules.check_mode(mode), signal_rules.check_method(method)
    if signal_rules.swap_needed(mode, a.shape, b.shape):
        raise refuse(f"signal.{name}", "in 'valid' mode with in2 larger than in1 the dask "
                     "array in1 would be the kernel")
    rtype = np.result_type(a.dtype, b.dtype)
    options: dict = {"method": method}
    if method == "fft" and a.dtype.kind in _INTEGER and b.dtype.kind in _INTEGER:
        options["dtype"] = "float64"  # a float64 FFT, rounded, as scipy does
    if method == "fft" and b.dtype.kind in "fc" and not np.isfinite(b).all():
        options["method"] = "direct"  # the IEEE result of inf/nan is the direct sum's
    out = run(a, b, flip=not correlate, conjugate=correlate, mode=mode, **_defaults(options))
    if "dtype" in options:
        out = da.rint(out)
    return out.astype(rtype)


def _defaults(options: dict) -> dict:
    base = dict(axes=None, boundary="constant", cval=0, anchor=None, method="auto",
                effort="estimate", workers=None, dtype=None, nan_policy="propagate",
                max_memory=None, chunks="auto")
    return {**base, **options}


def signal_freq_conv(name: str, in1: object, in2: object, mode: object, axes: object) -> Any:
    """scipy.signal.fftconvolve / oaconvolve of a dask ``in1`` with an in-memory ``in2``."""
    import dask.array as da

    a, b = _dask_input(f"signal.{name}", in1, "in1", in2, "in2")
    if a.ndim == b.ndim == 0:
        return a * b
    signal_rules._same_ndim(a, b)
    if a.size == 0 or b.size == 0:
        return da.from_array(np.asarray([]))
    mode = signal_rules.check_mode(mode)
    conv = [i for i in signal_rules._axes(axes, a.ndim) if a.shape[i] != 1 and b.shape[i] != 1]
    batch = [i for i in range(a.ndim) if i not in conv]
    if not all(a.shape[i] == b.shape[i] or 1 in (a.shape[i], b.shape[i]) for i in batch):
        raise ValueError(f"incompatible shapes for in1 and in2: {a.shape} and {b.shape}")
    if signal_rules.swap_needed(mode, a.shape, b.shape, conv):
        raise refuse(f"signal.{name}", "in 'valid' mode with in2 larger than in1 the dask "
                     "array in1 would be the kernel")
    if not conv:
        out = a * b
        return signal_rules._centered(out, a.shape) if mode == "same" else out
    if mode == "same":  # in1's length on every axis: the kernel's centre where in1 has 1
        b = b[tuple(slice((b.shape[i] - 1) // 2, (b.shape[i] - 1) // 2 + 1)
                    if i in batch and a.shape[i] == 1 else slice(None) for i in range(b.ndim))]
    else:
        a = da.broadcast_to(a, tuple(max(a.shape[i], b.shape[i]) if i in batch
                                     else a.shape[i] for i in range(a.ndim)))
    return run(a, b, flip=True, conjugate=False, mode=mode,
               **_defaults(dict(axes=tuple(conv), dtype=signal_rules._fft_dtype(a, b))))


def _cast(res: Any, dtype: np.dtype) -> Any:
    """scipy.ndimage's C cast of the sums, block by block (it is elementwise)."""
    if res.dtype == dtype:
        return res
    return res.map_blocks(nd_rules.c_cast, dtype, dtype=dtype)


def _nd_run(name: str, x: Any, w: np.ndarray, output: object, mode: object, cval: object,
            axes: tuple[int, ...], anchors: tuple[int, ...], flip: bool) -> Any:
    """fftconv.ndimage's ``_run`` on a dask ``x``: the same options, cast and dtype."""
    if output is not None and not isinstance(output, (type, np.dtype, str)):
        raise refuse(f"ndimage.{name}", "output= may only name a dtype for a dask input "
                     "(a dask result cannot be written into an existing array lazily)")
    complex_output = x.dtype.kind == "c" or w.dtype.kind == "c"
    _, out_dtype = nd_rules.output_spec(output, np.empty((0,) * x.ndim, x.dtype),
                                        complex_output)
    bnd = nd_rules.boundary(mode)
    cv = nd_rules.cval_number(cval, x.dtype.kind == "c")
    real = None if isinstance(cv, complex) else cv
    options = _defaults(dict(mode="same", axes=axes, anchor=anchors, boundary=bnd))
    if x.ndim == 0:
        options.update(axes=None, anchor=None)
    if (real is not None and x.dtype.kind in _INTEGER and w.dtype.kind in _INTEGER
            and (bnd != "constant" or real.is_integer())):
        # integer sums are exact integers (beyond int64: OverflowError on compute)
        res = run(x, w, flip=flip, conjugate=not flip,
                  **{**options, "cval": int(real) if bnd == "constant" else 0})
    else:
        res = run(x, w, flip=flip, conjugate=not flip,
                  **{**options, "cval": cv if bnd == "constant" else 0,
                     "method": "direct" if out_dtype.kind in _INTEGER else "auto",
                     "dtype": np.complex128 if complex_output else np.float64})
    return _cast(res, out_dtype)


def ndimage_filter(name: str, input: object, weights: object, output: object, mode: object,
                   cval: object, origin: object, axes: object, *, flip: bool) -> Any:
    """scipy.ndimage.correlate / convolve of a dask ``input`` (fftconv.ndimage's rules)."""
    x, w = _dask_input(f"ndimage.{name}", input, "input", weights, "weights")
    xe = np.empty((0,) * x.ndim, x.dtype)
    nd_rules.check_cval(xe, w, cval)
    ax = nd_rules.check_axes(axes, x.ndim)
    filled = sum(s > 0 for s in w.shape) + x.ndim - len(ax)
    if w.ndim != len(ax) or filled != x.ndim:
        shown = w.ndim if len(ax) < x.ndim and w.ndim != len(ax) else filled
        raise RuntimeError(f"weights.ndim ({shown}) must match len(axes) ({len(ax)}); weights "
                           f"have shape {w.shape}")
    origin_axes = ax if len(ax) < x.ndim else tuple(range(x.ndim))
    origins = dict(zip(origin_axes, nd_rules.per_axis(origin, len(ax), "origin")))
    if not isinstance(mode, str):
        raise RuntimeError(f"mode={mode!r} is invalid: a sequence of modes is not supported")
    order = tuple(sorted(ax))
    anchors = tuple(nd_rules._anchor(k, origins[a]) for k, a in zip(w.shape, order))
    return _nd_run(name, x, w, output, mode, cval, order, anchors, flip)


def ndimage_filter_1d(name: str, input: object, weights: object, axis: object, output: object,
                      mode: object, cval: object, origin: object, *, flip: bool) -> Any:
    """scipy.ndimage.correlate1d / convolve1d of a dask ``input``."""
    x, w = _dask_input(f"ndimage.{name}", input, "input", weights, "weights")
    nd_rules.check_cval(np.empty((0,) * x.ndim, x.dtype), w, cval)
    a, anchor = nd_rules.check_1d(x.ndim, w, axis, origin)
    return _nd_run(name, x, w, output, mode, cval, (a,), (anchor,), flip)
