"""The fused dense paths of ``propagate`` and ``omit`` (``_numerics/dense.py``,
``fused.py``, ``blockhook.py``) against the naive direct sum, one formulation at a time.

``overlap`` runs the dense ``omit`` block by block (the block hook); ``fft`` and ``direct``
run it with the whole-array split and finishing passes (``plan_for`` keeps them off the
blocked executor another method may take); a tiny threshold forces the scatter of
missing weights. Each is held to ``tests/reference.py``.
"""

import threading

import numpy as np
import pytest
from reference import BOUNDARIES, assert_close, naive, naive_omit

import fftconv
from fftconv._numerics import blockhook, counts, fused

PATHS = {"scatter": 10**12, "dense": 0}


def plan_for(x, kernel, mode, path, **options):
    plan = fftconv.plan_convolve(x.shape, kernel, mode, x_dtype=x.dtype, **options)
    nf = plan._missing()
    nf.threshold = {"propagate": PATHS[path], "omit": PATHS[path]}
    if plan.method != "overlap":  # the whole-array passes, not a blocked executor
        nf._hooked = False
    return plan


def holes(shape, density, dtype, seed, values=(np.nan,)):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) + 3).astype(dtype)
    bad = rng.random(shape) < density
    x[bad] = rng.choice(np.array(values, dtype=dtype), size=int(bad.sum()))
    hole = tuple(slice(s // 4, s // 4 + max(2, s // 3)) for s in shape)
    x[hole] = values[0]  # a cluster wider than the kernel: windows with no valid sample
    return x


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["overlap", "fft", "direct"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_omit_matches_the_direct_definition(path, method, boundary, dtype):
    kernel = np.outer(np.hanning(7) + 0.05, np.hanning(5) + 0.1).astype(dtype)
    options = {"boundary": boundary, "cval": 2.5 if boundary == "constant" else 0}
    for density in (0.05, 0.4):
        x = holes((61, 47), density, dtype, 3, values=(np.nan, np.inf, -np.inf))
        for mode in ("full", "same", "valid"):
            plan = plan_for(x, kernel, mode, path, method=method, nan_policy="omit", **options)
            got = plan(x)
            want = naive_omit(x, kernel, mode, **options)
            assert np.isnan(want).any() and np.isfinite(want).any()
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            ok = ~np.isnan(want)
            assert_close(got[ok], want[ok], np.nan_to_num(x, posinf=0, neginf=0), kernel,
                         cval=options["cval"], factor=8 * kernel.sum() / kernel.min())


def test_overlap_takes_the_block_hook_and_the_result_is_unchanged(monkeypatch):
    taken = []
    original = blockhook.BlockHook.finish

    def spy(self, *args):
        taken.append(1)
        return original(self, *args)

    monkeypatch.setattr(blockhook.BlockHook, "finish", spy)
    x = holes((300, 280), 0.1, "float64", 4)
    kernel = np.outer(np.hanning(31) + 0.01, np.hanning(25) + 0.01)
    got = plan_for(x, kernel, "same", "dense", method="overlap", nan_policy="omit")(x)
    assert taken, "the overlap executor did not take the hook"
    want = plan_for(x, kernel, "same", "dense", method="fft", nan_policy="omit")(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11, equal_nan=True)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["overlap", "fft"])
def test_fused_propagate_footprint_is_exact(path, method):
    x = holes((64, 70), 0.02, "float64", 5)
    kernel = np.array([[0.5, 0.0, 1.0], [0.0, 0.0, 0.0], [2.0, -1.0, 0.25]])
    got = plan_for(x, kernel, "same", path, method=method, boundary="reflect")(x)
    want = naive(x, kernel, "same", boundary="reflect")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))  # zero taps count
    ok = np.isfinite(want)
    assert_close(got[ok], want[ok], np.nan_to_num(x), kernel)


def test_omit_on_one_dimensional_signals():
    x = holes((500,), 0.1, "float64", 6)
    kernel = np.hanning(21) + 0.01
    for method in ("overlap", "fft", "direct"):
        for path in PATHS:
            got = plan_for(x, kernel, "same", path, method=method, nan_policy="omit")(x)
            want = naive_omit(x, kernel, "same")
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            ok = ~np.isnan(want)
            assert_close(got[ok], want[ok], np.nan_to_num(x), kernel, factor=64)


def test_huge_finite_values_survive_the_block_hook():
    # the transform of a block overflows and is redone scaled by a power of two; the
    # hook's marks must survive the scaling
    x = np.full((120, 90), 1e300)
    x[::3, ::4] = np.nan
    kernel = np.full((5, 5), 1e4)
    got = plan_for(x, kernel, "same", "dense", method="overlap", nan_policy="omit",
                   boundary="edge")(x)
    np.testing.assert_allclose(got, 25e4 * 1e300, rtol=1e-9)


@pytest.mark.parametrize("method,policy", [("fft", "omit"), ("overlap", "propagate"),
                                           ("fft", "propagate")])
def test_a_signal_over_max_memory_is_refused_clearly(method, policy):
    x = holes((128, 128), 0.1, "float64", 7)
    kernel = np.ones((9, 9))
    budget = 200_000 if method == "overlap" else 1_000_000
    plan = fftconv.plan_convolve(x.shape, kernel, "same", method=method, nan_policy=policy,
                                 max_memory=budget)
    assert np.isfinite(plan(np.nan_to_num(x))).all()  # finite input: no scratch needed
    with pytest.raises(ValueError, match=rf"max_memory={budget} bytes is too small.*one "
                                         rf"signal needs \d+ bytes.*nan_policy='{policy}'"):
        plan(x)


def test_omit_on_overlap_fits_a_budget_below_one_signal():
    # block by block, the dense omit needs a few blocks of scratch, not a signal's
    x = holes((128, 128), 0.0002, "float64", 7)
    kernel = np.outer(np.hanning(9) + 0.1, np.hanning(9) + 0.1)
    plan = fftconv.plan_convolve(x.shape, kernel, "same", method="overlap", nan_policy="omit",
                                 max_memory=200_000)
    assert plan._missing().scratch() > 200_000
    want = naive_omit(x, kernel, "same")
    np.testing.assert_allclose(plan(x), want, rtol=1e-10, atol=1e-10, equal_nan=True)
    x[5, 5] = np.inf  # infinities are missing too under omit
    want = naive_omit(x, kernel, "same")
    np.testing.assert_allclose(plan(x), want, rtol=1e-10, atol=1e-10, equal_nan=True)


def test_kept_scratch_is_safe_across_threads():
    x = holes((200, 180), 0.05, "float64", 8)
    kernel = np.outer(np.hanning(15) + 0.01, np.hanning(11) + 0.01)
    inputs = [x * (i + 1) for i in range(6)]
    for method in ("overlap", "fft"):
        plan = plan_for(x, kernel, "same", "dense", method=method, nan_policy="omit")
        want = [plan(a) for a in inputs]
        got = [None] * len(inputs)

        def work(i, plan=plan, got=got):
            got[i] = plan(inputs[i])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("method", ["separable", "fft"])
def test_other_methods_take_a_blocked_executor_for_the_dense_omit(method, monkeypatch):
    taken = []
    original = blockhook.BlockHook.finish

    def spy(self, *args):
        taken.append(1)
        return original(self, *args)

    x = holes((160, 150), 0.05, "float32", 11)
    kernel = np.outer(np.hanning(21) + 0.01, np.hanning(17) + 0.01).astype("float32")
    plan = fftconv.plan_convolve(x.shape, kernel, "same", x_dtype=x.dtype, method=method,
                                 nan_policy="omit")
    nf = plan._missing()
    nf.seconds = 1e-9  # the plan's own dense way is cheaper: no blocked executor
    assert nf._blocked_choice() is None
    nf.seconds = 10.0  # the plan's own dense way is dearer (decided from its estimate)
    choice = nf._blocked_choice()
    assert choice is not None and choice[0].name == "overlap"
    before = plan.nbytes
    monkeypatch.setattr(blockhook.BlockHook, "finish", spy)
    got = plan(x)
    assert taken, "the dense omit did not run block by block"
    assert plan.nbytes == before + choice[1].memory  # the blocked executor is counted
    want = naive_omit(x.astype(np.float64), kernel.astype(np.float64), "same")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert_close(got[ok], want[ok], np.nan_to_num(x).astype(np.float64), kernel, factor=64)


def test_no_blocked_executor_where_it_does_not_fit_or_serve():
    x = holes((160, 150), 0.05, "float32", 11)
    kernel = np.outer(np.hanning(21) + 0.01, np.hanning(17) + 0.01).astype("float32")
    tight = fftconv.plan_convolve(x.shape, kernel, "same", x_dtype=x.dtype, method="fft",
                                  nan_policy="omit")
    tight._missing().seconds = 10.0
    est = tight._missing()._blocked_choice()[1]
    small = fftconv.plan_convolve(x.shape, kernel, "same", x_dtype=x.dtype, method="fft",
                                  nan_policy="omit",
                                  max_memory=tight.estimate.memory + est.memory - 1)
    small._missing().seconds = 10.0
    assert small._missing()._blocked_choice() is None  # over the budget
    zero_tap = kernel.copy()
    zero_tap[0, 0] = 0  # the block hook counts whole boxes
    other = fftconv.plan_convolve(x.shape, zero_tap, "same", x_dtype=x.dtype, method="fft",
                                  nan_policy="omit")
    other._missing().seconds = 10.0
    assert other._missing()._blocked_choice() is None
    prop = fftconv.plan_convolve(x.shape, kernel, "same", x_dtype=x.dtype, method="fft",
                                 nan_policy="propagate")
    prop._missing().seconds = 10.0
    assert prop._missing()._blocked_choice() is None
    plain = fftconv.plan_convolve(x.shape, kernel, "same", x_dtype=x.dtype, method="fft",
                                  nan_policy="omit")
    plain._missing().seconds = 1e-9
    assert plain.nbytes == plain._kernel.nbytes + plain.estimate.memory
    got = plain(x)  # the whole-array passes, their scratch kept and counted
    kept = sum(a.nbytes for a in plain._missing()._kept.values())
    assert kept >= x.nbytes and plain.nbytes == plain._kernel.nbytes + plain.estimate.memory + kept
    want = naive_omit(x.astype(np.float64), kernel.astype(np.float64), "same")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_the_report_names_the_blocked_executor():
    kernel = np.outer(np.hanning(97) + 0.01, np.hanning(97) + 0.01).astype("float32")
    plan = fftconv.plan_convolve((2048, 2048), kernel, "same", x_dtype="float32",
                                 method="separable", nan_policy="omit")
    line = str(plan.report()).splitlines()[-1]
    blocked = plan._missing()._blocked_choice()
    assert ("block by block on an overlap-save" in line) == (blocked is not None)
    assert ("kernel spectrum)" in line) == (blocked is None)


def test_weight_transform_overflow_bound():
    hook = blockhook.BlockHook((5, 5), np.array([1.0]), np.array([25]), 0, None, l1=1.0)
    assert not hook.weight_may_overflow(1 << 20, np.dtype(np.float32))
    hook = blockhook.BlockHook((5, 5), np.array([1.0]), np.array([25]), 1e33, None, l1=1.0)
    assert hook.weight_may_overflow(1 << 20, np.dtype(np.float32))  # |w| = |cval|
    assert not hook.weight_may_overflow(1 << 20, np.dtype(np.float64))
    unknown = blockhook.BlockHook((5, 5), np.array([1.0]), np.array([25]), 0, None)
    assert unknown.weight_may_overflow(4, np.dtype(np.float64))


def test_the_weight_transform_is_checked_only_where_it_can_overflow(monkeypatch):
    from fftconv.strategies import overlap

    checks = []
    original = overlap.all_finite

    def spy(a):
        checks.append(a.shape)
        return original(a)

    chunks = []
    split = blockhook.BlockHook.split

    def count_chunks(self, *args):
        chunks.append(1)
        return split(self, *args)

    monkeypatch.setattr(overlap, "all_finite", spy)
    monkeypatch.setattr(blockhook.BlockHook, "split", count_chunks)
    x = holes((90, 80), 0.05, "float32", 12)
    for tap, factor in ((1.0, 1), (1e36, 2)):  # sum|k| * points over the float32 range
        kernel = np.full((5, 5), tap, np.float32)
        plan = plan_for(x, kernel, "same", "dense", method="overlap", nan_policy="omit")
        plan(x)  # the first call also probes the executor
        checks.clear()
        chunks.clear()
        plain = plan(x)
        assert chunks and len(checks) == factor * len(chunks), (tap, checks)
        want = naive_omit(x.astype(np.float64), kernel.astype(np.float64), "same")
        np.testing.assert_array_equal(np.isnan(plain), np.isnan(want))


def test_counts_stop_at_a_limit():
    x = np.zeros(1 << 20)
    x[::100] = np.nan
    x[-1] = np.inf
    every = int(np.count_nonzero(~np.isfinite(x)))
    assert fused.count(x.reshape(1, -1), 2) == (every, 1)
    nbad, ninf = fused.count(x.reshape(1, -1), 2, limit=50)
    assert 50 < nbad < every and ninf == -1  # stopped early: partial
    few = np.zeros(1 << 20)
    few[[3, 1 << 19]] = np.nan
    few[-1] = -np.inf
    assert fused.count(few.reshape(1, -1), 2, limit=50) == (3, 1)  # under it: exact


def test_counts_of_non_finite_samples():
    x = np.arange(3_000_000, dtype=np.float64)
    x[[5, 77, 2_999_999]] = np.nan
    x[[10, 1_500_000]] = np.inf
    x[20] = -np.inf
    assert fused.count(x.reshape(1, -1), 2) == (6, 3)
    data, marks = np.empty_like(x), np.empty(x.shape, np.uint8)
    assert fused.split(x, data, None, marks, 0, True, 2) == (3, 3)  # nan only: missing
    assert marks.sum() == 3 and np.isinf(data).sum() == 3
    assert fused.split(x, data, None, marks, 0, False, 2) == (6, 3)
    assert np.isfinite(data).all() and data[5] == 0 and marks.sum() == 6


@pytest.mark.parametrize("shape,kshape", [((40,), (7,)), ((30, 25), (5, 4))])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_row_scatter_matches_the_sum_of_terms(shape, kshape, dtype):
    rng = np.random.default_rng(9)
    kernel = rng.standard_normal((1, *kshape)).astype(dtype)
    ext = tuple(s + k - 1 for s, k in zip(shape, kshape))
    pos = np.stack([rng.integers(0, e, 25) for e in ext], axis=1).astype(np.intp)
    vals = rng.standard_normal(25).astype(dtype)
    out = np.zeros((1, *shape), dtype)
    counts.scatter(pos, np.zeros(25, np.intp), vals, kernel, out)
    want = np.zeros((1, *shape), dtype)
    for p, v in zip(pos, vals):
        for t in np.ndindex(*kshape):
            i = tuple(pi - ti for pi, ti in zip(p, t))
            if all(0 <= a < s for a, s in zip(i, shape)):
                want[(0, *i)] += kernel[(0, *t)] * v
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
