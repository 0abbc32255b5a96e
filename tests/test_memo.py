"""The one call memo and the planner's decision memo: what they remember, and what never
leaks through them (regressions: cached views of the caller's kernel; validation that
depended on call history because ``True == 1``)."""

import numpy as np
import pytest
import scipy.ndimage

import fftconv
from fftconv import _engine, _planner, _validate
from fftconv._engine import Options, clear_caches
from fftconv._problem import KernelFacts, Problem
from fftconv.strategies import names
from reference import assert_close, naive

METHODS = (*names(), "auto")


@pytest.fixture(autouse=True)
def fresh():
    clear_caches()
    yield
    clear_caches()


def _serves(method, x, kernel, **options):
    """Whether ``method`` applies to the problem (a conditional strategy may not)."""
    try:
        fftconv.plan_convolve(x.shape, kernel, x_dtype=x.dtype, method=method, **options)
    except ValueError as exc:
        assert "cannot serve this problem" in str(exc)
        return False
    return True


# --------------------------------------------- defect: cached views of the caller's kernel
@pytest.mark.parametrize("method", METHODS)
def test_mutated_kernel_buffer_does_not_reach_a_later_call(method):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 36))
    original = rng.standard_normal((5, 4))
    if not _serves(method, x, original):
        pytest.skip(f"{method!r} does not serve a generic kernel")
    buffer = original.copy()
    first = fftconv.convolve(x, buffer, "same", method=method)
    buffer[...] = 7.0  # the caller reuses its array
    again = fftconv.convolve(x, original.copy(), "same", method=method)
    want = naive(x, original, "same")
    assert_close(first, want, x, original)
    assert_close(again, want, x, original)


def test_mutated_low_rank_kernel_buffer_does_not_reach_a_later_call():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 50))
    original = np.outer(rng.standard_normal(9), rng.standard_normal(8))
    buffer = original.copy()
    first = fftconv.correlate(x, buffer, "same", method="separable")
    buffer[...] = 1.0
    again = fftconv.correlate(x, original.copy(), "same", method="separable")
    want = naive(x, original, "same", operation="correlate")
    assert_close(first, want, x, original)
    assert_close(again, want, x, original)


def test_a_plan_owns_its_kernel():
    rng = np.random.default_rng(2)
    x, kernel = rng.standard_normal((30, 30)), rng.standard_normal((4, 4))
    want = naive(x, kernel)
    plan = fftconv.plan_convolve(x.shape, kernel)
    kernel_copy = kernel.copy()
    kernel[...] = 0.0
    assert_close(plan(x), want, x, kernel_copy)


def test_mutated_integer_kernel_still_raises_on_overflow():
    x = np.array([2**30, 3], np.int64)
    buffer = np.array([1], np.int64)
    np.testing.assert_array_equal(fftconv.convolve(x, buffer), [2**30, 3])
    buffer[0] = 2**40
    np.testing.assert_array_equal(fftconv.convolve(np.array([0, 3]), buffer), [0, 3 * 2**40])
    buffer[0] = 1  # the buffer changes, then a fresh array holds the earlier value
    with pytest.raises(OverflowError, match="may not fit int64"):
        fftconv.convolve(x, np.array([2**40], np.int64))


def test_mutated_kernel_buffer_keeps_the_omit_weights():
    x = np.arange(1.0, 13.0)
    x[4] = np.nan
    original = np.array([1.0, 2.0, 1.0])
    buffer = original.copy()
    first = fftconv.convolve(x, buffer, "same", nan_policy="omit")
    buffer[...] = [1.0, 9.0, 5.0]
    again = fftconv.convolve(x, original.copy(), "same", nan_policy="omit")
    np.testing.assert_array_equal(again, first)
    # the normalised value next to the gap: (2*4 + 1*3) * 4 / 3 ... weights of the taps left
    assert again[4] == pytest.approx((1 * 4.0 + 1 * 6.0) * 4 / 2)


def test_mutated_weight_buffer_does_not_reach_a_later_nn_call():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 20))
    original = rng.standard_normal((4, 3, 5))
    buffer = original.copy()
    first = fftconv.nn.conv1d(x, buffer)
    buffer *= 3.0
    again = fftconv.nn.conv1d(x, original.copy())
    want = np.stack([np.stack([sum(np.correlate(x[n, c], original[o, c], "valid")
                                   for c in range(3)) for o in range(4)]) for n in range(2)])
    np.testing.assert_allclose(first, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(again, want, rtol=1e-12, atol=1e-12)


# ------------------------------------------ defect: validation depended on call history
BOOLS = [  # (option, a bool, the int it equals, arguments that make the int valid)
    ("cval", False, 0, {}),
    ("anchor", True, 1, {"mode": "same"}),
    ("axes", False, 0, {}),
    ("max_memory", True, 1, {}),
    ("workers", True, 1, {}),
]


@pytest.mark.parametrize("option, flag, number, extra", BOOLS)
def test_a_bool_is_refused_for_an_int_option_whatever_came_before(option, flag, number, extra):
    # bool is not a number here (an int option takes an int, not True or False), so the
    # answer must not depend on whether the equal int was passed first
    x = np.arange(12.0).reshape(3, 4)
    kernel = np.ones(3) if option == "axes" else np.ones((2, 2))
    match = rf"{option}={flag!r} is invalid"
    with pytest.raises(ValueError, match=match):
        fftconv.convolve(x, kernel, **extra, **{option: flag})
    fftconv.convolve(x, kernel, **extra, **{option: number})  # valid, and remembered
    with pytest.raises(ValueError, match=match):
        fftconv.convolve(x, kernel, **extra, **{option: flag})


def test_option_keys_tell_bools_ints_and_floats_apart():
    keys = {Options(cval=v).key() for v in (True, 1, 1.0, np.float64(1.0))}
    assert len(keys) == 4
    assert Options(axes=[0, 1]).key() == Options(axes=(0, 1)).key()
    assert Options(axes=[True]).key() != Options(axes=[1]).key()


# --------------------------------------------------------------- what the memos remember
def test_a_repeated_call_skips_validation_and_planning(monkeypatch):
    x, kernel = np.ones((50, 40)), np.ones((3, 3))
    want = fftconv.convolve(x, kernel)
    monkeypatch.setattr(_engine, "make_problem", lambda *a, **k: pytest.fail("validated again"))
    np.testing.assert_array_equal(fftconv.convolve(x, kernel), want)


def test_a_new_kernel_of_the_same_kind_reuses_the_decision(monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 64))
    fftconv.convolve(x, rng.standard_normal((7, 7)), "same")
    monkeypatch.setattr(_planner, "candidates", lambda *a: pytest.fail("planned again"))
    kernel = rng.standard_normal((7, 7))
    assert_close(fftconv.convolve(x, kernel, "same"), naive(x, kernel, "same"), x, kernel)


def test_a_remembered_decision_includes_not_applicable(monkeypatch):
    x = np.ones((30, 30))
    kernel = np.ones((3, 3))
    kernel[1, 1] = np.inf
    with pytest.raises(ValueError, match="method='fft' cannot serve this problem"):
        fftconv.convolve(x, kernel, method="fft")
    monkeypatch.setattr(_planner, "candidates", lambda *a: pytest.fail("planned again"))
    other = np.full((3, 3), 2.0)
    other[0, 0] = np.nan
    with pytest.raises(ValueError, match="method='fft' cannot serve this problem"):
        fftconv.convolve(x, other, method="fft")


def test_a_measured_decision_serves_later_estimates(monkeypatch, tmp_path):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(6)
    measured = fftconv.plan_convolve((96, 80), rng.standard_normal((9, 9)), "same",
                                     effort="measure")
    timings = {c.name: c.measured for c in measured.report().candidates if c.measured}
    assert timings and measured.method == min(timings, key=timings.get)
    monkeypatch.setattr(_planner, "candidates", lambda *a: pytest.fail("planned again"))
    monkeypatch.setattr(_planner, "_measure", lambda *a, **k: pytest.fail("measured again"))
    later = fftconv.plan_convolve((96, 80), rng.standard_normal((9, 9)), "same")
    assert later.method == measured.method
    assert {c.name: c.measured for c in later.report().candidates if c.measured} == timings


def test_a_first_call_builds_one_complete_problem(monkeypatch):
    built = []

    def counting(*args, **kwargs):
        built.append(Problem(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(_validate, "Problem", counting)
    kernel = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    fftconv.convolve(np.ones((40, 40)), kernel, "same")
    assert len(built) == 1
    assert built[0].kernel == KernelFacts(finite=True, nonzero=6, rank=1)


def test_explain_plans_without_kernel_facts():
    report = fftconv.explain((64, 64), (5, 5))
    assert report.problem.kernel is None
    separable = next(c for c in report.candidates if c.name == "separable")
    assert separable.rejected == "the kernel's values are unknown (explain() without a kernel)"


def test_clear_caches_forgets_every_call_and_decision():
    x = np.ones((20, 20))
    fftconv.convolve(x, np.ones((3, 3)))
    fftconv.nn.conv1d(np.ones((1, 1, 9)), np.ones((1, 1, 3)))
    assert len(_engine.calls) == 2 and _planner._decisions
    clear_caches()
    assert len(_engine.calls) == 0 and not _planner._decisions


def test_the_memo_is_bounded_by_entries_and_bytes():
    memo = _engine.Memo(entries=3, max_bytes=400)
    for i in range(5):
        memo.put(i, str(i), 10)
    assert len(memo) == 3 and memo.get(0) is None and memo.get(4) == "4"
    memo.put("big", "x", 101)  # over a quarter of the budget: not kept
    assert memo.get("big") is None
    memo.put("a", "a", 100)
    memo.put("b", "b", 100)
    memo.put("c", "c", 100)
    memo.put("d", "d", 100)  # 400 bytes would be reached: the oldest go
    assert memo.get("a") is None and memo.get("d") == "d"


def test_the_call_memo_counts_what_a_plans_missing_data_handling_holds():
    """A remembered plan sets up its non-finite handling (scratch, a blocked executor) on
    the first call that meets a NaN, possibly long after it was stored: the memo's byte
    count follows, so its budget holds."""
    clear_caches()
    rng = np.random.default_rng(8)
    x, k = rng.standard_normal((256, 256)), rng.standard_normal((31, 31))
    fftconv.correlate(x, k, "same", nan_policy="omit")
    ((plan, counted),) = _engine.calls._data.values()
    assert counted == plan.nbytes and "_nonfinite" not in plan.__dict__
    holes = x.copy()
    holes[::7, ::5] = np.nan
    fftconv.correlate(holes, k, "same", nan_policy="omit")
    ((again, counted),) = _engine.calls._data.values()
    assert again is plan and "_nonfinite" in plan.__dict__
    assert counted == plan.nbytes and _engine.calls._bytes == plan.nbytes
    clear_caches()


# ------------------------------------------- a new kernel rebinds the last plan of its kind
def _counting_builds(monkeypatch):
    built = []
    real = _engine.build_plan

    def counting(*args, **kwargs):
        built.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(_engine, "build_plan", counting)
    return built


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("boundary", ["constant", "reflect", "wrap"])
def test_new_kernels_with_the_same_facts_rebind_the_plan_and_stay_right(monkeypatch, mode,
                                                                         boundary):
    built = _counting_builds(monkeypatch)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((70, 66))
    kernels = [rng.standard_normal((7, 7)) for _ in range(4)]
    for kernel in kernels:
        got = fftconv.convolve(x, kernel, mode, boundary=boundary, method="direct")
        assert_close(got, naive(x, kernel, mode, boundary=boundary), x, kernel)
    assert len(built) == 1  # the first kernel planned; the others rebound its plan
    again = fftconv.convolve(x, kernels[1], mode, boundary=boundary, method="direct")
    assert_close(again, naive(x, kernels[1], mode, boundary=boundary), x, kernels[1])


@pytest.mark.parametrize("method", ["fft", "overlap"])
@pytest.mark.parametrize(("shape", "side", "workers", "boundary"), [
    ((70, 66), 9, 1, "constant"), ((70, 66), 9, 2, "reflect"),
    ((600, 560), 21, 2, "constant"), ((600, 560), 21, 1, "wrap")])
def test_new_kernels_rebind_transform_plans_and_each_keeps_its_own_spectrum(
        monkeypatch, method, shape, side, workers, boundary):
    """A filter bank on the FFT strategies: one build, a spectrum per kernel, and the plan
    rebound from keeps its own kernel (the memo serves it again, sharing the scratch)."""
    built = _counting_builds(monkeypatch)
    rng = np.random.default_rng(16)
    x = rng.standard_normal(shape)
    kernels = [rng.standard_normal((side, side)) for _ in range(3)]

    def want(kernel):
        return scipy.ndimage.correlate(x, kernel, mode=_NDIMAGE[boundary])

    for kernel in (*kernels, kernels[0], kernels[2]):
        got = fftconv.correlate(x, kernel, "same", boundary=boundary, method=method,
                                workers=workers)
        assert_close(got, want(kernel), x, kernel)
    assert len(built) == 1


def test_rebound_exact_integer_ffts_bound_each_kernel_and_stay_exact(monkeypatch):
    built = _counting_builds(monkeypatch)
    rng = np.random.default_rng(17)
    x = rng.integers(0, 256, (300, 280)).astype(np.uint8)
    for _ in range(3):
        kernel = rng.integers(1, 5, (15, 15)).astype(np.uint8)  # no zero: the same facts
        got = fftconv.correlate(x, kernel, "same", method="fft")
        want = scipy.ndimage.correlate(x.astype(np.int64), kernel.astype(np.int64),
                                       mode="constant")
        np.testing.assert_array_equal(got, want)
    assert len(built) == 1


_NDIMAGE = {"constant": "constant", "reflect": "mirror", "wrap": "wrap"}


def test_rebinding_recomputes_what_integer_kernel_values_decide(monkeypatch):
    """Symmetry and the narrow exact sum of 8-bit images follow each kernel's values."""
    built = _counting_builds(monkeypatch)
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, (40, 52), dtype=np.uint8)
    plain = rng.integers(-3, 4, (5, 5))
    plain[plain == 0] = 1
    symmetric = np.abs(plain) + np.abs(plain)[:, ::-1]
    antisymmetric = plain - plain[:, ::-1]
    antisymmetric[:, 2] = 0
    large = plain * (1 << 40)  # too large for a float32 sum to stay exact
    for kernel in (plain, symmetric, large, plain[:, ::-1].copy()):
        got = fftconv.convolve(x, kernel, "same", method="direct")
        np.testing.assert_array_equal(got, naive(x, kernel, "same"))
    assert len(built) == 1
    got = fftconv.convolve(x, antisymmetric, "same", method="direct")  # other facts
    np.testing.assert_array_equal(got, naive(x, antisymmetric, "same"))
    assert len(built) == 2


def test_a_kernel_with_other_facts_is_planned_again(monkeypatch):
    built = _counting_builds(monkeypatch)
    rng = np.random.default_rng(13)
    x = rng.standard_normal((48, 48))
    dense = rng.standard_normal((5, 5))
    holes = dense.copy()
    holes[0, 0] = 0.0  # one tap fewer: another problem
    nan = dense.copy()
    nan[2, 2] = np.nan
    for kernel in (dense, holes, nan):
        got = fftconv.convolve(x, kernel, "same", method="direct")
        assert_close(got, naive(x, kernel, "same"), x, kernel)
    assert len(built) == 3


def test_a_kernel_with_the_same_facts_shares_the_problem_and_other_facts_get_their_own(
        monkeypatch):
    """A new kernel whose facts are the last plan's reuses that plan's problem (no second
    one is built); one with other facts gets a problem of its own, with its facts."""
    made = []
    real = _validate.Problem

    def counting(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(_validate, "Problem", counting)
    rng = np.random.default_rng(14)
    x = rng.standard_normal((40, 44))
    first, second = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    holes = second.copy()
    holes[1, 3] = 0.0
    for kernel in (first, second):
        got = fftconv.convolve(x, kernel, "same", method="direct")
        assert_close(got, naive(x, kernel, "same"), x, kernel)
    assert len(made) == 1
    got = fftconv.convolve(x, holes, "same", method="direct")
    assert_close(got, naive(x, holes, "same"), x, holes)
    assert len(made) == 2 and made[1].kernel_nonzero == 24 and made[0].kernel_nonzero == 25


def test_a_rebound_plan_takes_missing_data_with_its_own_kernel():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((40, 44))
    x[5, 7] = x[20, 30] = np.nan
    for seed in range(3):
        kernel = np.random.default_rng(seed).random((5, 5)) + 0.5
        got = fftconv.convolve(x, kernel, "same", method="direct", nan_policy="omit")
        np.testing.assert_allclose(got, reference_omit(x, kernel), rtol=1e-10, atol=1e-12)


def reference_omit(x, kernel):
    from reference import naive_omit

    return naive_omit(x, kernel, "same")


def test_changed_learned_corrections_stop_the_rebinding(monkeypatch):
    built = _counting_builds(monkeypatch)
    rng = np.random.default_rng(15)
    x = rng.standard_normal((64, 64))
    fftconv.convolve(x, rng.standard_normal((3, 3)), "same")
    _planner._forget_decisions()  # what learning does when a correction moves
    fftconv.convolve(x, rng.standard_normal((3, 3)), "same")
    assert len(built) == 2


def test_the_memo_evicts_the_least_recently_used_also_after_repeated_hits():
    memo = _engine.Memo(entries=2, max_bytes=1 << 20)
    memo.put("a", 1, 0)
    memo.put("b", 2, 0)
    assert memo.get("a") == 1 and memo.get("a") == 1  # the second hit moves nothing
    memo.put("c", 3, 0)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    assert memo.get("a") == 1
    memo.put("d", 4, 0)  # "c" was used before "a"
    assert (memo.get("c"), memo.get("a"), memo.get("d")) == (None, 1, 4)


def test_the_call_memo_scales_with_memory_so_a_large_fft_plan_is_kept():
    budget = _engine.calls._max_bytes
    assert 256 << 20 <= budget <= 1 << 30
    memo = _engine.Memo(entries=64, max_bytes=budget)
    memo.put("fft plan", "plan", 162 << 20)  # 2048², K = 127, float64 'fft'
    assert memo.get("fft plan") == ("plan" if budget >= 648 << 20 else None)
