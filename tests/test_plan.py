"""Plans: equal to one-shot calls, thread-safe, self-describing; explain() builds nothing."""

import os
import threading

import numpy as np
import pytest

import fftconv
from fftconv.strategies import registry
from reference import METHODS, assert_close, expected_dtype, naive, random_array

PLANNERS = {"convolve": fftconv.plan_convolve, "correlate": fftconv.plan_correlate}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("operation", ["convolve", "correlate"])
@pytest.mark.parametrize("dtype", ["float32", "complex128", "int64"])
def test_plan_equals_one_shot_call(method, operation, dtype):
    kernel = random_array((7, 6), dtype, seed=1)
    options = {"mode": "same", "boundary": "reflect", "anchor": (2, 4)}
    plan = PLANNERS[operation]((90, 80), kernel, x_dtype=dtype, method=method, **options)
    assert plan.out_shape == (90, 80)
    assert plan.dtype == expected_dtype(dtype, dtype)
    for seed in range(3):  # the plan is reusable
        x = random_array((90, 80), dtype, seed)
        got = plan(x)
        assert got.dtype == plan.dtype
        once = getattr(fftconv, operation)(x, kernel, method=method, **options)
        assert_close(got, once, x, kernel, factor=1)
        assert_close(got, naive(x, kernel, operation=operation, **options), x, kernel)


@pytest.mark.parametrize("method", ["direct", "fft", "overlap"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_plan_attributes(method, mode):
    x_shape, k_shape = (300, 1, 200), (9, 1, 14)
    plan = fftconv.plan_correlate(x_shape, np.ones(k_shape), mode, method=method)
    assert plan.method == method
    assert isinstance(plan.estimated_seconds, float) and plan.estimated_seconds > 0
    out_len = {"full": (308, 1, 213), "same": x_shape, "valid": (292, 1, 187)}[mode]
    assert plan.out_shape == out_len
    if method == "direct":
        assert plan.fft_shape is None and plan.block_shape is None
    elif method == "fft":
        # no circular wrap-around on the outputs: transforms of at least min(N, out) + K - 1
        assert all(f >= min(n, o) + k - 1
                   for f, n, o, k in zip(plan.fft_shape, x_shape, out_len, k_shape))
    else:
        assert all(f >= b + k - 1 for f, b, k in zip(plan.fft_shape, plan.block_shape, k_shape))


@pytest.mark.parametrize("n, size", [(1, 3), (2, 5), (1, 8), (3, 4)])
@pytest.mark.parametrize("mode", ["full", "same"])
def test_fft_shape_holds_kernels_larger_than_the_input(n, size, mode):
    x, kernel = random_array(n), random_array(size, seed=1)
    plan = fftconv.plan_convolve((n,), kernel, mode, method="fft")
    assert plan.fft_shape[0] >= size
    assert_close(plan(x), naive(x, kernel, mode), x, kernel)


@pytest.mark.parametrize("method", METHODS)
def test_out_argument(method):
    x, kernel = random_array((40, 30)), random_array((5, 5), seed=1)
    plan = fftconv.plan_convolve(x.shape, kernel, method=method)
    out = np.full(plan.out_shape, np.nan)
    assert plan(x, out=out) is out
    assert_close(out, naive(x, kernel), x, kernel)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("layout", ["in place", "fortran", "strided", "batch axes"])
def test_out_argument_aliasing_and_layouts(method, layout):
    # the result goes straight into a C-contiguous out that does not overlap x, and
    # through a copy otherwise: x must never be overwritten while it is still read
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 30))
    kernel = rng.standard_normal((5, 4))
    options = {"mode": "same", "boundary": "wrap"}
    if layout == "batch axes":
        options["axes"] = 0
        kernel = kernel[:, :1]
    want = naive(x, kernel, options["mode"], boundary="wrap", axes=options.get("axes"))
    plan = fftconv.plan_convolve(x.shape, kernel, method=method, **options)
    if layout == "in place":
        out = x.copy()
        assert plan(out, out=out) is out
    else:
        out = {"fortran": np.asfortranarray(np.empty_like(x)),
               "strided": np.empty((40, 60))[:, ::2]}.get(layout, np.empty_like(x))
        assert plan(x, out=out) is out
    assert_close(out, want, x, kernel)


@pytest.mark.parametrize("method", METHODS)
def test_repeated_calls_follow_the_kernel_and_the_options(method):
    # one-shot calls remember their plan by the kernel's bytes: changing the kernel in
    # place, the options or the thread count must give a new answer
    rng = np.random.default_rng(4)
    x, kernel = rng.standard_normal((50, 40)), rng.standard_normal((6, 5))
    first = fftconv.convolve(x, kernel, "same", method=method)
    assert_close(first, naive(x, kernel, "same"), x, kernel)
    kernel[2, 3] += 1.0
    assert_close(fftconv.convolve(x, kernel, "same", method=method), naive(x, kernel, "same"),
                 x, kernel)
    assert_close(fftconv.convolve(x, kernel, "same", method=method, boundary="edge"),
                 naive(x, kernel, "same", boundary="edge"), x, kernel)
    with fftconv.set_workers(1):
        again = fftconv.convolve(x, kernel, "same", method=method, boundary="edge")
    assert_close(again, naive(x, kernel, "same", boundary="edge"), x, kernel)
    kernel[0, 0] = np.nan  # a non-finite kernel changes what the planner may use
    got = fftconv.convolve(x, kernel, "same", method="auto" if method in ("fft", "overlap") else method)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(naive(x, kernel, "same")))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", ["float32", "complex128", "int64"])
def test_one_plan_called_from_eight_threads(method, dtype):
    kernel = random_array((9, 8), dtype, seed=100)
    plan = fftconv.plan_correlate((120, 110), kernel, "same", x_dtype=dtype, method=method,
                                  boundary="symmetric")
    inputs = [random_array((120, 110), dtype, seed) for seed in range(8)]
    expected = [plan(x) for x in inputs]
    start = threading.Barrier(8)
    results: list = [None] * 8

    def work(i):
        start.wait()
        results[i] = [plan(inputs[i]) for _ in range(5)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        for got in results[i]:
            np.testing.assert_array_equal(got, expected[i])


def test_report_lists_every_candidate_with_reasons():
    kernel = np.ones((5, 5))
    kernel[2, 2] = np.nan  # FFT strategies cannot serve a non-finite kernel
    plan = fftconv.plan_convolve((64, 64), kernel, "same")
    report = plan.report()
    text = str(report)
    names = [c.name for c in report.candidates]
    assert set(names) == set(registry()) >= {"direct", "fft", "overlap"}
    assert [c.name for c in report.candidates if c.chosen] == [plan.method] == [report.method]
    assert plan.method == "direct"
    lines = text.splitlines()
    for c in report.candidates:
        line = next(line for line in lines if c.name in line.split())
        if not c.chosen:
            assert c.rejected and c.rejected in line
    assert "non-finite" in next(c.rejected for c in report.candidates if c.name == "fft")


def test_report_of_measured_plan_has_timings():
    plan = fftconv.plan_convolve((200, 200), np.ones((7, 7)), "same", effort="measure")
    measured = [c for c in plan.report().candidates if c.measured is not None]
    assert any(c.chosen for c in measured) and len(measured) >= 2
    assert_close(plan(np.ones((200, 200))), naive(np.ones((200, 200)), np.ones((7, 7)), "same"),
                 np.ones(1), np.ones((7, 7)))


def test_explain_builds_nothing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("explain() built a plan")

    for strategy in registry().values():
        monkeypatch.setattr(strategy, "build", refuse)
    # far too large to allocate: the report alone must be cheap
    report = fftconv.explain((100_000, 100_000), (301, 301), "same", operation="correlate")
    assert report.method in registry()
    assert {c.name for c in report.candidates} == set(registry())
    assert "100000x100000" in str(report)
    # the chosen strategy fits in memory (the planner blocks the FFT instead)
    chosen = next(c for c in report.candidates if c.chosen)
    assert chosen.estimate.memory < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_explain_matches_the_plan():
    kernel = np.ones((31, 31))
    report = fftconv.explain((512, 512), kernel.shape, "same", method="overlap")
    plan = fftconv.plan_convolve((512, 512), kernel, "same", method="overlap")
    assert report.method == plan.method == "overlap"
    assert report.problem.describe() == plan.problem.describe()
    assert report.problem.out_shape == plan.out_shape


def test_set_workers_is_a_context_manager():
    before = fftconv.get_workers()
    with fftconv.set_workers(1):
        assert fftconv.get_workers() == 1
        x, kernel = random_array((300, 300)), random_array((9, 9), seed=1)
        one = fftconv.convolve(x, kernel, method="fft")
    assert fftconv.get_workers() == before
    assert_close(fftconv.convolve(x, kernel, method="fft", workers=2), one, x, kernel)
