"""dask-image's ``dask_image.ndfilters.convolve``/``correlate``, on fftconv's engine.

Same signatures, defaults, output dtype (the image's, integers truncated as
``scipy.ndimage`` does) and exceptions; change one import::

    from fftconv.dask import ndfilters   # was: from dask_image import ndfilters

Mode names are scipy.ndimage's (its ``'reflect'`` is numpy's ``'symmetric'``). Every mode
is applied at the true edges of the whole array, whatever the chunking.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np

from ._api import is_dask, run
from ._core import nd_rules, ndimage_anchor, ndimage_boundary, ndimage_check_cval

__all__ = ["convolve", "correlate"]

Mode = Literal["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror",
               "grid-constant", "grid-wrap"]


def _origin(shape: tuple[int, ...], origin: object) -> tuple[int, ...]:
    """dask-image's origin rules (and its exception types), then scipy's bounds."""
    ndim = len(shape)
    if isinstance(origin, numbers.Number):
        origin = ndim * (origin,)
    arr = np.array(origin)
    if not issubclass(arr.dtype.type, numbers.Integral):
        raise TypeError(f"origin={origin!r} is invalid: the origin must be of integral type")
    if arr.ndim != 1:
        raise RuntimeError(f"origin={origin!r} is invalid: the origin must have only one "
                           "dimension")
    if len(arr) != ndim:
        raise RuntimeError(f"origin={origin!r} is invalid: the origin must have the same "
                           f"length as the number of dimensions ({ndim}) as the array being "
                           "filtered")
    if not (arr < (np.array(shape) + 1) // 2).all():
        raise ValueError(f"origin={origin!r} is invalid: the origin must be within the "
                         f"footprint of weights with shape {shape}")
    return tuple(int(o) for o in arr)


def _filter(image: Any, weights: Any, mode: object, cval: object, origin: object,
            flip: bool) -> Any:
    import dask.array as da

    if is_dask(weights) or type(weights) is not np.ndarray and not np.isscalar(weights) \
            and hasattr(weights, "__array_namespace__") and not isinstance(weights, np.ndarray):
        raise ValueError("Array types must be compatible: weights must be an in-memory "
                         f"numpy array, not {type(weights).__name__}")
    if not isinstance(image, da.Array):
        image = da.asarray(image)
    w = np.asarray(weights)
    if w.ndim != image.ndim:
        raise ValueError(f"weights with shape {w.shape} are invalid: expected {image.ndim} "
                         f"dimensions, like the image (shape {image.shape})")
    origins = _origin(w.shape, origin)
    if 0 in w.shape:
        raise ValueError(f"weights with shape {w.shape} are invalid: no filter weights given")
    ndimage_check_cval(np.empty(0, image.dtype), w, cval)
    anchors = tuple(ndimage_anchor(k, o) for k, o in zip(w.shape, origins))
    bnd = ndimage_boundary(mode)
    complex_out = image.dtype.kind == "c" or w.dtype.kind == "c"
    out_dtype = np.dtype(np.promote_types(image.dtype, np.complex64) if complex_out
                         else image.dtype)
    cv = nd_rules.cval_number(cval, image.dtype.kind == "c")
    real = None if isinstance(cv, complex) else cv
    options = dict(mode="same", axes=None, boundary=bnd, anchor=anchors if image.ndim else None,
                   effort="estimate", workers=None, nan_policy="propagate", max_memory=None,
                   chunks="auto")
    if (real is not None and image.dtype.kind in "biu" and w.dtype.kind in "biu"
            and (bnd != "constant" or real.is_integer())):
        # integer sums are exact integers, whatever the method
        res = run(image, w, flip=flip, conjugate=False, method="auto", dtype=None,
                  cval=int(real) if bnd == "constant" else 0, **options)
    else:
        # Integer outputs truncate: the direct sum truncates exactly as ndimage's does.
        res = run(image, w, flip=flip, conjugate=False,
                  method="direct" if out_dtype.kind in "biu" else "auto",
                  dtype=np.complex128 if complex_out else np.float64,
                  cval=cv if bnd == "constant" else 0, **options)
    if out_dtype.kind == "b" and res.dtype.kind == "f":
        res = da.trunc(res)
    return res.astype(out_dtype)


def convolve(image: Any, weights: Any, mode: Mode = "reflect", cval: float = 0.0,
             origin: int | tuple[int, ...] = 0) -> Any:
    """Multidimensional convolution of a dask array (``scipy.ndimage.convolve``, lazily).

    Parameters
    ----------
    image : dask.array.Array
        The image.
    weights : numpy.ndarray
        Array of weights, same number of dimensions as ``image``.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        scipy.ndimage's boundary modes (``'reflect'``: ``d c b a | a b c d | d c b a``).
    cval : scalar, optional
        Value past the edges for ``mode='constant'``.
    origin : int or sequence of int, optional
        Placement of the filter, as in scipy.ndimage.

    Returns
    -------
    dask.array.Array
        The lazy result, with ``image``'s dtype.
    """
    return _filter(image, weights, mode, cval, origin, True)


def correlate(image: Any, weights: Any, mode: Mode = "reflect", cval: float = 0.0,
              origin: int | tuple[int, ...] = 0) -> Any:
    """Multidimensional correlation of a dask array (``scipy.ndimage.correlate``, lazily).

    Parameters
    ----------
    image : dask.array.Array
        The image.
    weights : numpy.ndarray
        Array of weights, same number of dimensions as ``image``.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        scipy.ndimage's boundary modes (``'reflect'``: ``d c b a | a b c d | d c b a``).
    cval : scalar, optional
        Value past the edges for ``mode='constant'``.
    origin : int or sequence of int, optional
        Placement of the filter, as in scipy.ndimage.

    Returns
    -------
    dask.array.Array
        The lazy result, with ``image``'s dtype.
    """
    return _filter(image, weights, mode, cval, origin, False)
