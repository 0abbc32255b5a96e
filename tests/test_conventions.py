"""Every row of docs/conventions.md, checked against scipy, numpy and OpenCV.

Each test reproduces another library's call with the fftconv arguments the document
states (function for the flip, ``conjugate``, ``anchor``, ``boundary``), for even and
odd kernel lengths, so a one-sample misalignment fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps

import fftconv
from reference import METHODS

DOC = Path(__file__).resolve().parent.parent / "docs" / "conventions.md"

KERNEL_LENGTHS = (4, 5)  # even, odd
SIGNAL_LENGTHS = (10, 11)
KERNEL_SHAPES = ((3, 3), (4, 4), (4, 5), (2, 7))

# scipy.ndimage mode -> numpy.pad name (the ndimage rows of the boundary table).
NDIMAGE_MODES = {
    "reflect": "symmetric",
    "grid-mirror": "symmetric",
    "mirror": "reflect",
    "nearest": "edge",
    "wrap": "wrap",
    "grid-wrap": "wrap",
    "constant": "constant",
    "grid-constant": "constant",
}
# scipy.signal.convolve2d / correlate2d boundary -> numpy.pad name.
SIGNAL2D_BOUNDARIES = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}
# fftconv aliases -> canonical name.
ALIASES = {
    "fill": "constant",
    "zeros": "constant",
    "mirror": "reflect",
    "symm": "symmetric",
    "nearest": "edge",
    "replicate": "edge",
    "circular": "wrap",
    "periodic": "wrap",
}


def random(shape, *, complex_=False, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if complex_ else a


def close(actual, desired, tol=1e-10):
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert (actual.shape, actual.dtype) == (desired.shape, desired.dtype)
    np.testing.assert_allclose(actual, desired, rtol=tol, atol=tol)


def origins(kernel_length):
    """The smallest, zero and largest origin scipy.ndimage accepts."""
    return sorted({-(kernel_length // 2), 0, (kernel_length - 1) // 2})


def nn_same(x, k):
    """Naive TF/keras/torch 'same' correlation: zero pad (K-1)//2 before, K//2 after."""
    padded = np.pad(x, [((n - 1) // 2, n // 2) for n in k.shape])
    windows = np.lib.stride_tricks.sliding_window_view(padded, k.shape)
    return (windows * k).sum(axis=tuple(range(-k.ndim, 0)))


# -- scipy.signal ------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("n", SIGNAL_LENGTHS)
@pytest.mark.parametrize("K", KERNEL_LENGTHS)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_signal_correlate_convolve_1d(mode, K, n, complex_, method):
    x = random(n, complex_=complex_)
    k = random(K, complex_=complex_, seed=1)
    close(fftconv.correlate(x, k, mode, method=method), sps.correlate(x, k, mode))
    close(fftconv.convolve(x, k, mode, method=method), sps.convolve(x, k, mode))
    if mode == "same":
        close(
            fftconv.correlate(x, k, mode, anchor=K // 2, method=method),
            sps.correlate(x, k, mode),
        )
        close(
            fftconv.convolve(x, k, mode, anchor=(K - 1) // 2, method=method),
            sps.convolve(x, k, mode),
        )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_signal_correlate_convolve_nd(mode, kshape, method):
    x = random((9, 10), complex_=True)
    k = random(kshape, complex_=True, seed=1)
    close(fftconv.correlate(x, k, mode, method=method), sps.correlate(x, k, mode))
    close(fftconv.convolve(x, k, mode, method=method), sps.convolve(x, k, mode))
    if mode == "same":
        anchor = tuple(n // 2 for n in kshape)
        close(
            fftconv.correlate(x, k, mode, anchor=anchor, method=method),
            sps.correlate(x, k, mode),
        )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("boundary", SIGNAL2D_BOUNDARIES)
@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
@pytest.mark.parametrize("mode", ["full", "same"])
def test_signal_2d_with_boundary(mode, kshape, boundary, method):
    x = random((9, 10), complex_=True)
    k = random(kshape, complex_=True, seed=1)
    name = SIGNAL2D_BOUNDARIES[boundary]
    options = dict(boundary=name, cval=1.5 if name == "constant" else 0, method=method)
    close(
        fftconv.convolve(x, k, mode, **options),
        sps.convolve2d(x, k, mode, boundary=boundary, fillvalue=1.5),
    )
    if mode == "same":
        options["anchor"] = tuple((n - 1) // 2 for n in kshape)
    close(
        fftconv.correlate(x, k, mode, **options),
        sps.correlate2d(x, k, mode, boundary=boundary, fillvalue=1.5),
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
def test_signal_2d_valid(kshape, method):
    x = random((9, 10), complex_=True)
    k = random(kshape, complex_=True, seed=1)
    close(fftconv.convolve(x, k, "valid", method=method), sps.convolve2d(x, k, "valid"))
    close(fftconv.correlate(x, k, "valid", method=method), sps.correlate2d(x, k, "valid"))


@pytest.mark.parametrize("K", KERNEL_LENGTHS)
def test_correlate_and_correlate2d_differ_by_one_sample_for_even_kernels(K):
    x = random(12)
    k = random(K, seed=1)
    one_d = sps.correlate(x, k, "same")
    two_d = sps.correlate2d(x[None], k[None], "same")[0]
    close(fftconv.correlate(x, k, "same", anchor=(K - 1) // 2), two_d)
    if K % 2:
        close(one_d, two_d)
    else:
        close(two_d[:-1], one_d[1:])


# -- scipy.ndimage -----------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", NDIMAGE_MODES)
@pytest.mark.parametrize("K", KERNEL_LENGTHS)
def test_ndimage_1d_every_mode_and_origin(K, mode, method):
    x = random(11)
    k = random(K, seed=1)
    name = NDIMAGE_MODES[mode]
    for origin in origins(K):
        options = dict(boundary=name, cval=1.5 if name == "constant" else 0,
                       anchor=K // 2 + origin, method=method)
        close(
            fftconv.correlate(x, k, "same", **options),
            ndi.correlate(x, k, mode=mode, cval=1.5, origin=origin),
        )
        close(
            fftconv.convolve(x, k, "same", **options),
            ndi.convolve(x, k, mode=mode, cval=1.5, origin=origin),
        )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", NDIMAGE_MODES)
@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
def test_ndimage_2d_every_mode_and_origin(kshape, mode, method):
    x = random((12, 13))
    k = random(kshape, seed=1)
    name = NDIMAGE_MODES[mode]
    lo = tuple(min(origins(n)) for n in kshape)
    hi = tuple(max(origins(n)) for n in kshape)
    for origin in [(0, 0), lo, hi, (lo[0], hi[1])]:
        anchor = tuple(n // 2 + o for n, o in zip(kshape, origin))
        options = dict(boundary=name, cval=-0.5 if name == "constant" else 0, anchor=anchor, method=method)
        close(
            fftconv.correlate(x, k, "same", **options),
            ndi.correlate(x, k, mode=mode, cval=-0.5, origin=origin),
        )
        close(
            fftconv.convolve(x, k, "same", **options),
            ndi.convolve(x, k, mode=mode, cval=-0.5, origin=origin),
        )


@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
def test_ndimage_complex_conjugates_in_correlate_only(kshape):
    x = random((12, 13), complex_=True)
    k = random(kshape, complex_=True, seed=1)
    anchor = tuple(n // 2 for n in kshape)
    close(
        fftconv.correlate(x, k, "same", boundary="symmetric", anchor=anchor),
        ndi.correlate(x, k),
    )
    close(
        fftconv.convolve(x, k, "same", boundary="symmetric", anchor=anchor),
        ndi.convolve(x, k),
    )


@pytest.mark.parametrize("mode", NDIMAGE_MODES)
def test_ndimage_through_several_overlap_blocks(mode):
    x = random((200, 210))
    k = random((4, 5), seed=1)
    name = NDIMAGE_MODES[mode]
    for origin in [(-2, 2), (1, -2)]:
        anchor = tuple(n // 2 + o for n, o in zip(k.shape, origin))
        options = dict(boundary=name, cval=2.5 if name == "constant" else 0, anchor=anchor, method="overlap")
        for plan_function, reference in [
            (fftconv.plan_correlate, ndi.correlate),
            (fftconv.plan_convolve, ndi.convolve),
        ]:
            plan = plan_function(x.shape, k, "same", **options)
            assert any(b < n for b, n in zip(plan.block_shape, x.shape)), "one block only"
            close(plan(x), reference(x, k, mode=mode, cval=2.5, origin=origin))


# -- OpenCV ------------------------------------------------------------------------

# cv2 border name -> numpy.pad name; BORDER_WRAP is checked separately (filter2D
# rejects it).
CV2_BORDERS = {
    "BORDER_CONSTANT": "constant",
    "BORDER_REPLICATE": "edge",
    "BORDER_REFLECT": "symmetric",
    "BORDER_REFLECT_101": "reflect",
}


def cv2_anchors(kshape):
    """(cv2 anchor point (x, y), fftconv anchor (row, column)) pairs."""
    k0, k1 = kshape
    return [
        ((-1, -1), (k0 // 2, k1 // 2)),
        ((0, k0 - 1), (k0 - 1, 0)),
        ((k1 - 1, 0), (0, k1 - 1)),
    ]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("border", CV2_BORDERS)
@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
def test_cv2_filter2d(kshape, border, method):
    import cv2
    x = random((12, 13))
    k = random(kshape, seed=1)
    for point, anchor in cv2_anchors(kshape):
        expected = cv2.filter2D(x, -1, k, anchor=point, borderType=getattr(cv2, border))
        close(
            fftconv.correlate(
                x, k, "same", boundary=CV2_BORDERS[border], anchor=anchor, method=method
            ),
            expected,
        )


@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
def test_cv2_default_border_is_numpy_reflect(kshape):
    import cv2
    x = random((12, 13))
    k = random(kshape, seed=1)
    close(fftconv.correlate(x, k, "same", boundary="reflect"), cv2.filter2D(x, -1, k))


@pytest.mark.parametrize("kshape", KERNEL_SHAPES)
def test_cv2_border_wrap(kshape):
    import cv2
    x = random((12, 13))
    k = random(kshape, seed=1)
    (top, left) = (n // 2 for n in kshape)
    (bottom, right) = (n - 1 - n // 2 for n in kshape)
    padded = cv2.copyMakeBorder(x, top, bottom, left, right, cv2.BORDER_WRAP)
    expected = cv2.filter2D(padded, -1, k, borderType=cv2.BORDER_CONSTANT)
    expected = expected[top : top + x.shape[0], left : left + x.shape[1]]
    close(fftconv.correlate(x, k, "same", boundary="wrap"), expected)


@pytest.mark.parametrize("border", CV2_BORDERS)
@pytest.mark.parametrize("kshape", [(4, 5), (12, 11)])  # 11x11 and up: cv2 uses a DFT
def test_cv2_filter2d_float32(kshape, border):
    import cv2
    x = random((40, 37)).astype(np.float32)
    k = random(kshape, seed=1).astype(np.float32)
    point, anchor = cv2_anchors(kshape)[1]
    expected = cv2.filter2D(x, -1, k, anchor=point, borderType=getattr(cv2, border))
    y = fftconv.correlate(x, k, "same", boundary=CV2_BORDERS[border], anchor=anchor)
    assert y.dtype == np.float32
    close(y, expected, tol=1e-4)


# -- neural-network convention and conjugation -------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(4,), (5,), *KERNEL_SHAPES])
def test_nn_same_and_valid(shape, method):
    x = random((12, 13)[: len(shape)], complex_=True)
    k = random(shape, complex_=True, seed=1)
    anchor = tuple((n - 1) // 2 for n in shape)
    close(
        fftconv.correlate(x, k, "same", conjugate=False, anchor=anchor, method=method),
        nn_same(x, k),
    )
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    close(
        fftconv.correlate(x, k, "valid", conjugate=False, method=method),
        (windows * k).sum(axis=tuple(range(-k.ndim, 0))),
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("K", KERNEL_LENGTHS)
def test_conjugation(K, method):
    x = random(11, complex_=True)
    k = random(K, complex_=True, seed=1)
    conjugated = fftconv.correlate(x, k, method=method)
    close(conjugated, np.correlate(x, k, "full"))
    close(fftconv.correlate(x, k, conjugate=True, method=method), conjugated)
    close(fftconv.correlate(x, k, conjugate=False, method=method), sps.correlate(x, k.conj()))
    close(fftconv.convolve(x, k, method=method), np.convolve(x, k))
    close(conjugated, fftconv.convolve(x, k[::-1].conj(), method=method))
    # 'same': correlating with anchor a is convolving the flipped kernel with K-1-a.
    for a in range(K):
        close(
            fftconv.correlate(x, k, "same", anchor=a, method=method),
            fftconv.convolve(x, k[::-1].conj(), "same", anchor=K - 1 - a, method=method),
        )


# -- boundary diagrams -------------------------------------------------------------

DIAGRAM = re.compile(r"^'(\w+)'\s+([a-z ]+)\|([a-z ]+)\|([a-z ]+?)\s*(\(.*\))?$")


def doc_diagrams():
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = DIAGRAM.match(line)
        if match:
            name, *parts = match.groups()[:4]
            rows[name] = " ".join(part.strip() for part in parts).split()
    return rows


def test_doc_diagrams_match_numpy_pad():
    rows = doc_diagrams()
    assert sorted(rows) == ["constant", "edge", "reflect", "symmetric", "wrap"]
    for name, letters in rows.items():
        extra = {"constant_values": -1} if name == "constant" else {}
        expected = ["abcd"[i] if i >= 0 else "k" for i in np.pad(np.arange(4), 3, name, **extra)]
        assert letters == expected, name


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("K", [4, 7, 10])  # 10: the extension is wider than the input
@pytest.mark.parametrize("name", ["constant", "reflect", "symmetric", "edge", "wrap"])
def test_full_mode_reads_the_boundary_rule(name, K, method):
    x = np.array([1.0, 2.0, 3.0, 4.0])
    extra = {"constant_values": 9.0} if name == "constant" else {}
    extended = np.pad(x, K - 1, name, **extra)
    first, last = np.eye(K)[0], np.eye(K)[-1]
    options = dict(boundary=name, cval=9.0 if name == "constant" else 0, method=method)
    close(fftconv.correlate(x, first, "full", **options), extended[: x.size + K - 1])
    close(fftconv.correlate(x, last, "full", **options), extended[K - 1 :])


@pytest.mark.parametrize("alias", ALIASES)
def test_boundary_aliases(alias):
    x = random((9, 10))
    k = random((4, 3), seed=1)
    for mode in ("full", "same"):
        close(
            fftconv.correlate(x, k, mode, boundary=alias),
            fftconv.correlate(x, k, mode, boundary=ALIASES[alias]),
        )
