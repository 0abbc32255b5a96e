"""Every invalid argument raises before any work, naming the parameter and its value."""

import re

import numpy as np
import pytest

import fftconv

X = np.arange(12.0).reshape(3, 4)
K = np.ones((2, 3))


def raises(exc, message):
    """``pytest.raises`` matching ``message`` literally."""
    return pytest.raises(exc, match=re.escape(message))


ENTRY_POINTS = {
    "convolve": lambda **kw: fftconv.convolve(X, K, **kw),
    "correlate": lambda **kw: fftconv.correlate(X, K, **kw),
    "plan_convolve": lambda **kw: fftconv.plan_convolve(X.shape, K, **kw),
    "plan_correlate": lambda **kw: fftconv.plan_correlate(X.shape, K, **kw),
    "explain": lambda **kw: fftconv.explain(X.shape, K.shape, **kw),
}


INVALID_OPTIONS = [
    ({"mode": "bogus"}, "mode='bogus' is invalid; expected one of 'full', 'same', 'valid'"),
    ({"mode": None}, "mode=None is invalid; expected one of 'full', 'same', 'valid'"),
    ({"boundary": "wrapp"},
     "boundary='wrapp' is invalid; expected one of 'constant', 'edge', 'reflect', 'symmetric', "
     "'wrap'"),
    ({"nan_policy": "ignore"},
     "nan_policy='ignore' is invalid; expected one of 'omit', 'propagate', 'raise'"),
    ({"effort": "patient"}, "effort='patient' is invalid; expected one of 'estimate', 'measure'"),
    ({"dtype": "int32"}, "dtype='int32' is invalid; expected one of"),
    ({"workers": 0}, "workers=0 is invalid"),
    ({"workers": 1.5}, "workers=1.5 is invalid"),
    ({"cval": "x"}, "cval='x' is invalid; expected a number"),
    ({"mode": "same", "anchor": 3}, "anchor=3 is invalid: 3 is outside the kernel's indices 0..1"),
    ({"mode": "same", "anchor": -1}, "anchor=-1 is invalid"),
    ({"mode": "same", "anchor": 1.5}, "anchor=1.5 is invalid; expected an int"),
    ({"axes": 1.5}, "axes=1.5 is invalid; expected an int"),
    ({"mode": "same", "anchor": (1, 1, 1)},
     "anchor=(1, 1, 1) is invalid: it has 3 entries for 2 convolved axes"),
    ({"mode": "full", "anchor": 0},
     "anchor=0 is invalid with mode='full'; anchor applies to mode='same' only"),
    ({"mode": "valid", "anchor": (0, 0)}, "anchor=(0, 0) is invalid with mode='valid'"),
    ({"axes": (0, 2)}, "axes=(0, 2) is invalid: axis 2 is out of range for x with 2 dimensions"),
    ({"axes": (-3,)}, "axes=(-3,) is invalid: axis -3 is out of range"),
    ({"axes": (1, -1)}, "axes=(1, -1) is invalid: it repeats an axis"),
]


@pytest.mark.parametrize("entry, options, message", [
    (entry, options, message) for entry in sorted(ENTRY_POINTS)
    for options, message in INVALID_OPTIONS
    if not (entry == "explain" and "effort" in options)  # explain never measures
], ids=lambda v: str(v) if not isinstance(v, str) or v in ENTRY_POINTS else "")
def test_invalid_options(entry, options, message):
    with raises(ValueError, message):
        ENTRY_POINTS[entry](**options)


@pytest.mark.parametrize("entry", ["convolve", "plan_convolve", "explain"])
def test_invalid_method(entry):
    with pytest.raises(ValueError, match=r"^method='fastest' is invalid; expected one of ") as info:
        ENTRY_POINTS[entry](method="fastest")
    for choice in ("auto", "direct", "fft", "overlap"):
        assert repr(choice) in str(info.value)


@pytest.mark.parametrize("x_shape, k_shape, options, message", [
    ((3, 4), (2, 3, 1), {}, "kernel has 3 dimensions but x has 2; expected 2"),
    ((3, 4), (2,), {}, "kernel has 1 dimension but x has 2"),
    ((3, 4), (2, 2, 2), {"axes": 1}, "kernel has 3 dimensions but x has 2; expected 1 or 2"),
    ((3, 4), (2, 3), {"axes": 1},
     "kernel shape (2, 3) does not fit x shape (3, 4): along batch axis 0 the kernel has "
     "length 2; expected 1 or 3"),
    ((3, 4), (4, 2), {"mode": "valid"},
     "mode='valid' needs the kernel to be no larger than x along every convolved axis, but "
     "along axis 0 the kernel has 4 > 3"),
    ((3, 4), (0, 2), {}, "kernel is empty along axis 0"),
])
def test_invalid_shapes(x_shape, k_shape, options, message):
    x, kernel = np.ones(x_shape), np.ones(k_shape)
    with raises(ValueError, message):
        fftconv.convolve(x, kernel, **options)
    with raises(ValueError, message):
        fftconv.plan_correlate(x_shape, kernel, **options)
    with raises(ValueError, message):
        fftconv.explain(x_shape, k_shape, **options)


@pytest.mark.parametrize("bad", [
    np.array([1, "a"], dtype=object), np.array(["ab", "cd"]), np.array(["2020-01-01"] * 3,
                                                                      dtype="datetime64[D]"),
    np.array([1, 2], dtype="timedelta64[s]"),
], ids=["object", "str", "datetime", "timedelta"])
def test_unsupported_dtypes_raise_type_error(bad):
    with raises(TypeError, f"x has dtype {bad.dtype}, which fftconv cannot convolve"):
        fftconv.convolve(bad, [1.0])
    with raises(TypeError, f"kernel has dtype {bad.dtype}, which fftconv cannot convolve"):
        fftconv.correlate(np.ones(4), bad)
    with raises(TypeError, f"has dtype {bad.dtype}"):
        fftconv.plan_convolve((4,), np.ones(2), x_dtype=bad.dtype)


def test_dtype_override_cannot_drop_imaginary_part():
    with raises(ValueError, "dtype='float64' is invalid for complex inputs"):
        fftconv.convolve(np.ones(4, complex), [1.0], dtype="float64")


def test_integer_inputs_reject_fractional_cval():
    with raises(ValueError, "cval=0.5 is invalid for integer inputs"):
        fftconv.convolve(np.arange(4), [1, 2], "same", cval=0.5)


@pytest.mark.parametrize("method", ["direct", "fft", "overlap"])
def test_plan_rejects_wrong_input(method):
    plan = fftconv.plan_convolve((3, 4), K, method=method)
    with pytest.raises(ValueError, match=r"shape \(4, 3\).*\(3, 4\)"):
        plan(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"shape \(3, 4, 1\).*\(3, 4\)"):
        plan(np.ones((3, 4, 1)))
    with pytest.raises((TypeError, ValueError), match="complex128.*float64"):
        plan(np.ones((3, 4), complex))
    with pytest.raises(TypeError, match="dtype object"):
        plan(np.ones((3, 4), object))
    with pytest.raises(ValueError, match=r"out.*shape \(3, 4\).*\(4, 6\)"):
        plan(X, out=np.empty((3, 4)))


def test_set_workers_rejects_bad_values():
    with raises(ValueError, "workers=0 is invalid"):
        with fftconv.set_workers(0):
            pass
    with raises(ValueError, "workers=-1000 is invalid"):
        with fftconv.set_workers(-1000):
            pass


@pytest.mark.parametrize("call, message", [
    (lambda: fftconv.explain((4,), (3,), operation="conv"),
     "operation='conv' is invalid; expected one of 'convolve', 'correlate'"),
    (lambda: fftconv.plan_convolve((4,), [1.0, 2.0], x_dtype="bogus"),
     "x_dtype='bogus' is invalid; expected a numpy dtype"),
    (lambda: fftconv.explain((4,), (3,), kernel_dtype="nope"),
     "kernel_dtype='nope' is invalid; expected a numpy dtype"),
    (lambda: fftconv.explain("ab", (3,)),
     "x_shape='ab' is invalid; expected a tuple of non-negative ints"),
    (lambda: fftconv.explain((4,), (-3,)),
     r"kernel_shape=\(-3,\) is invalid; expected a tuple of non-negative ints"),
    (lambda: fftconv.plan_correlate((4,), [1.0], method="separable"),
     "method='separable' cannot serve this problem: a 1-d kernel has nothing to separate"),
])
def test_planning_entry_point_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
