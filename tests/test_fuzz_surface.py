"""Fuzzing the rest of the public surface: the scipy façades against scipy, fftconv.nn
against torch, the command line's argument parsing, and corrupt cache files."""

import json
import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps
from facade_util import assert_like
from fuzz_util import budget, exact_floats, values
from hypothesis import assume, given
from hypothesis import strategies as st

import fftconv
import fftconv.ndimage as fnd
import fftconv.nn as fnn
import fftconv.signal as fsig
from fftconv._cli import main
from fftconv._cli._kernelspec import parse_kernel
from fftconv._engine import clear_caches
from fftconv._machine import cache as _cache
from fftconv._machine import costs as _costs


def small_array(draw, ndim, dtype, max_n=8, elements=None):
    shape = tuple(draw(st.integers(1, max_n)) for _ in range(ndim))
    return values(draw, shape, dtype, elements if elements is not None else exact_floats())


# ------------------------------------------------------------------------ scipy.signal
@budget(40)
@given(data=st.data(), func=st.sampled_from(["convolve", "correlate"]),
       mode=st.sampled_from(["full", "same", "valid"]),
       method=st.sampled_from(["auto", "direct", "fft"]),
       dtype=st.sampled_from(["float64", "float32", "complex128", "int32"]))
def test_signal_convolve_and_correlate_match_scipy(data, func, mode, method, dtype):
    ndim = data.draw(st.integers(1, 2))
    elements = st.integers(-5, 5) if dtype == "int32" else exact_floats()
    a = small_array(data.draw, ndim, dtype, elements=elements)
    b = small_array(data.draw, ndim, dtype, max_n=5, elements=elements)
    if mode == "valid":
        assume(all(p >= q for p, q in zip(a.shape, b.shape)) or
               all(p <= q for p, q in zip(a.shape, b.shape)))
    want = getattr(sps, func)(a, b, mode, method=method)
    got = getattr(fsig, func)(a, b, mode, method=method)
    assert_like(got, want, single=1e-4, half=1e-2)


@budget(40)
@given(data=st.data(), func=st.sampled_from(["convolve2d", "correlate2d"]),
       mode=st.sampled_from(["full", "same", "valid"]),
       boundary=st.sampled_from(["fill", "wrap", "symm"]),
       fillvalue=st.sampled_from([0, 1.5, -2, np.nan, np.inf]))
def test_signal_2d_matches_scipy(data, func, mode, boundary, fillvalue):
    a = small_array(data.draw, 2, "float64")
    b = small_array(data.draw, 2, "float64", max_n=4)
    if mode == "valid":
        assume(all(p >= q for p, q in zip(a.shape, b.shape)) or
               all(p <= q for p, q in zip(a.shape, b.shape)))
    want = getattr(sps, func)(a, b, mode, boundary, fillvalue)
    got = getattr(fsig, func)(a, b, mode, boundary, fillvalue)
    np.testing.assert_allclose(got, want, atol=1e-9, equal_nan=True)


# ----------------------------------------------------------------------- scipy.ndimage
ND_MODES = ["reflect", "mirror", "nearest", "wrap", "constant", "grid-wrap", "grid-mirror",
            "grid-constant"]
OUTPUTS = [None, np.float32, np.int16, np.uint8, np.uint32, np.int64, np.uint64, np.bool_]


@budget(60)
@given(data=st.data(), func=st.sampled_from(["correlate", "convolve"]),
       mode=st.sampled_from(ND_MODES), output=st.sampled_from(OUTPUTS),
       dtype=st.sampled_from(["float64", "int32", "uint8", "float32"]))
def test_ndimage_matches_scipy(data, func, mode, output, dtype):
    ndim = data.draw(st.integers(1, 3))
    elements = (st.integers(0, 200) if dtype == "uint8" else st.integers(-300, 300)
                if dtype == "int32" else st.floats(-300, 300, width=32))
    x = small_array(data.draw, ndim, dtype, max_n=7, elements=elements)
    axes = None
    if ndim > 1 and data.draw(st.booleans()):
        axes = tuple(data.draw(st.permutations(range(ndim)))[:data.draw(st.integers(1, ndim))])
    nk = ndim if axes is None else len(axes)
    w = small_array(data.draw, nk, "float64" if dtype.startswith("float") else "int64",
                    max_n=4, elements=st.integers(-3, 3))
    # scipy's rule: origin follows axes when axes names some axes, else axis i is origin[i];
    # weights' dimensions follow the sorted axes
    named = tuple(range(ndim)) if axes is None or len(axes) == ndim else axes
    order = sorted(named)
    lengths = [w.shape[order.index(a)] for a in named]
    origin = tuple(data.draw(st.integers(-(k // 2), (k - 1) // 2)) for k in lengths)
    cval = data.draw(st.sampled_from([0.0, 2.5, -1.0]))
    with np.errstate(invalid="ignore", over="ignore"):
        want = getattr(ndi, func)(x, w, output=output, mode=mode, cval=cval, origin=origin,
                                  axes=axes)
    got = getattr(fnd, func)(x, w, output=output, mode=mode, cval=cval, origin=origin,
                             axes=axes)
    assert got.dtype == want.dtype
    if want.dtype.kind in "biu":
        # the sums are exact in both libraries except float32 data (scipy sums in double)
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4 * max(1, np.abs(want).max()))


# -------------------------------------------------------------------------- fftconv.nn
@budget(30)
@given(data=st.data(), d=st.sampled_from([1, 2]), method=st.sampled_from(["auto", "direct", "fft"]),
       padding_mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
def test_nn_matches_torch(data, d, method, padding_mode):
    torch = pytest.importorskip("torch")
    groups = data.draw(st.sampled_from([1, 2]))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
    stride = data.draw(st.integers(1, 2))
    dilation = data.draw(st.integers(1, 2))
    pad = data.draw(st.integers(0, 2))
    n = tuple(data.draw(st.integers((ki - 1) * dilation + 1 + 2, 9)) for ki in k)
    x = values(data.draw, (data.draw(st.integers(1, 2)), cin, *n), "float64", exact_floats())
    w = values(data.draw, (cout, cin // groups, *k), "float64", exact_floats())
    if padding_mode != "zeros" and pad:
        tx = torch.nn.functional.pad(torch.from_numpy(x), (pad,) * (2 * d), mode=padding_mode)
        want = getattr(torch.nn.functional, f"conv{d}d")(tx, torch.from_numpy(w), None, stride,
                                                          0, dilation, groups).numpy()
    else:
        want = getattr(torch.nn.functional, f"conv{d}d")(
            torch.from_numpy(x), torch.from_numpy(w), None, stride, pad, dilation, groups).numpy()
    got = getattr(fnn, f"conv{d}d")(x, w, None, stride, pad, dilation, groups,
                                    padding_mode=padding_mode, method=method)
    np.testing.assert_allclose(got, want, atol=1e-9)
    # the weight buffer changed afterwards never reaches the next call
    original = w.copy()
    w[...] = 3.0
    again = getattr(fnn, f"conv{d}d")(x, original.copy(), None, stride, pad, dilation, groups,
                                      padding_mode=padding_mode, method=method)
    np.testing.assert_allclose(again, want, atol=1e-9)


NN_WRONG = {"stride": [True, "1", 1.5, 0, None], "dilation": [True, "1", 1.5, 0],
            "groups": [True, "1", 1.5, 0], "padding": [True, "full", 1.5, [True]],
            "padding_mode": [True, "mirror", None], "data_format": [True, "NCHW", None],
            "method": [True, "overlap", None]}


@budget(30)
@given(option=st.sampled_from(sorted(NN_WRONG)), data=st.data())
def test_nn_wrong_typed_options_are_refused_naming_them(option, data):
    value = data.draw(st.sampled_from(NN_WRONG[option]))
    x, w = np.ones((1, 2, 6, 6)), np.ones((2, 2, 3, 3))
    fnn.conv2d(x, w, **({option: 1} if option in ("stride", "dilation", "groups", "padding")
                        else {}))
    with pytest.raises((ValueError, TypeError), match=rf"{option}="):
        fnn.conv2d(x, w, **{option: value})


# ------------------------------------------------------------------------ command line
TOKENS = st.sampled_from(["--shape", "--kernel", "--dtype", "--mode", "--boundary", "--method",
                          "--effort", "--workers", "--max-memory", "64x64", "7x7", "3", "0",
                          "-1", "x", "float32", "int8", "same", "wrap", "fft", "measure",
                          "box:5", "gaussian:sigma=1", "disk:2", "motion:length=3,angle=20",
                          "box:", "gaussian:sigma=-1", "nope:1", "1e3", "", "=", "--help"])


@budget(60)
@given(argv=st.lists(TOKENS, max_size=8))
def test_cli_plan_arguments_exit_0_or_2_never_a_traceback(argv, capsys):
    try:
        code = main(["plan", *argv])
    except SystemExit as exc:
        code = exc.code
    capsys.readouterr()
    assert code in (0, 2)


@budget(60)
@given(spec=st.one_of(
    st.text(max_size=20),
    st.builds(lambda n, p: f"{n}:{p}", st.sampled_from(["box", "gaussian", "disk", "motion", "log"]),
              st.text(alphabet="0123456789.=,-eainsgmlth", max_size=16))))
def test_kernel_specs_parse_or_give_a_value_error(spec):
    assume("/" not in spec and "\\" not in spec and "\x00" not in spec)
    try:
        k = parse_kernel(spec)
    except ValueError:
        return
    except (MemoryError, OverflowError):  # sizes past memory: the CLI's own check (issue 9)
        return
    assert isinstance(k, np.ndarray) and k.size >= 1 and np.isfinite(k).all()


# ---------------------------------------------------------------------- corrupt caches
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20)
                    | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)
TABLE_KEYS = st.sampled_from(["direct_per_mac", "fft_per_nlogn", "fft_per_nlogn_by_size",
                              "prime_weight", "memory_per_byte", "overhead",
                              "parallel_efficiency", "fft_threads_min_size", "nn", "about"])


@budget(40)
@given(name=st.sampled_from(["calibration.json", "decisions.json"]),
       payload=st.one_of(JSON, st.dictionaries(TABLE_KEYS, JSON, max_size=4)),
       signed=st.booleans(), raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_corrupt_cache_files_never_break_a_call(tmp_path_factory, monkeypatch, name, payload,
                                                signed, raw):
    where = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(where))
    _costs.reload()
    clear_caches()
    try:
        if raw is not None:
            (where / name).write_bytes(raw)
        else:
            sig = _cache.signature() if signed else {"cpu": "other"}
            (where / name).write_text(json.dumps({"signature": sig, "payload": payload}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fftconv.FFTConvWarning)
            plan = fftconv.plan_convolve((40,), np.ones(9), effort="measure")
            np.testing.assert_allclose(plan(np.ones(40)), np.convolve(np.ones(40), np.ones(9)))
            assert _cache.file_status(name)
    finally:
        _costs.reload()
        clear_caches()
