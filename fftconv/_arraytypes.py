"""Array arguments: their conversion with clear errors, and the array types that
``np.asarray`` would convert with a silent loss, with what to write instead.

The core supports masked arrays (missing data) and dask arrays (lazy) before it converts
its inputs; everything listed here is refused by :func:`as_array` with a ``TypeError``
naming the conversion. Types are recognised by their module and
class name, so no optional library is imported.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable
from typing import SupportsComplex, SupportsFloat, SupportsIndex

import numpy as np

from ._errors import shown
from ._numerics.dtypes import parse_dtype

__all__ = ["FOREIGN_ARRAYS", "as_array", "as_complex", "as_dtype", "as_index", "as_shape",
           "foreign"]

#: Array types ``np.asarray`` would convert with a silent surprise: (top-level module,
#: type name) -> what would be lost, and the conversion to write instead.
FOREIGN_ARRAYS = {
    ("dask", "Array"): (
        "a dask array", "fftconv would load it whole into memory",
        ("pass {n}.compute() to do that, or filter it chunk by chunk with "
        "{n}.map_overlap(...)")),
    ("xarray", "DataArray"): (
        "an xarray.DataArray", ("fftconv returns a plain numpy array and would drop its "
        "coordinates and attributes"),
        ("pass {n}.to_numpy(), or keep the labels with "
        "xarray.apply_ufunc(lambda a: fftconv.convolve(a, kernel, 'same'), {n})")),
    ("torch", "Tensor"): (
        "a torch.Tensor", "fftconv computes on numpy arrays and returns one",
        ("pass {n}.numpy() ({n}.detach().cpu().numpy() for a tensor with gradients or on a "
        "GPU) and convert the result back with torch.from_numpy(...)")),
    ("tensorflow", "Tensor"): (
        "a TensorFlow tensor", "fftconv computes on numpy arrays and returns one",
        "pass {n}.numpy() and convert the result back with tf.convert_to_tensor(...)"),
    ("pandas", "DataFrame"): (
        "a pandas.DataFrame", "fftconv returns a plain numpy array and would drop its index",
        "pass {n}.to_numpy()"),
    ("pandas", "Series"): (
        "a pandas.Series", "fftconv returns a plain numpy array and would drop its index",
        "pass {n}.to_numpy()"),
}


def foreign(a: object) -> tuple[str, str, str] | None:
    """The entry of :data:`FOREIGN_ARRAYS` for ``a``'s type, without importing its library."""
    if isinstance(a, np.ma.MaskedArray):
        return ("a numpy.ma.MaskedArray", "fftconv would ignore its mask",
                ("pass {n}.filled(np.nan) with nan_policy='omit' to leave masked samples "
                "out, or np.asarray({n}) to use the values under the mask"))
    for cls in type(a).__mro__:
        root = cls.__module__.partition(".")[0]
        if root in ("tensorflow", "keras") and ("Tensor" in cls.__name__
                                                 or "Variable" in cls.__name__):
            return FOREIGN_ARRAYS[("tensorflow", "Tensor")]
        entry = FOREIGN_ARRAYS.get((root, cls.__name__))
        if entry is not None:
            return entry
    return None


def as_array(a: object, name: str) -> np.ndarray:
    """``np.asarray`` with a clear error for things that are not numeric arrays.

    An array type that ``np.asarray`` would convert with a silent loss (a masked array's
    mask, a dask array's laziness, an xarray DataArray's coordinates, a tensor's type)
    raises ``TypeError`` naming the conversion to write instead.
    """
    if not isinstance(a, np.ndarray) or type(a) is not np.ndarray:
        found = foreign(a)
        if found is not None:
            kind, loss, fix = found
            raise TypeError(f"{name} is {kind}: {loss}; {fix.format(n=name)}")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged nested sequences and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    return arr


def as_shape(shape: object, name: str) -> tuple[int, ...]:
    """A shape argument (an int or a sequence of non-negative ints) as a tuple."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    array_shape = getattr(shape, "shape", None)
    if isinstance(array_shape, tuple) and not isinstance(shape, np.generic) and (
            len(array_shape) != 1 or getattr(getattr(shape, "dtype", None), "kind", "") not in "iu"):
        raise ValueError(f"{name} is invalid: expected a shape such as x.shape; got "
                         f"{'an' if type(shape).__name__[0] in 'aeinoux' else 'a'} "
                         f"{type(shape).__name__} of shape {array_shape}")
    try:
        if not isinstance(shape, Iterable):
            raise TypeError
        items = list(shape)
        out = tuple(int(s) for s in items)
        ok = all(int(s) == s and s >= 0 for s in items)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name}={shape!r} is invalid; expected a tuple of non-negative ints")
    if math.prod(out) > np.iinfo(np.intp).max:
        raise ValueError(f"{name}={shape!r} is invalid: {math.prod(out):.3g} elements, more "
                         f"than an array can hold ({np.iinfo(np.intp).max:.3g})")
    return out


def as_dtype(dt: object, name: str) -> np.dtype:
    """A dtype argument as a numpy dtype, with the standard error."""
    out = parse_dtype(dt)
    if out is None:
        raise ValueError(f"{name}={shown(dt)} is invalid; expected a numpy dtype")
    return out


def as_index(value: object) -> int:
    """``operator.index(value)`` for any object, with its ``TypeError`` for a non-integer."""
    if isinstance(value, (int, np.integer)):  # before the slower protocol check
        return operator.index(value)
    if not isinstance(value, SupportsIndex):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    return operator.index(value)


def as_complex(value: object) -> complex:
    """``complex(value)`` for any object, with its ``TypeError`` for a non-number."""
    if isinstance(value, (int, float, complex, np.number)):  # before the protocol checks
        return complex(value)
    if not isinstance(value, (str, SupportsComplex, SupportsFloat, SupportsIndex)):
        raise TypeError("complex() first argument must be a string or a number, not "
                        f"'{type(value).__name__}'")
    return complex(value)

