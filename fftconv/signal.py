"""Drop-in replacements for scipy.signal's convolution functions, on fftconv's engine.

Change ``from scipy.signal import convolve`` to ``from fftconv.signal import convolve``
and keep the results: signatures, defaults, result dtypes, the input swap of
``'valid'`` mode, complex conjugation, ``convolve2d``'s ``boundary``/``fillvalue`` and the
exception types are scipy.signal's. What changes is how the work is done: ``method='auto'``
asks fftconv's planner (direct sum, whole FFT or blocked overlap-save, with exact integer
results), and non-finite inputs never spread over the whole output. ``docs/compat.md``
lists every known difference.

Examples
--------
>>> import numpy as np
>>> from fftconv import signal
>>> signal.convolve([1, 2, 3], [0, 1, 0.5])
array([0. , 1. , 2.5, 4. , 1.5])
>>> signal.correlate2d([[1, 2], [3, 4]], [[1, 1]], mode="same")
array([[3, 2],
       [7, 4]])
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import _signal_rules as _f
from ._docs import docfiller
from ._engine import _is_dask

__all__ = ["choose_conv_method", "convolve", "convolve2d", "correlate", "correlate2d",
           "fftconvolve", "oaconvolve"]

Mode = Literal["full", "same", "valid"]
Method = Literal["auto", "direct", "fft"]
Boundary = Literal["fill", "pad", "wrap", "circular", "symm", "symmetric"]

_MODE_DOC = """mode : {'full', 'same', 'valid'}, optional
        ``'full'``: the whole linear convolution (``N + K - 1``); ``'same'``: the size of
        ``in1``, centred as scipy does; ``'valid'``: only outputs that do not rely on
        zero-padding (``|N - K| + 1``; either input may be the larger, but one must be at
        least as large as the other along every axis)."""

_BOUNDARY_DOC = """boundary : {'fill', 'wrap', 'symm'}, optional
        How ``in1`` is extended: ``'fill'`` (alias ``'pad'``) with ``fillvalue``,
        ``'wrap'`` (alias ``'circular'``) periodically, ``'symm'`` (alias
        ``'symmetric'``) by mirroring with the edge repeated (numpy's ``'symmetric'``).
        Applies to ``'full'`` and ``'same'``.
    fillvalue : scalar, optional
        The fill value, cast to the output dtype (default 0)."""


_doc = docfiller({"mode": _MODE_DOC, "boundary": _BOUNDARY_DOC})


def _dask(rule: str, name: str, *args: object, **kwargs: object) -> np.ndarray:
    """A dask input: the lazy result through fftconv.dask, or a TypeError (never computed)."""
    from .dask import _facades

    return getattr(_facades, rule)(name, *args, **kwargs)


def _dask_refusal(name: str) -> TypeError:
    """The TypeError for a function with no lazy form (dask imported only now)."""
    from .dask import _facades

    return _facades.refuse(f"signal.{name}")


@_doc
def convolve(in1: object, in2: object, mode: Mode = "full",
             method: Method = "auto") -> np.ndarray:
    """Convolve two N-dimensional arrays, like ``scipy.signal.convolve``.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs, with the same number of dimensions.
    %(mode)s
    method : {'auto', 'direct', 'fft'}, optional
        ``'auto'`` (default) lets fftconv's planner choose (integer results are exact);
        ``'direct'`` sums directly; ``'fft'`` uses a whole-array FFT (integers: a float64
        FFT rounded to integers, as scipy does).

    Returns
    -------
    ndarray
        ``np.result_type(in1, in2)``; integer sums wrap to it as scipy's do.

    Raises
    ------
    ValueError
        For a bad ``mode`` or ``method``, inputs of different dimensionality, or
        ``'valid'`` shapes where neither input fits in the other.

    Warns
    -----
    RuntimeWarning
        ``method='fft'`` with a non-finite result (as scipy).

    Examples
    --------
    >>> from fftconv.signal import convolve
    >>> convolve([3, 4, 5], [1, 2, 3], mode="same")
    array([10, 22, 22])
    """
    if _is_dask(in1) or _is_dask(in2):
        return _dask("signal_conv", "convolve", in1, in2, mode, method, correlate=False)
    return _f.signal_conv(in1, in2, mode, method, correlate=False)


@_doc
def correlate(in1: object, in2: object, mode: Mode = "full",
              method: Method = "auto") -> np.ndarray:
    """Cross-correlate two N-dimensional arrays, like ``scipy.signal.correlate``.

    ``z[k] = sum_l in1[l] * conj(in2[l - k + offset])``: ``in2`` is conjugated, not
    flipped. In ``'same'`` mode ``in2[K // 2]`` sits on ``in1[i]``.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs, with the same number of dimensions.
    %(mode)s
    method : {'auto', 'direct', 'fft'}, optional
        As for :func:`convolve`.

    Returns
    -------
    ndarray
        ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        As for :func:`convolve`.

    Examples
    --------
    >>> from fftconv.signal import correlate
    >>> correlate([1, 2, 3], [0, 1, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> correlate([1j, 2], [1j])
    array([1.+0.j, 0.-2.j])
    """
    if _is_dask(in1) or _is_dask(in2):
        return _dask("signal_conv", "correlate", in1, in2, mode, method, correlate=True)
    return _f.signal_conv(in1, in2, mode, method, correlate=True)


@_doc
def fftconvolve(in1: object, in2: object, mode: Mode = "full",
                axes: int | list[int] | tuple[int, ...] | None = None) -> np.ndarray:
    """Convolve along ``axes``, like ``scipy.signal.fftconvolve``.

    The other axes broadcast (each input has length 1 or the common length). The
    planner may sum directly when that is faster; results agree within floating-point
    tolerance.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs, with the same number of dimensions.
    %(mode)s
    axes : int or sequence of int, optional
        Axes to convolve over (default: all).

    Returns
    -------
    ndarray
        Floating: integers count as float64, float16 as float32 (scipy.fft's precision).
        Empty inputs give an empty float64 array.

    Raises
    ------
    ValueError
        For a bad ``mode`` or ``axes``, or shapes that neither convolve nor broadcast.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.signal import fftconvolve
    >>> fftconvolve(np.ones((2, 3)), np.array([[1.0, 2.0]]), axes=1)
    array([[1., 3., 3., 2.],
           [1., 3., 3., 2.]])
    """
    if _is_dask(in1) or _is_dask(in2):
        return _dask("signal_freq_conv", "fftconvolve", in1, in2, mode, axes)
    return _f.freq_conv(in1, in2, mode, axes)


@_doc
def oaconvolve(in1: object, in2: object, mode: Mode = "full",
               axes: int | list[int] | tuple[int, ...] | None = None) -> np.ndarray:
    """Convolve along ``axes``, like ``scipy.signal.oaconvolve``.

    Same contract as :func:`fftconvolve`: fftconv's planner decides whether the blocked
    (overlap) FFT pays, so the two functions are one.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs, with the same number of dimensions.
    %(mode)s
    axes : int or sequence of int, optional
        Axes to convolve over (default: all).

    Returns
    -------
    ndarray
        As for :func:`fftconvolve`.

    Raises
    ------
    ValueError
        As for :func:`fftconvolve`.

    Examples
    --------
    >>> from fftconv.signal import oaconvolve
    >>> oaconvolve([1.0, 2.0, 3.0], [1.0, 1.0], mode="valid")
    array([3., 5.])
    """
    if _is_dask(in1) or _is_dask(in2):
        return _dask("signal_freq_conv", "oaconvolve", in1, in2, mode, axes)
    return _f.freq_conv(in1, in2, mode, axes)




@_doc
def convolve2d(in1: object, in2: object, mode: Mode = "full", boundary: Boundary = "fill",
               fillvalue: object = 0) -> np.ndarray:
    """Convolve two 2-D arrays, like ``scipy.signal.convolve2d``.

    Parameters
    ----------
    in1, in2 : array_like
        2-D inputs.
    %(mode)s
    %(boundary)s

    Returns
    -------
    ndarray
        ``np.result_type(in1, in2)``. In ``'same'`` mode ``in2[(K - 1) // 2]`` sits on
        ``in1[i]`` (the centre of the full result, as scipy).

    Raises
    ------
    ValueError
        For inputs that are not 2-D, a bad ``mode`` or ``boundary``, or a ``fillvalue``
        that is not one number castable to the output dtype.

    Examples
    --------
    >>> from fftconv.signal import convolve2d
    >>> convolve2d([[1, 2], [3, 4]], [[1, 1]], boundary="wrap", mode="same")
    array([[3, 3],
           [7, 7]])
    """
    if _is_dask(in1) or _is_dask(in2):
        raise _dask_refusal("convolve2d")
    return _f.conv2d(in1, in2, mode, boundary, fillvalue, correlate=False)


@_doc
def correlate2d(in1: object, in2: object, mode: Mode = "full", boundary: Boundary = "fill",
                fillvalue: object = 0) -> np.ndarray:
    """Cross-correlate two 2-D arrays, like ``scipy.signal.correlate2d``.

    Beware: in ``'same'`` mode ``in2[(K - 1) // 2]`` sits on ``in1[i]``, whereas
    :func:`correlate` uses ``K // 2`` (they differ for even ``K``; scipy's rule, kept).

    Parameters
    ----------
    in1, in2 : array_like
        2-D inputs.
    %(mode)s
    %(boundary)s

    Returns
    -------
    ndarray
        ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        As for :func:`convolve2d`.

    Examples
    --------
    >>> from fftconv.signal import correlate2d
    >>> correlate2d([[1, 2, 3]], [[1, 10]], mode="same")
    array([[21, 32,  3]])
    """
    if _is_dask(in1) or _is_dask(in2):
        raise _dask_refusal("correlate2d")
    return _f.conv2d(in1, in2, mode, boundary, fillvalue, correlate=True)


def choose_conv_method(in1: object, in2: object, mode: Mode = "full",
                       measure: bool = False) -> str | tuple[str, dict[str, float]]:
    """The method :func:`convolve` would use, like ``scipy.signal.choose_conv_method``.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs.
    mode : {'full', 'same', 'valid'}, optional
        The output mode.
    measure : bool, optional
        Time :func:`convolve` with both methods instead of asking the planner.

    Returns
    -------
    method : {'direct', 'fft'}
        ``'fft'`` when fftconv's planner chooses a transform (whole or blocked). Booleans,
        non-numeric and extended-precision inputs, and integers whose sums float64
        cannot hold exactly, give ``'direct'`` as in scipy.
    times : dict
        With ``measure=True`` only: the returned value is ``(method, times)``, the best
        seconds per call of each method.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.signal import choose_conv_method
    >>> choose_conv_method(np.ones(10), np.ones(3))
    'direct'
    >>> choose_conv_method(np.ones((1024, 1024)), np.ones((63, 63)))
    'fft'
    """
    if _is_dask(in1) or _is_dask(in2):
        raise _dask_refusal("choose_conv_method")
    return _f.choose_method(in1, in2, mode, measure, convolve)
