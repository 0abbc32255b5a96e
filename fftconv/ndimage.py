"""Drop-in replacements for scipy.ndimage's linear filters, on fftconv's engine.

Change ``from scipy.ndimage import correlate`` to ``from fftconv.ndimage import
correlate`` and keep the results: signatures, mode names, ``origin``, ``axes``,
``output`` (array or dtype) and the output dtype rules are scipy.ndimage's. Large kernels
run through blocked FFTs chosen by fftconv's planner instead of a direct sum (at 1024x1024
with a 63x63 kernel, 50 to 100 times faster than scipy on the development machine).
``docs/compat.md`` lists every known difference.

ndimage's mode names are kept; in numpy.pad's terms (the names of :func:`fftconv.correlate`):

====================================  ==========================  ======================
ndimage ``mode``                      extension of ``a b c d``    numpy.pad / fftconv
====================================  ==========================  ======================
``'reflect'``, ``'grid-mirror'``      ``b a | a b c d | d c``     ``'symmetric'``
``'mirror'``                          ``c b | a b c d | c b``     ``'reflect'``
``'nearest'``                         ``a a | a b c d | d d``     ``'edge'``
``'wrap'``, ``'grid-wrap'``           ``c d | a b c d | a b``     ``'wrap'``
``'constant'``, ``'grid-constant'``   ``k k | a b c d | k k``     ``'constant'``
====================================  ==========================  ======================

Examples
--------
>>> from fftconv import ndimage
>>> ndimage.correlate1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
array([ 8, 26,  8, 12,  7, 28, 36,  9])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Union

import numpy as np

from . import _ndimage_rules as _f
from ._docs import docfiller
from ._engine import _is_dask

__all__ = ["convolve", "convolve1d", "correlate", "correlate1d"]

Mode = Literal["reflect", "grid-mirror", "mirror", "nearest", "wrap", "grid-wrap",
               "constant", "grid-constant"]
Origin = Union[int, Sequence[int]]

_DOC = {
    "input": """input : array_like
        The input array.""",
    "output": """output : ndarray or dtype, optional
        Array to place the result in (of ``input``'s shape; returned), or its dtype.
        Default: ``input``'s dtype (complex when ``input`` or ``weights`` is complex;
        a real ``output`` dtype is then promoted with a ``UserWarning``). Sums are
        computed in double precision and cast like C: integers truncate toward zero.""",
    "mode": """mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        Extension beyond the edges (default ``'reflect'``, i.e. ``d c b a | a b c d |
        d c b a``); ``'grid-mirror'``, ``'grid-constant'`` and ``'grid-wrap'`` are
        aliases of ``'reflect'``, ``'constant'`` and ``'wrap'``. See the module table.""",
    "cval": """cval : scalar, optional
        Fill value for ``mode='constant'`` (default 0.0); complex only for complex input.""",
    "origin": """origin : int or sequence of int, optional
        Shift of the kernel: ``weights[K // 2 + origin]`` sits on ``input[i]`` (for
        :func:`convolve` too, counting in the unflipped weights). Must satisfy
        ``-(K // 2) <= origin <= (K - 1) // 2``; a sequence gives one per filtered axis.""",
    "axes": """axes : tuple of int, optional
        The filtered axes (default: all). ``weights`` then has ``len(axes)`` dimensions,
        matched to the axes in increasing order; ``origin`` sequences follow ``axes``.""",
    "axis": """axis : int, optional
        The filtered axis (default -1).""",
}


_doc = docfiller(_DOC)


@_doc
def correlate(input: object, weights: object, output: object = None, mode: Mode = "reflect",
              cval: complex = 0.0, origin: Origin = 0, *,
              axes: Sequence[int] | None = None) -> np.ndarray:
    """Multidimensional correlation, like ``scipy.ndimage.correlate``.

    ``y[i] = sum_j conj(weights[j]) * x~[i + j - (K // 2 + origin)]`` per axis.

    Parameters
    ----------
    %(input)s
    weights : array_like
        The kernel (one dimension per filtered axis).
    %(output)s
    %(mode)s
    %(cval)s
    %(origin)s
    %(axes)s

    Returns
    -------
    ndarray
        The result, of ``input``'s shape.

    Raises
    ------
    RuntimeError
        For a bad ``mode``, ``output`` or ``weights`` shape, or a sequence of the wrong
        length (as scipy.ndimage).
    ValueError
        For an ``origin`` outside the kernel or bad ``axes``.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.ndimage import correlate
    >>> correlate(np.arange(6).reshape(2, 3), [[1, 1]], mode="constant")
    array([[0, 1, 3],
           [3, 7, 9]])
    """
    if _is_dask(input) or _is_dask(weights):  # lazy through fftconv.dask, never computed
        from .dask._facades import ndimage_filter

        return ndimage_filter("correlate", input, weights, output, mode, cval, origin, axes,
                              flip=False)
    return _f.filter_nd(input, weights, output, mode, cval, origin, axes, flip=False)


@_doc
def convolve(input: object, weights: object, output: object = None, mode: Mode = "reflect",
             cval: complex = 0.0, origin: Origin = 0, *,
             axes: Sequence[int] | None = None) -> np.ndarray:
    """Multidimensional convolution, like ``scipy.ndimage.convolve``.

    ``y[i] = sum_j weights[j] * x~[i - j + (K // 2 + origin)]`` per axis (no conjugation).

    Parameters
    ----------
    %(input)s
    weights : array_like
        The kernel (one dimension per filtered axis).
    %(output)s
    %(mode)s
    %(cval)s
    %(origin)s
    %(axes)s

    Returns
    -------
    ndarray
        The result, of ``input``'s shape.

    Raises
    ------
    RuntimeError
        As for :func:`correlate`.
    ValueError
        As for :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.ndimage import convolve
    >>> a = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [0, 0, 0, 7], [9, 3, 0, 0]])
    >>> k = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]])
    >>> convolve(a, k, mode="constant", cval=1.0)
    array([[13, 11,  8,  7],
           [11,  3, 11, 14],
           [16, 12, 14, 10],
           [15,  6, 10,  5]])
    """
    if _is_dask(input) or _is_dask(weights):  # lazy through fftconv.dask, never computed
        from .dask._facades import ndimage_filter

        return ndimage_filter("convolve", input, weights, output, mode, cval, origin, axes,
                              flip=True)
    return _f.filter_nd(input, weights, output, mode, cval, origin, axes, flip=True)


@_doc
def correlate1d(input: object, weights: object, axis: int = -1, output: object = None,
                mode: Mode = "reflect", cval: complex = 0.0, origin: int = 0) -> np.ndarray:
    """One-dimensional correlation along ``axis``, like ``scipy.ndimage.correlate1d``.

    Parameters
    ----------
    %(input)s
    weights : array_like
        1-d sequence of numbers.
    %(axis)s
    %(output)s
    %(mode)s
    %(cval)s
    origin : int, optional
        ``weights[K // 2 + origin]`` sits on ``input[i]``.

    Returns
    -------
    ndarray
        The result, of ``input``'s shape.

    Raises
    ------
    RuntimeError
        For empty or multidimensional weights, or a bad ``mode`` or ``output``.
    ValueError
        For an ``origin`` outside the kernel or an ``axis`` out of range.

    Examples
    --------
    >>> from fftconv.ndimage import correlate1d
    >>> correlate1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
    array([ 8, 26,  8, 12,  7, 28, 36,  9])
    """
    if _is_dask(input) or _is_dask(weights):  # lazy through fftconv.dask, never computed
        from .dask._facades import ndimage_filter_1d

        return ndimage_filter_1d("correlate1d", input, weights, axis, output, mode, cval,
                                 origin, flip=False)
    return _f.filter_1d(input, weights, axis, output, mode, cval, origin, flip=False)


@_doc
def convolve1d(input: object, weights: object, axis: int = -1, output: object = None,
               mode: Mode = "reflect", cval: complex = 0.0, origin: int = 0) -> np.ndarray:
    """One-dimensional convolution along ``axis``, like ``scipy.ndimage.convolve1d``.

    Parameters
    ----------
    %(input)s
    weights : array_like
        1-d sequence of numbers.
    %(axis)s
    %(output)s
    %(mode)s
    %(cval)s
    origin : int, optional
        ``weights[K // 2 + origin]`` sits on ``input[i]`` (unflipped indexing).

    Returns
    -------
    ndarray
        The result, of ``input``'s shape.

    Raises
    ------
    RuntimeError
        As for :func:`correlate1d`.
    ValueError
        As for :func:`correlate1d`.

    Examples
    --------
    >>> from fftconv.ndimage import convolve1d
    >>> convolve1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
    array([14, 24,  4, 13, 12, 36, 27,  0])
    """
    if _is_dask(input) or _is_dask(weights):  # lazy through fftconv.dask, never computed
        from .dask._facades import ndimage_filter_1d

        return ndimage_filter_1d("convolve1d", input, weights, axis, output, mode, cval,
                                 origin, flip=True)
    return _f.filter_1d(input, weights, axis, output, mode, cval, origin, flip=True)
