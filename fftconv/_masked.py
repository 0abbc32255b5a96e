"""``numpy.ma.MaskedArray`` input: masked samples are missing under ``nan_policy``.

- ``propagate``: masked samples are left out of the sums (as zeros), and an output is
  masked when its window (every tap, zero taps included, as for non-finite samples)
  covers a masked sample of the extended input. Unmasked non-finite samples follow the
  usual rule.
- ``omit``: masked and non-finite samples are both missing (normalised convolution); an
  output is masked when no valid sample lies under a non-zero tap (its data is ``nan``).
- ``raise``: a masked sample raises ``ValueError``.

The result is a ``MaskedArray`` (also when nothing is masked). Boundary samples made by
``cval`` are valid; other boundaries extend the mask with the data. A kernel may be a
``MaskedArray`` without masked values; masked kernel values are an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._numerics import counts as _counts

if TYPE_CHECKING:  # pragma: no cover
    from ._plan import Plan

__all__ = ["finish", "kernel_data", "split"]


def kernel_data(kernel: object) -> object:
    """The kernel's data; masked kernel values are refused (they have no meaning)."""
    if not isinstance(kernel, np.ma.MaskedArray):
        return kernel
    if np.ma.is_masked(kernel):
        raise ValueError("kernel is a masked array with masked values; a kernel tap cannot "
                         "be missing: fill them first, e.g. kernel.filled(0)")
    return np.ma.getdata(kernel)


def split(x: np.ma.MaskedArray, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """(data with masked samples as 0, mask) of a masked input, checked against the plan."""
    p = plan.problem
    mask = np.ma.getmaskarray(x)
    if p.nan_policy == "raise" and mask.any():
        raise ValueError("x has masked samples (nan_policy='raise'); use "
                         "nan_policy='propagate' or 'omit' to accept them")
    if p.nan_policy == "omit" and p.compute_dtype.kind not in "fc":
        raise TypeError(f"nan_policy='omit' on a masked {np.ma.getdata(x).dtype} array needs "
                        "floating point (the result is a ratio of sums); pass "
                        "dtype='float64'")
    data = np.ma.getdata(x)
    if mask.any():
        data = np.where(mask, np.zeros((), data.dtype), data)
    return data, mask


def _canonical_mask(plan: Plan, mask: np.ndarray) -> np.ndarray:
    p = plan.problem
    mt = mask if p.order is None else mask.transpose(p.order)
    return np.ascontiguousarray(mt.reshape((p.batch, *p.n)))


def _result_mask(plan: Plan, flags: np.ndarray) -> np.ndarray:
    p = plan.problem
    m = flags.reshape(tuple(p.x_shape[a] for a in p.batch_axes) + p.out_len)
    if p.order is not None:
        m = m.transpose(np.argsort(p.order))
    return np.ascontiguousarray(m)


def finish(plan: Plan, xb: np.ndarray, mask: np.ndarray,
           out: np.ndarray | None) -> np.ma.MaskedArray:
    """Compute the plan for the canonical data ``xb`` and the user-order ``mask``."""
    p = plan.problem
    mb = _canonical_mask(plan, mask)
    outb = np.empty((p.batch, *p.out_len), p.compute_dtype)
    if outb.size == 0:
        flags = np.zeros(outb.shape, np.bool_)
    elif p.nan_policy == "omit":
        empty = plan._missing().run(xb, outb, masked=mb)
        assert empty is not None  # given ``masked``, run returns the outputs left empty
        flags = empty
    else:  # masked samples are zeros; the footprint of the mask masks the output
        plan._compute(xb, outb)
        ext = plan._missing()._ext(mb, False)
        flags = _counts.box_counts(ext, p.k) > 0
    y = plan._result(outb, out)
    return np.ma.MaskedArray(y, mask=_result_mask(plan, flags), copy=False)
