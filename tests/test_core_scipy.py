"""Cross-checks against numpy and scipy, run on the naive reference and on every method.

scipy.signal and numpy give the default anchors and a zero boundary; scipy.ndimage
gives the other boundaries and, through ``origin``, other anchors. Its mode names differ
from numpy's: ndimage 'reflect' is numpy 'symmetric', ndimage 'mirror' is numpy 'reflect'.
"""

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps

import fftconv
from reference import METHODS, assert_close, naive, random_array

IMPLS = ("reference", *METHODS)
NDIMAGE_MODE = {"constant": "constant", "reflect": "mirror", "symmetric": "reflect",
                "edge": "nearest", "wrap": "wrap"}

# (x shape, kernel shape): odd, even, mixed kernels, and kernels larger than the input
SHAPES = [
    ((17,), (5,)), ((16,), (4,)), ((6,), (9,)), ((1,), (3,)),
    ((9, 8), (3, 4)), ((5, 6), (7, 2)), ((4, 5, 6), (3, 2, 3)), ((3, 4, 2), (4, 3, 3)),
]


def run(impl, operation, x, kernel, mode, **options):
    """Compute with the naive reference or with fftconv's method ``impl``."""
    if impl == "reference":
        return naive(x, kernel, mode, operation=operation, **options)
    return getattr(fftconv, operation)(x, kernel, mode, method=impl, **options)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("mode, shapes", [
    (mode, (xs, ks)) for mode in ("full", "same", "valid") for xs, ks in SHAPES
    if mode != "valid" or all(k <= n for n, k in zip(xs, ks))], ids=str)
def test_matches_scipy_signal(impl, operation, mode, dtype, shapes):
    xs, ks = shapes
    rng = np.random.default_rng(0)
    x, k = random_array(xs, dtype, rng), random_array(ks, dtype, rng)
    want = getattr(sps, operation)(x, k, mode, method="direct")
    assert_close(run(impl, operation, x, k, mode), want, x, k)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n, size", [(20, 5), (21, 6), (8, 8)])
def test_matches_numpy_1d(impl, mode, n, size):
    rng = np.random.default_rng(1)
    x, k = random_array(n, np.complex128, rng), random_array(size, np.complex128, rng)
    assert_close(run(impl, "convolve", x, k, mode), np.convolve(x, k, mode), x, k)
    assert_close(run(impl, "correlate", x, k, mode), np.correlate(x, k, mode), x, k)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@pytest.mark.parametrize("boundary", sorted(NDIMAGE_MODE))
@pytest.mark.parametrize("shapes", [((23,), (6,)), ((5,), (12,)), ((1,), (4,)),
                                    ((7, 9), (3, 4)), ((4, 3), (7, 8)), ((3, 4, 5), (2, 3, 4))],
                         ids=str)
def test_matches_ndimage_boundaries_and_anchors(impl, operation, boundary, shapes):
    xs, ks = shapes
    rng = np.random.default_rng(2)
    x, k = random_array(xs, seed=rng), random_array(ks, seed=rng)
    func = getattr(ndi, operation, rng)
    for shift in (-1, 0, 1):
        # ndimage's kernel index on x[i] is K//2 + origin, for correlate and for convolve
        origin = [max(-(s // 2), min((s - 1) // 2, shift)) for s in ks]
        anchor = tuple(s // 2 + o for s, o in zip(ks, origin))
        cval = 1.5 if boundary == "constant" else 0.0  # cval serves only 'constant'
        want = func(x, k, mode=NDIMAGE_MODE[boundary], cval=cval, origin=origin)
        got = run(impl, operation, x, k, "same", boundary=boundary, cval=cval, anchor=anchor)
        assert_close(got, want, x, k, cval=cval)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("axes, kshape", [((1,), (1, 4, 1)), ((0, 2), (3, 1, 2)),
                                          ((-1,), (4, 1, 3)), ((0, 2), (2, 5, 3))], ids=str)
def test_batch_axes_match_fftconvolve(impl, mode, axes, kshape):
    # kernel with x.ndim dims, size 1 (broadcast) or equal on the batch axes
    rng = np.random.default_rng(3)
    x, k = random_array((4, 5, 3), seed=rng), random_array(kshape, seed=rng)
    want = sps.fftconvolve(x, k, mode, axes=axes)
    assert_close(run(impl, "convolve", x, k, mode, axes=axes), want, x, k)
    convolved = sorted(a % 3 for a in axes)
    if all(kshape[d] == 1 for d in range(3) if d not in convolved):
        # the kernel with len(axes) dims is the same problem
        reduced = k.reshape([kshape[d] for d in convolved])
        assert_close(run(impl, "convolve", x, reduced, mode, axes=axes), want, x, k)
