"""``fir_filter``: ``scipy.signal.lfilter(b, [1.0], x, axis, zi)`` by FFT convolution."""

from __future__ import annotations

import numpy as np

from ._checks import as_axis, as_kernel
from ._core import as_array, check_supported, compute_and_result_dtype, convolve

__all__ = ["fir_filter"]


def _along(a: np.ndarray, axis: int, sl: slice) -> tuple:
    return (slice(None),) * axis + (sl,)


def fir_filter(b: object, x: object, axis: int = -1, zi: object = None
               ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Filter ``x`` with the FIR filter ``b``: ``scipy.signal.lfilter(b, [1.0], x, axis, zi)``.

    ``y[n] = sum_j b[j] x[n - j]`` along ``axis``, plus the initial state ``zi``, computed
    by fftconv's convolution (fast for long ``b``). The state convention is lfilter's, so
    a signal filtered in pieces, each call given the previous call's ``zf``, gives the
    result of one call on the whole signal.

    Parameters
    ----------
    b : array_like
        The filter taps, 1-D, non-empty and finite.
    x : array_like
        The signal; ``axis`` is filtered, other axes are independent channels.
    axis : int, optional
        The axis to filter (default: the last).
    zi : array_like, optional
        Initial state, shape ``x.shape`` with ``len(b) - 1`` along ``axis`` (length-1
        axes broadcast, as in lfilter); ``zeros`` is a filter at rest.

    Returns
    -------
    y : ndarray
        The filtered signal, ``x``'s shape.
    zf : ndarray
        The final state (only when ``zi`` is given), ``zi``'s full shape.

    Notes
    -----
    Values agree with lfilter's to rounding. The dtype follows fftconv's rule rather than
    lfilter's: float32 ``b`` and ``x`` give float32 (lfilter, whose ``a=[1.0]`` is float64,
    returns float64); integer inputs give float64 as in lfilter. Unlike lfilter, a
    non-finite tap is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.stream import fir_filter
    >>> y, zf = fir_filter([1.0, 1.0], [1.0, 2.0, 3.0], zi=[0.5])
    >>> y.tolist(), zf.tolist()
    ([1.5, 3.0, 5.0], [3.0])
    """
    taps = as_kernel(b, "b")
    if taps.ndim != 1:
        raise ValueError(f"b has shape {taps.shape}; expected a 1-D array of taps")
    xa = as_array(x, "x")
    check_supported(xa.dtype, "x")
    if xa.ndim == 0:
        raise ValueError("x is a scalar; expected an array to filter")
    ax = as_axis(axis, xa.ndim)
    m, n = taps.shape[0], xa.shape[ax]
    compute = compute_and_result_dtype(xa.dtype, taps.dtype)[0]
    z = None
    state_shape = xa.shape[:ax] + (m - 1,) + xa.shape[ax + 1:]
    if zi is not None:
        z = as_array(zi, "zi")
        check_supported(z.dtype, "zi")
        ok = z.ndim == xa.ndim and z.shape[ax] == m - 1 and all(
            g in (1, w) for i, (g, w) in enumerate(zip(z.shape, state_shape)) if i != ax)
        if not ok:
            raise ValueError(f"zi has shape {z.shape}; expected {state_shape} (x's shape with "
                             f"len(b) - 1 = {m - 1} along axis {ax}; length-1 axes broadcast)")
        compute = np.result_type(compute, z.dtype)
    if compute.kind in "biu":
        compute = np.dtype(np.float64)
    elif compute == np.float16:
        compute = np.dtype(np.float32)
    if n:
        full = convolve(xa, taps, "full", axes=ax, dtype=compute)
    else:
        full = np.zeros(state_shape, compute)
    y = full[_along(full, ax, slice(0, n))]
    if z is None:
        return y
    zb = np.broadcast_to(z, state_shape)
    head = min(n, m - 1)
    y[_along(y, ax, slice(0, head))] += zb[_along(zb, ax, slice(0, head))]
    zf = np.array(full[_along(full, ax, slice(n, n + m - 1))], dtype=compute)
    if n < m - 1:
        zf[_along(zf, ax, slice(0, m - 1 - n))] += zb[_along(zb, ax, slice(n, m - 1))]
    return y, zf
