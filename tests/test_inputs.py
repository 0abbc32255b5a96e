"""Input handling: no mutation, memory layouts, odd shapes and dtypes, import cost."""

import subprocess
import sys

import numpy as np
import pytest

import fftconv
from reference import METHODS, assert_close, naive, random_array


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("nan_policy", ["propagate", "omit"])
def test_inputs_are_not_modified(method, nan_policy):
    x, kernel = random_array((30, 20)), random_array((5, 4), seed=1) + 1
    x[3, 4] = np.nan
    x_copy, k_copy = x.copy(), kernel.copy()
    for boundary in ("constant", "reflect", "wrap"):
        fftconv.convolve(x, kernel, "same", method=method, boundary=boundary,
                         nan_policy=nan_policy)
        fftconv.correlate(x, kernel, "full", method=method, boundary=boundary,
                          nan_policy=nan_policy)
        plan = fftconv.plan_correlate(x.shape, kernel, "same", method=method,
                                      nan_policy=nan_policy)
        plan(x)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(kernel, k_copy)


@pytest.mark.parametrize("method", METHODS)
def test_memory_layouts_give_the_same_result(method):
    base, kernel = random_array((40, 50)), random_array((6, 5), seed=1)
    layouts = {
        "read-only": base.copy(),
        "fortran": np.asfortranarray(base),
        "strided": np.repeat(np.repeat(base, 2, axis=0), 3, axis=1)[::2, ::3],
        "reversed": base[::-1, ::-1].copy()[::-1, ::-1],
        "big-endian": base.astype(">f8"),
    }
    layouts["read-only"].setflags(write=False)
    k_strided = np.repeat(kernel, 2, axis=1)[:, ::2]
    want = naive(base, kernel, "same")
    for name, x in layouts.items():
        np.testing.assert_array_equal(x, base)
        got = fftconv.convolve(x, k_strided, "same", method=method)
        assert got.dtype == np.float64, name
        assert_close(got, want, base, kernel)
    kro = kernel.copy()
    kro.setflags(write=False)
    assert_close(fftconv.convolve(base, kro, "same", method=method), want, base, kernel)


@pytest.mark.parametrize("method", METHODS)
def test_batch_axis_views(method):
    # a strided view with batch axes, transposed so the convolved axis is not last
    x = random_array((6, 40, 3)).transpose(1, 0, 2)[:, ::2, :]
    kernel = random_array(7, seed=1)
    got = fftconv.correlate(x, kernel, "same", axes=0, method=method)
    assert_close(got, naive(x, kernel, "same", operation="correlate", axes=0), x, kernel)


def test_sequences_and_scalars_are_accepted():
    np.testing.assert_array_equal(fftconv.convolve([1, 2], [1]), [1, 2])
    np.testing.assert_allclose(fftconv.convolve([1.0, 2.0, 3.0], [0.5, 1.0]), [0.5, 2.0, 3.5, 3.0])


def test_zero_dimensional_inputs_behave_or_fail_clearly():
    try:
        got = fftconv.convolve(np.float64(3.0), np.float64(2.0))
    except ValueError as exc:
        assert "dimension" in str(exc) or "0-d" in str(exc)
    else:
        assert np.shape(got) == () and got == 6.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode, length", [("full", 0), ("same", 0)])
def test_empty_input(method, mode, length):
    try:
        got = fftconv.convolve(np.ones((0, 5)), np.ones((2, 2)), mode, method=method)
    except ValueError as exc:
        assert "empty" in str(exc)
    else:
        assert got.shape[0] == length and got.size == 0


@pytest.mark.parametrize("method", METHODS)
def test_float16_is_computed_in_float32(method):
    x = (np.arange(60) % 7).astype(np.float16) / 4  # exactly representable values
    kernel = np.array([0.5, -1.25, 2.0], dtype=np.float16)
    got = fftconv.convolve(x, kernel, "same", method=method)
    assert got.dtype == np.float32
    assert_close(got, naive(x, kernel, "same"), x, kernel)
    assert fftconv.correlate(x, kernel.astype(np.float64), method=method).dtype == np.float64


def test_import_is_light():
    # heavy dependencies are imported on first use, not by `import fftconv`
    code = ("import sys, fftconv; "
            "print(sorted(m for m in ('numba', 'pyfftw', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
