"""fftconv.kernels against scipy.ndimage and closed-form or sampled references."""

import ast
import doctest
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

import fftconv.data
from fftconv import kernels
from fftconv.kernels import box, disk, gaussian, laplacian_of_gaussian, motion, normalize


def delta_response(filt, sigma, truncate, ndim):
    """Apply an ndimage filter to a delta image larger than any kernel it can use."""
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (ndim,))
    shape = tuple(2 * math.ceil(truncate * s) + 7 for s in sig)
    x = np.zeros(shape)
    x[tuple(n // 2 for n in shape)] = 1.0
    return filt(x, sigma, mode="constant", truncate=truncate)


def centred(k, shape):
    """Zero-pad an odd-sized kernel to ``shape`` around the same centre."""
    pad = [((n - m) // 2, (n - m) // 2) for n, m in zip(shape, k.shape)]
    assert all(lo >= 0 for lo, _ in pad)
    return np.pad(k, pad)


GAUSSIAN_CASES = [
    (0.5, 4.0, 2), (1.0, 4.0, 2), (2.3, 4.0, 2), (3.0, 2.5, 2), (1.7, 4.0, 1),
    ((1.5, 3.0), 4.0, 2), ((1.0, 2.0, 0.7), 3.0, 3), (0.3, 1.0, 2),
]


@pytest.mark.parametrize("sigma, truncate, ndim", GAUSSIAN_CASES)
def test_gaussian_equals_gaussian_filter_of_delta(sigma, truncate, ndim):
    k = gaussian(sigma, truncate=truncate, ndim=ndim)
    ref = delta_response(ndimage.gaussian_filter, sigma, truncate, ndim)
    assert k.dtype == np.float64 and k.ndim == ndim
    assert_allclose(centred(k, ref.shape), ref, rtol=0, atol=1e-15)
    assert k.sum() == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("sigma, truncate, ndim", GAUSSIAN_CASES)
def test_log_equals_gaussian_laplace_of_delta(sigma, truncate, ndim):
    k = laplacian_of_gaussian(sigma, truncate=truncate, ndim=ndim)
    ref = delta_response(ndimage.gaussian_laplace, sigma, truncate, ndim)
    assert k.shape == gaussian(sigma, truncate=truncate, ndim=ndim).shape
    assert_allclose(centred(k, ref.shape), ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_gaussian_closed_form_and_radius():
    # radius int(4 * 1.5 + 0.5) = 6; weights exp(-x^2 / 4.5), normalised.
    x = np.arange(-6, 7)
    w = np.exp(-x**2 / 4.5)
    assert_allclose(gaussian(1.5, ndim=1), w / w.sum(), rtol=1e-14)
    assert gaussian(1.0).shape == (9, 9)
    assert gaussian(1.0, truncate=0.4).shape == (1, 1)  # int(0.9) = 0


def test_gaussian_is_separable_and_symmetric():
    k = gaussian((1.2, 2.5))
    assert_allclose(k, np.outer(gaussian(1.2, ndim=1), gaussian(2.5, ndim=1)), rtol=1e-14)
    assert_array_equal(k, k[::-1, ::-1])
    assert_array_equal(k, k[::-1, :])


def test_gaussian_sigma_zero_is_identity():
    assert_array_equal(gaussian(0), [[1.0]])
    assert_array_equal(gaussian((0, 1.0)).shape, (1, 9))


def test_log_closed_form_2d():
    s = 1.3
    g = gaussian(s, ndim=1)
    x = np.arange(-(g.size // 2), g.size // 2 + 1)
    r2 = x[:, None] ** 2 + x[None, :] ** 2
    expected = np.outer(g, g) * (r2 / s**4 - 2 / s**2)
    assert_allclose(laplacian_of_gaussian(s), expected, rtol=1e-12, atol=1e-17)


def test_box():
    assert_array_equal(box(3), np.full((3, 3), 1 / 9))
    assert_array_equal(box((2, 5)), np.full((2, 5), 0.1))
    assert box(4, ndim=3).shape == (4, 4, 4)
    assert box(np.int64(5), ndim=1).dtype == np.float64
    assert box([1]).shape == (1,)


def disk_by_sampling(radius, n=200):
    """Coverage of each unit square by the disk, from n x n sample points per square."""
    h = math.ceil(radius + 0.5) - 1
    c = np.arange((2 * h + 1) * n) / n + (0.5 / n) - h - 0.5
    inside = (c[:, None] ** 2 + c[None, :] ** 2) <= radius**2
    return inside.reshape(2 * h + 1, n, 2 * h + 1, n).mean(axis=(1, 3))


@pytest.mark.parametrize("radius", [0.3, 0.75, 1.0, 2.5, 4.2, 7.0])
def test_disk_is_pixel_coverage(radius):
    k = disk(radius)
    coverage = disk_by_sampling(radius)
    assert k.shape == coverage.shape and k.shape[0] % 2 == 1
    assert_allclose(k * (np.pi * radius**2), coverage, atol=4e-4)
    assert k.sum() == pytest.approx(1.0, abs=1e-14)
    assert_allclose(k, k.T, atol=1e-15)
    assert_allclose(k, k[::-1, ::-1], atol=1e-15)


def test_disk_closed_form_unit_radius():
    # Square [1/2, 3/2] x [-1/2, 1/2] inside the unit circle: 2 * int_0^1/2 (sqrt(1-y^2) - 1/2) dy.
    edge = 2 * (0.5 * (0.5 * math.sqrt(0.75) + math.asin(0.5)) - 0.25)
    corner = (math.pi - 1 - 4 * edge) / 4
    expected = np.array([[corner, edge, corner], [edge, 1, edge], [corner, edge, corner]])
    assert_allclose(disk(1.0), expected / math.pi, rtol=1e-13)


def test_disk_sizes():
    assert disk(0.5).shape == (1, 1)
    assert disk(0.51).shape == (3, 3)
    assert disk(31).shape == disk(31.5).shape == (63, 63)
    assert disk(31.51).shape == (65, 65)


def motion_by_sampling(length, angle, shape, m=400_000):
    """Fraction of m evenly spaced points of the segment falling in each unit square."""
    t = (np.arange(m) + 0.5) / m * length - length / 2
    a = np.radians(angle)
    rows = np.rint(-t * np.sin(a)).astype(int) + shape[0] // 2
    cols = np.rint(t * np.cos(a)).astype(int) + shape[1] // 2
    out = np.zeros(shape)
    np.add.at(out, (rows, cols), 1.0 / m)
    return out


@pytest.mark.parametrize("length, angle", [
    (9, 0), (8.5, 10), (15, 30), (20, 45), (12.3, 77), (31, 90), (25, 123), (17, 200), (63, 30),
])
def test_motion_is_segment_coverage(length, angle):
    k = motion(length, angle)
    assert k.dtype == np.float64 and k.ndim == 2
    assert k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1
    assert_allclose(k, motion_by_sampling(length, angle, k.shape), atol=2e-5)
    assert k.sum() == pytest.approx(1.0, abs=1e-14)
    assert_allclose(k, k[::-1, ::-1], atol=1e-14)  # centred segment
    # Smallest box: the outer rows and columns are used.
    assert k[0].any() and k[-1].any() and k[:, 0].any() and k[:, -1].any()


def test_motion_axis_aligned_exact():
    assert_allclose(motion(9, 0), np.full((1, 9), 1 / 9), rtol=1e-14)
    assert_allclose(motion(4, 0), [[0.125, 0.25, 0.25, 0.25, 0.125]], rtol=1e-14)
    assert_allclose(motion(9, 90), np.full((9, 1), 1 / 9), rtol=1e-14)
    assert_allclose(motion(9, 180), motion(9, 0), atol=1e-15)
    assert_array_equal(motion(0, 33), [[1.0]])
    assert_array_equal(motion(0.8, 0), [[1.0]])


def test_motion_orientation():
    # 45 degrees counter-clockwise with rows pointing down: up and to the right.
    k = motion(7 * math.sqrt(2), 45)
    assert k.shape == (7, 7)
    assert_allclose(k, np.fliplr(np.eye(7)) / 7, atol=1e-12)
    assert_array_equal(k != 0, np.fliplr(np.eye(7)))  # no slivers where the line meets corners
    k = motion(10, 20)
    assert_allclose(motion(10, -20), k[::-1, :], atol=1e-14)  # mirror in the x axis
    assert_allclose(motion(10, 70), k.T, atol=1e-14)  # mirror in the diagonal


def test_normalize():
    k = np.array([[1, 2], [3, 4]])
    out = normalize(k)
    assert out.dtype == np.float64
    assert_allclose(out, k / 10, rtol=1e-15)
    assert_array_equal(k, [[1, 2], [3, 4]])  # input untouched
    assert_array_equal(normalize([True, True]), [0.5, 0.5])
    assert_allclose(normalize(np.float32([1, 3])), [0.25, 0.75], rtol=1e-15)
    with pytest.raises(ValueError, match="sums to"):
        normalize([1.0, -1.0])
    with pytest.raises(ValueError, match="sums to"):
        normalize([])
    with pytest.raises(ValueError, match="sums to"):
        normalize([1.0, np.nan])
    with pytest.raises(TypeError, match="complex"):
        normalize([1j])


@pytest.mark.parametrize("call, text", [
    (lambda: gaussian(-1.0), "sigma=-1.0"),
    (lambda: gaussian(float("nan")), "sigma=nan"),
    (lambda: gaussian("2"), "sigma='2'"),
    (lambda: gaussian((1.0, -2.0)), "sigma=-2.0"),
    (lambda: gaussian(1.0, truncate=-1), "truncate=-1"),
    (lambda: gaussian(1.0, ndim=0), "ndim=0"),
    (lambda: gaussian(1.0, ndim=2.0), "ndim=2.0"),
    (lambda: gaussian((1.0, 2.0), ndim=3), "sigma=(1.0, 2.0) has 2 entries but ndim=3"),
    (lambda: gaussian([[1.0]]), "sigma=[[1.0]]"),
    (lambda: gaussian([]), "sigma=[]"),
    (lambda: laplacian_of_gaussian(0.0), "sigma=0.0"),
    (lambda: laplacian_of_gaussian(1.0, truncate=float("inf")), "truncate=inf"),
    (lambda: box(0), "size=0"),
    (lambda: box(2.5), "size=2.5"),
    (lambda: box((3, -1)), "size=-1"),
    (lambda: box(True), "size=True"),
    (lambda: disk(0), "radius=0"),
    (lambda: disk(-2.0), "radius=-2.0"),
    (lambda: motion(-1, 0), "length=-1"),
    (lambda: motion(5, float("inf")), "angle=inf"),
    (lambda: motion(5, "up"), "angle='up'"),
])
def test_bad_arguments_name_parameter_and_value(call, text):
    with pytest.raises(ValueError) as info:
        call()
    assert text in str(info.value)


@pytest.mark.parametrize("module", [kernels, fftconv.data])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_sample_image():
    from fftconv.data import sample_image

    rgb = sample_image()
    gray = sample_image(gray=True)
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8
    assert gray.shape == (512, 512) and gray.dtype == np.uint8
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert np.abs(gray - luma).max() <= 0.5 + 1e-9
    assert rgb.std() > 30  # a photograph, not a blank array
    rgb[0, 0] = 0  # a fresh, writable copy each call
    assert sample_image().flags.writeable


def test_module_imports_only_numpy():
    tree = ast.parse(Path(kernels.__file__).read_text())
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    allowed = {"__future__", "collections", "math", "numbers", "operator", "typing", "numpy"}
    assert imported <= allowed
