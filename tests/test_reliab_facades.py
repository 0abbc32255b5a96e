"""Façade corners where fftconv disagreed with scipy, and the core's nan_policy='raise'
and fftconv.nn's FFT path with non-finite values."""

import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps

import fftconv
import fftconv.ndimage as fnd
import fftconv.nn as fnn
import fftconv.signal as fsig


# ------------------------------------------------- ndimage: what a cval may be

ODD_CVALS = [[1], None, "1.5", "x", b"2", object(), np.array(2.0), np.array("1.5"),
             np.float32(1.5), 2, 1.5]


def _outcome(call):
    try:
        return "value", call()
    except Exception as exc:  # the type is what both must agree on
        return type(exc), str(exc)


@pytest.mark.parametrize("cval", ODD_CVALS,
                         ids=[f"{i}-{type(v).__name__}" for i, v in enumerate(ODD_CVALS)])
@pytest.mark.parametrize("input_kind, weights_kind", [("f", "f"), ("c", "f"), ("c", "c")])
def test_ndimage_reads_an_odd_cval_as_scipy_does(cval, input_kind, weights_kind):
    # ndimage's C code wants a real number (not a string); for complex input it takes
    # numpy.real and numpy.imag of cval, each a real number
    x = np.arange(16.0).reshape(4, 4) * (1 + 1j if input_kind == "c" else 1)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]) * (1 - 2j if weights_kind == "c" else 1)
    want = _outcome(lambda: ndi.correlate(x, w, cval=cval))
    got = _outcome(lambda: fnd.correlate(x, w, cval=cval))
    assert got[0] == want[0], (got, want)
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    elif "must be real number" in want[1]:
        assert f"cval={cval!r} is invalid: must be real number" in got[1]


# ------------------------------------------------- odd arguments: scipy's exception types

ODD_ARGUMENTS = [None, "x", 1.5, -1, 0, 2, True, [1], (0, 1), np.array(1), np.int64(1),
                 object(), "reflect", b"1", 1 + 1j, np.nan]
_X2, _W2, _W1 = np.arange(20.0).reshape(4, 5), np.array([[1.0, 2.0], [3.0, 4.5]]), \
    np.array([1.0, 2.0, 0.5])
ODD_CALLS = (
    [(f"ndimage.{f}", p, (_X2, _W2)) for f in ("correlate", "convolve")
     for p in ("mode", "cval", "origin", "axes", "output")]
    + [(f"ndimage.{f}", p, (_X2, _W1)) for f in ("correlate1d", "convolve1d")
       for p in ("axis", "mode", "cval", "origin", "output")]
    + [("signal.convolve", p, (_X2, _W2)) for p in ("mode", "method")]
    + [("signal.correlate", p, (_X2, _W2)) for p in ("mode", "method")]
    + [(f"signal.{f}", p, (_X2, _W2)) for f in ("fftconvolve", "oaconvolve")
       for p in ("mode", "axes")]
    + [(f"signal.{f}", p, (_X2, _W2)) for f in ("convolve2d", "correlate2d")
       for p in ("mode", "boundary", "fillvalue")])
#: Where scipy's exception comes from its internals, not from a check: an out-of-range
#: scalar ``axes`` (IndexError, or RuntimeError about the weights first); fftconv's is a
#: ValueError naming the axis (docs/compat.md, "Known differences").
def _scalar_axis_out_of_range(value):
    return type(value) is int and not -2 <= value < 2


KNOWN = {("ndimage.correlate", "axes"): _scalar_axis_out_of_range,
         ("ndimage.convolve", "axes"): _scalar_axis_out_of_range}


@pytest.mark.parametrize("call", ODD_CALLS, ids=lambda c: f"{c[0]}-{c[1]}")
def test_facades_meet_odd_arguments_as_scipy_does(call):
    import scipy

    name, param, args = call
    module, func = name.split(".")
    ref = getattr(getattr(scipy, module), func)
    mine = getattr(getattr(fftconv, module), func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value in ODD_ARGUMENTS:
            if KNOWN.get((name, param), lambda v: False)(value):
                continue
            kwargs = {param: value}
            want = _outcome(lambda: ref(*args, **kwargs))  # noqa: B023 - called at once
            got = _outcome(lambda: mine(*args, **kwargs))  # noqa: B023 - called at once
            assert got[0] == want[0], (param, value, got, want)
            if want[0] == "value":
                assert got[1].shape == want[1].shape and got[1].dtype == want[1].dtype
                scale = np.nanmax(np.abs(want[1]), initial=1.0)  # FFT rounding near zero
                np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-13 * scale,
                                           equal_nan=True)


# ------------------------------------------------- ndimage: origin with axes permuted
@pytest.mark.parametrize("func", ["correlate", "convolve"])
@pytest.mark.parametrize("axes, origin", [((1, 0), (1, -1)), ((1, 0), (-1, 0)),
                                          ((2, 0, 1), (1, -1, 0)), ((0, 2, 1), (0, 1, -1)),
                                          ((2, 0), (1, -1))])
def test_ndimage_origin_follows_scipy_with_permuted_axes(func, axes, origin):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 8, 9)) if max(axes) == 2 else rng.standard_normal((7, 9))
    w = rng.standard_normal(tuple([3, 4, 5][: len(axes)]))
    want = getattr(ndi, func)(x, w, origin=origin, axes=axes)
    got = getattr(fnd, func)(x, w, origin=origin, axes=axes)
    np.testing.assert_allclose(got, want, atol=1e-12)


# ------------------------------------------------- ndimage: C casts keep the low bits
SUMS = np.array([2.0**33 + 5, -3.0, 300.7, -0.5, 0.5, 256, 2**40 + 2**31, -2**31 - 7, 1e19,
                 -1e19, 3e20, 2.0**32, 2.0**31, -2.0**31, 2.0**63, -2.0**63, 2.0**64,
                 65535.9, np.nan, np.inf, -np.inf])
INTS = np.array([2**33 + 5, -3, 300, 256, 2**40, 2**62, -2**62, 2**31, -2**31 - 1], np.int64)


@pytest.mark.parametrize("output", [np.bool_, np.uint8, np.int8, np.uint16, np.int16,
                                    np.uint32, np.int32, np.uint64, np.int64])
@pytest.mark.parametrize("data", ["float", "int"])
def test_ndimage_integer_outputs_cast_like_scipy(output, data):
    x, w = (SUMS, np.array([1.0])) if data == "float" else (INTS, np.array([1]))
    with np.errstate(invalid="ignore"):
        want = ndi.correlate1d(x, w, output=output)
    got = fnd.correlate1d(x, w, output=output)
    assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()
    out = np.zeros(x.shape, output)
    fnd.correlate(x, w, output=out)
    assert out.tolist() == want.tolist()


def test_ndimage_bool_output_of_a_sum_of_256_is_false_as_in_scipy():
    x = np.full(5, 128.0)
    assert fnd.correlate1d(x, [1.0, 1.0], output=bool).tolist() == \
        ndi.correlate1d(x, [1.0, 1.0], output=bool).tolist() == [False] * 5


# ------------------------------------- ndimage: uint64 sums past int64 that fit uint64
@pytest.mark.parametrize("func", ["correlate", "convolve", "correlate1d", "convolve1d"])
def test_ndimage_uint64_sums_past_int64_follow_scipy(func):
    x = np.array([2**63 + 4096, 1, 7, 2**62], np.uint64)
    for w in ([1, 1], np.array([1, 2], np.uint64), [1, 0]):
        w = np.asarray(w)
        want = getattr(ndi, func)(x, w)
        got = getattr(fnd, func)(x, w)
        assert got.dtype == want.dtype == np.uint64
        assert got.tolist() == want.tolist()


# ------------------------------------ signal: fillvalue that the boundary never uses
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("boundary", ["symm", "symmetric", "wrap", "circular"])
@pytest.mark.parametrize("fillvalue", ["x", [1, 2], [], 1 + 2j, np.array([1.5, 2])])
def test_signal_unused_fillvalue_is_accepted(func, boundary, fillvalue):
    a = np.arange(12.0).reshape(3, 4)
    b = np.array([[1.0, 2.0], [3.0, -1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        want = getattr(sps, func)(a, b, "same", boundary, fillvalue)
    got = getattr(fsig, func)(a, b, "same", boundary, fillvalue)
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("fillvalue, match", [("x", "fillvalue='x' is invalid"),
                                              ([1, 2], "must be scalar"),
                                              ([], "cannot be an empty array")])
def test_signal_fillvalue_is_still_checked_when_used(fillvalue, match):
    with pytest.raises(ValueError, match=match):
        fsig.convolve2d(np.ones((3, 3)), np.ones((2, 2)), "same", "fill", fillvalue)


# ------------------------------------------ core: nan_policy='raise' sees kernel, cval
@pytest.mark.parametrize("method", ["auto", "direct", "fft", "overlap"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_raise_sees_a_nonfinite_kernel(method, bad):
    with pytest.raises(ValueError, match=r"kernel contains non-finite values \(nan_policy='raise'\)"):
        fftconv.convolve(np.ones(8), [1.0, bad, 0.0], nan_policy="raise", method=method)
    with pytest.raises(ValueError, match=r"kernel contains non-finite values"):
        fftconv.plan_correlate((8,), [0.0, bad], nan_policy="raise")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_raise_sees_a_nonfinite_cval_the_boundary_uses(bad):
    with pytest.raises(ValueError, match=r"cval=.* is not finite .*nan_policy='raise'"):
        fftconv.convolve(np.ones(8), [1.0, 1.0], "same", cval=bad, nan_policy="raise")
    # a cval no output reads is not data
    np.testing.assert_array_equal(
        fftconv.convolve(np.ones(8), [1.0, 1.0], "valid", cval=bad, nan_policy="raise"),
        np.full(7, 2.0))


# ----------------------------------------------------- nn: method='fft' and NaN input
def test_nn_fft_refuses_a_nonfinite_input_and_auto_localises_it():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 30, 30))
    x[0, 1, 15, 15] = np.nan
    w = rng.standard_normal((3, 2, 5, 5))
    with pytest.raises(ValueError, match="method='fft' cannot serve an input with non-finite"):
        fnn.conv2d(x, w, method="fft")
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    got = fnn.conv2d(x, w, method="auto")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got).sum() == 3 * 25
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(want), atol=1e-10)
    # the same finite input on the FFT path is fine
    x[0, 1, 15, 15] = 0.5
    np.testing.assert_allclose(fnn.conv2d(x, w, method="fft"),
                               torch.nn.functional.conv2d(torch.from_numpy(x),
                                                          torch.from_numpy(w)).numpy(),
                               atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nn_fft_gives_finite_results_for_huge_finite_inputs(dtype):
    torch = pytest.importorskip("torch")
    big = float(np.finfo(dtype).max) / 64
    x = np.full((1, 2, 40, 40), big, dtype)
    w = np.ones((3, 2, 3, 3), dtype) / 2
    got = fnn.conv2d(x, w, method="fft")
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    assert np.isfinite(want).all() and np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-10)
    # and huge weights
    got = fnn.conv2d(np.ones((1, 2, 40, 40), dtype), np.full((3, 2, 3, 3), big, dtype),
                     method="fft")
    np.testing.assert_allclose(got, 18 * big, rtol=1e-4 if dtype == np.float32 else 1e-10)
