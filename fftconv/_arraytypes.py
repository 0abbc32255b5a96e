"""Array types that ``np.asarray`` would convert with a silent loss, and what to write.

The core supports masked arrays (missing data) and dask arrays (lazy) before it converts
its inputs; everything listed here is refused by :func:`fftconv._validate.as_array`
with a ``TypeError`` naming the conversion. Types are recognised by their module and
class name, so no optional library is imported.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FOREIGN_ARRAYS", "foreign"]

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
