"""Fuzzing the core (convolve, correlate, plans) against the naive reference.

Every case is checked against ``tests/reference.py``: ordinary values on every method,
extreme magnitudes, integers near the limits of every width, non-finite samples in the
input, the kernel and ``cval`` (with zero taps), kernel buffers changed between calls,
and option values of the wrong type. See docs/reliability.md for the profiles.
"""

import numpy as np
import pytest
from fuzz_util import METHODS, budget, exact_floats, geometry, small_floats, values
from hypothesis import assume, given
from hypothesis import strategies as st
from reference import assert_close, naive

import fftconv

OPS = ("convolve", "correlate")


def call(op, x, k, mode, **options):
    return getattr(fftconv, op)(x, k, mode, **options)


def serves(method, exc):
    """Whether ``exc`` is the planner saying ``method`` does not apply (a valid answer)."""
    return method != "auto" and isinstance(exc, ValueError) and "cannot serve" in str(exc)


@budget(60)
@given(data=st.data(), geo=geometry(), op=st.sampled_from(OPS), method=st.sampled_from(METHODS),
       dtype=st.sampled_from(["float64", "float32", "complex128", "int64", "uint8", "bool"]))
def test_core_matches_the_reference(data, geo, op, method, dtype):
    n, k, mode, boundary, anchor = geo
    elements = {"bool": st.booleans(), "uint8": st.integers(0, 255),
                "int64": st.integers(-1000, 1000)}.get(dtype, exact_floats())
    if dtype.startswith("complex"):
        elements = st.builds(complex, st.integers(-8, 8), st.integers(-8, 8))
    x = values(data.draw, n, dtype, elements)
    kern = values(data.draw, k, dtype, elements)
    low = 0 if dtype in ("uint8", "bool") else -3  # uint64 results take no negative cval
    cval = data.draw(st.integers(low, 3)) if boundary == "constant" else 0
    try:
        got = call(op, x, kern, mode, boundary=boundary, cval=cval, anchor=anchor,
                   method=method)
    except ValueError as exc:
        assert serves(method, exc), exc
        return
    want = naive(x, kern, mode, operation=op, boundary=boundary, cval=cval, anchor=anchor)
    assert_close(got, want, x, kern, cval=cval)


@budget(30)
@given(data=st.data(), geo=geometry(), op=st.sampled_from(OPS), method=st.sampled_from(METHODS))
def test_plans_match_one_shot_calls(data, geo, op, method):
    n, k, mode, boundary, anchor = geo
    x = values(data.draw, n, "float64", small_floats())
    kern = values(data.draw, k, "float64", small_floats())
    options = {"boundary": boundary, "anchor": anchor, "method": method}
    try:
        plan = getattr(fftconv, f"plan_{op}")(n, kern, mode, **options)
    except ValueError as exc:
        assert serves(method, exc), exc
        return
    want = naive(x, kern, mode, operation=op, boundary=boundary, anchor=anchor)
    assert_close(plan(x), want, x, kern)
    assert_close(call(op, x, kern, mode, **options), want, x, kern)
    out = np.empty(plan.out_shape, plan.dtype)
    assert plan(x, out=out) is out
    assert_close(out, want, x, kern)


# ------------------------------------------------------------------ extreme magnitudes
@budget(40)
@given(data=st.data(), geo=geometry(max_n=64, max_k=7), op=st.sampled_from(OPS),
       method=st.sampled_from(METHODS),
       kind=st.sampled_from([("float32", "max"), ("float64", "max"), ("complex64", "max"),
                             ("float32", 1e30), ("float64", 1e300), ("float32", 1e-30),
                             ("float64", 1e-300)]))
def test_extreme_magnitudes_stay_finite_and_accurate(data, geo, op, method, kind):
    dtype, mag = kind
    n, k, mode, boundary, anchor = geo
    kern = values(data.draw, k, dtype, exact_floats())
    if mag == "max":  # every window sum fits, the sum of all samples does not
        l1 = max(float(np.abs(kern).sum()), 1.0)
        mag = float(np.finfo(np.dtype(dtype).char.lower() if dtype[0] == "c" else dtype).max) \
            / (2 * l1)
        x = values(data.draw, n, "float64", st.floats(0.5, 1)) * mag
    else:
        x = values(data.draw, n, "float64", small_floats()) * (mag / 100)
    x = x.astype(dtype)
    try:
        got = call(op, x, kern, mode, boundary=boundary, anchor=anchor, method=method)
    except ValueError as exc:
        assert serves(method, exc), exc
        return
    want = naive(x, kern, mode, operation=op, boundary=boundary, anchor=anchor)
    assert np.isfinite(got).all()
    assert_close(got, want, x, kern, factor=64)


INT_DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "bool"]
WIDE = INT_DTYPES + ["int64", "uint64"] * 3  # the widths where a cast can wrap, more often


@budget(100)
@given(data=st.data(), geo=geometry(max_n=6, max_k=3), op=st.sampled_from(OPS),
       method=st.sampled_from(METHODS), xdt=st.sampled_from(WIDE), kdt=st.sampled_from(WIDE))
def test_integers_near_the_limits_are_exact_or_overflow_error(data, geo, op, method, xdt, kdt):
    n, k, mode, boundary, anchor = geo

    def near_limits(dt):
        if dt == "bool":
            return st.booleans()
        info = np.iinfo(dt)
        return st.one_of(st.integers(info.min, info.min + 3), st.integers(info.max - 3, info.max),
                         st.integers(-2, 2).filter(lambda v: info.min <= v <= info.max))

    x = values(data.draw, n, xdt, near_limits(xdt))
    kern = values(data.draw, k, kdt, near_limits(kdt))
    low = 0 if x.dtype.kind == kern.dtype.kind == "u" else -2  # uint64 results
    cval = data.draw(st.integers(low, 2)) if boundary == "constant" else 0
    want = naive(x, kern, mode, operation=op, boundary=boundary, cval=cval, anchor=anchor)
    try:
        got = call(op, x, kern, mode, boundary=boundary, cval=cval, anchor=anchor,
                   method=method)
    except OverflowError:
        # allowed only where a simple bound says the exact result may not fit
        peak = max([abs(int(v)) for v in x.ravel()] + [abs(cval)])
        l1 = sum(abs(int(v)) for v in kern.ravel())
        limit = np.iinfo(np.uint64 if x.dtype.kind == kern.dtype.kind == "u" else np.int64)
        assert peak * l1 > limit.max or any(int(v) > np.iinfo(np.int64).max
                                            for v in np.concatenate([x.ravel(), kern.ravel()]))
        return
    except ValueError as exc:
        assert serves(method, exc) or "exact" in str(exc), exc
        return
    assert got.dtype.kind in "iu"
    assert [int(v) for v in got.ravel()] == [int(v) for v in np.asarray(want).ravel()]


# ---------------------------------------------------------------- non-finite samples
NONFINITE = st.sampled_from([np.nan, np.inf, -np.inf])


@budget(50)
@given(data=st.data(), geo=geometry(max_n=12), op=st.sampled_from(OPS),
       method=st.sampled_from(METHODS), dtype=st.sampled_from(["float64", "float32"]))
def test_nonfinite_input_footprint_is_the_direct_sums(data, geo, op, method, dtype):
    n, k, mode, boundary, anchor = geo
    x = values(data.draw, n, dtype, exact_floats())
    spots = data.draw(st.lists(st.tuples(*[st.integers(0, s - 1) for s in n]), min_size=1,
                               max_size=3))
    for spot in spots:
        x[spot] = data.draw(NONFINITE)
    # zero taps included: 0 * nan is nan in the direct sum, and must be here too
    kern = values(data.draw, k, dtype, st.sampled_from([0.0, 1.0, -2.0, 0.5]))
    try:
        got = call(op, x, kern, mode, boundary=boundary, anchor=anchor, method=method)
    except ValueError as exc:
        assert serves(method, exc), exc
        return
    want = naive(x, kern, mode, operation=op, boundary=boundary, anchor=anchor)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    assert_close(np.where(np.isfinite(want), got, 0), np.where(np.isfinite(want), want, 0),
                 np.where(np.isfinite(x), x, 0), kern)


@budget(30)
@given(data=st.data(), geo=geometry(max_n=10), op=st.sampled_from(OPS))
def test_nonfinite_kernel_taps_give_the_ieee_direct_sum(data, geo, op):
    n, k, mode, boundary, anchor = geo
    x = values(data.draw, n, "float64", st.sampled_from([1.0, -1.0, 2.0, 0.5]))
    kern = values(data.draw, k, "float64", st.sampled_from([1.0, -3.0, np.inf, np.nan]))
    got = call(op, x, kern, mode, boundary=boundary, anchor=anchor)
    want = naive(x, kern, mode, operation=op, boundary=boundary, anchor=anchor)
    np.testing.assert_array_equal(got, want)  # ints times +-inf/nan: exact in both
    with pytest.raises(ValueError, match="nan_policy='raise'"):
        if not np.isfinite(kern).all():
            call(op, x, kern, mode, boundary=boundary, anchor=anchor, nan_policy="raise")
        else:
            raise ValueError("nan_policy='raise' (nothing to see: finite kernel)")


@budget(30)
@given(data=st.data(), geo=geometry(max_n=10), op=st.sampled_from(OPS),
       method=st.sampled_from(METHODS), bad=NONFINITE)
def test_nonfinite_cval_reaches_exactly_the_padded_windows(data, geo, op, method, bad):
    n, k, mode, _, anchor = geo
    assume(mode != "valid")
    x = values(data.draw, n, "float64", exact_floats())
    # zero taps included: a zero tap on a non-finite cval counts, as in the direct sum
    kern = values(data.draw, k, "float64", st.sampled_from([0.0, 1.0, -2.0, 0.5]))
    got = call(op, x, kern, mode, boundary="constant", cval=bad, anchor=anchor, method="auto"
               if method in ("fft", "overlap") else method)
    want = naive(x, kern, mode, operation=op, boundary="constant", cval=bad, anchor=anchor)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


# ------------------------------------------------------ kernel buffers changed between calls
@budget(25)
@given(data=st.data(), geo=geometry(), op=st.sampled_from(OPS), method=st.sampled_from(METHODS),
       dtype=st.sampled_from(["float64", "int64", "complex128"]))
def test_a_changed_kernel_buffer_never_reaches_a_later_call(data, geo, op, method, dtype):
    n, k, mode, boundary, anchor = geo
    elements = st.integers(-5, 5) if dtype == "int64" else exact_floats()
    x = values(data.draw, n, dtype, elements)
    original = values(data.draw, k, dtype, elements)
    buffer = original.copy()
    options = {"boundary": boundary, "anchor": anchor, "method": method}
    try:
        first = call(op, x, buffer, mode, **options)
        plan = getattr(fftconv, f"plan_{op}")(n, buffer, mode, x_dtype=dtype, **options)
    except ValueError as exc:
        assert serves(method, exc), exc
        return
    buffer[...] = data.draw(st.integers(-9, 9))  # the caller reuses its array
    want = naive(x, original, mode, operation=op, boundary=boundary, anchor=anchor)
    assert_close(first, want, x, original)
    assert_close(call(op, x, original.copy(), mode, **options), want, x, original)
    assert_close(plan(x), want, x, original)


# ------------------------------------------------------------- options of the wrong type
WRONG = {  # option -> values of the wrong type (each must be refused, naming the option)
    "mode": [True, 1, None, b"full", ["full"]],
    "boundary": [True, 0, None, ["constant"]],
    "cval": [True, False, "0", None, [0, 1], b"0"],
    "anchor": [True, "1", 1.5, [True], [1.0]],
    "axes": [True, False, "0", 0.0, [True], [0.5]],
    "method": [True, None, 1, ["fft"]],
    "effort": [True, None, 0, "fast"],
    "workers": [True, False, "2", 1.5, 0, -3],
    "dtype": [True, 1, "int8", "float128"],
    "nan_policy": [True, None, 0, "ignore"],
    "max_memory": [True, "1G", -1, 0, float("nan"), [1 << 20]],
    "conjugate": ["no", "yes", 1, 0, None, 1.0],
}


@budget(60)
@given(option=st.sampled_from(sorted(WRONG)), data=st.data(), op=st.sampled_from(OPS),
       planned=st.booleans())
def test_a_wrong_typed_option_is_refused_naming_it_whatever_came_before(option, data, op,
                                                                         planned):
    value = data.draw(st.sampled_from(WRONG[option]))
    assume(not (option == "conjugate" and op == "convolve"))
    x, kern = np.arange(12.0).reshape(3, 4), np.ones((2, 2))
    extra = {"mode": "same"} if option == "anchor" else {}
    if option == "axes":
        kern = np.ones(2)
    # an equal valid value first, so a memo that confused them would answer
    valid = {"cval": 0, "anchor": 1, "axes": 0, "workers": 1, "max_memory": 1 << 30,
             "conjugate": True, "mode": "full", "method": "auto"}.get(option)
    kwargs = {"mode": "full", **extra}
    if valid is not None:
        call(op, x, kern, **{**kwargs, option: valid})
    kwargs[option] = value
    mode = kwargs.pop("mode")
    with pytest.raises((ValueError, TypeError), match=rf"{option}="):
        if planned:
            getattr(fftconv, f"plan_{op}")(x.shape, kern, mode, **kwargs)
        else:
            call(op, x, kern, mode, **kwargs)
