"""The register-blocked direct sum for small kernels, against the naive reference.

Kernel shapes are drawn from a short list: every (dtype, shape, vector width, symmetry)
compiles once, so the list bounds the first run's compile time. ``FFTCONV_FUZZ=deep``
draws any shape up to 9 x 9 and runs many more examples.
"""

import os

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
from fftconv.strategies import _small_kernel as sk
from reference import BOUNDARIES, MODES, assert_close, naive, random_array

DEEP = os.environ.get("FFTCONV_FUZZ") == "deep"
SHAPES = [(3, 3), (1, 5), (5, 1), (2, 4), (9, 9), (1, 1), (7, 3)]
EXAMPLES = 400 if DEEP else 40


def kernel_shapes():
    if DEEP:
        return st.tuples(st.integers(1, 9), st.integers(1, 9))
    return st.sampled_from(SHAPES)


def blocked(plan):
    return "register-blocked" in plan.estimate.note


@st.composite
def problems(draw):
    kh, kw = draw(kernel_shapes())
    mode = draw(st.sampled_from(MODES))
    lo_h, lo_w = (kh, kw) if mode == "valid" else (1, 1)
    shape = (draw(st.integers(lo_h, 30)), draw(st.integers(lo_w, 70)))
    batch = draw(st.sampled_from([(), (2,)]))
    dtype = draw(st.sampled_from(["float32", "float64", "int64", "uint8", "int16"]))
    seed = draw(st.integers(0, 2**16))
    x = random_array(batch + shape, dtype, seed)
    if dtype in ("float32", "float64"):
        k = random_array((kh, kw), dtype, seed + 1)
        k[k == 0] = 1  # every tap non-zero: the kernel sees non-finite inputs directly
    else:
        k = random_array((kh, kw), "int64", seed + 1) % 7 - 3
        if draw(st.booleans()):  # a symmetric or antisymmetric integer kernel
            k = k + k[:, ::-1] if draw(st.booleans()) else k - k[:, ::-1]
    boundary = draw(st.sampled_from(BOUNDARIES))
    options = {"boundary": boundary, "axes": (-2, -1)}
    if boundary == "constant" and draw(st.booleans()):
        options["cval"] = draw(st.sampled_from([2, -3]))
    if dtype.startswith("float") and draw(st.booleans()):  # NaN and infinities
        flat = x.reshape(-1)
        idx = draw(st.lists(st.integers(0, flat.size - 1), max_size=3))
        flat[idx] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    operation = draw(st.sampled_from(["convolve", "correlate"]))
    return operation, x, k, mode, options


@settings(max_examples=EXAMPLES)
@given(problems())
def test_blocked_sum_matches_reference(problem):
    operation, x, k, mode, options = problem
    got = getattr(fftconv, operation)(x, k, mode, method="direct", **options)
    want = naive(x, k, mode, operation=operation, **options)
    assert_close(got, want, x, k, cval=options.get("cval", 0))


@settings(max_examples=EXAMPLES // 2)
@given(problems(), st.sampled_from([128, 256, 512]), st.integers(1, 3), st.booleans())
def test_every_vector_width_and_block_split(problem, bits, parts, sparse):
    """``prepare`` directly: other vector widths, tasks split at any block, and the sparse
    sum (non-zero taps only) on the same problems, with some taps zeroed."""
    operation, x, k, mode, options = problem
    if sparse:
        k = np.where(np.arange(k.size).reshape(k.shape) % 3 == 1, 0, k).astype(k.dtype)
        x = np.where(np.isfinite(x), x, 0).astype(x.dtype)  # the plan zeroes them first
    want = naive(x, k, mode, operation=operation, **options)
    plan = getattr(fftconv, f"plan_{operation}")(x.shape, k, mode, x_dtype=x.dtype,
                                                 method="direct", **options)
    p = plan.problem
    kern = plan._kernel
    run = sk.prepare((p.batch, *p.n), kern, (p.batch, *p.out_len), 2, p.pad, p.boundary,
                     p.cval, bits=bits, sparse=sparse)
    xb = np.ascontiguousarray(x.reshape(p.batch, *p.n),
                              dtype=p.compute_dtype)
    out = np.empty((p.batch, *p.out_len), p.compute_dtype)
    if parts > 1:  # force a split into ``parts`` task ranges, however small
        run = _split(sk, p, kern, parts, bits, sparse)
    run(xb, out)
    assert_close(out.reshape(want.shape), want, x, k, cval=options.get("cval", 0))


def _split(sk, p, kern, parts, bits, sparse):
    import fftconv.strategies._small_kernel as mod

    saved = mod.sum_threads
    mod.sum_threads = lambda seconds, workers, costs=None: parts
    try:
        return sk.prepare((p.batch, *p.n), kern, (p.batch, *p.out_len), parts, p.pad,
                          p.boundary, p.cval, bits=bits, sparse=sparse)
    finally:
        mod.sum_threads = saved


def test_float32_error_tied_to_abs_sum():
    """Each float32 output within a few ulps of ``sum |k| |x~|`` of the float64 sum."""
    dtype = "float32"
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 100)).astype(dtype) * 10.0 ** rng.integers(-3, 4, (64, 100))
    k = rng.standard_normal((9, 9)).astype(dtype)
    got = fftconv.correlate(x, k, "same", boundary="reflect", method="direct")
    want = naive(x.astype(np.float64), k.astype(np.float64), "same", operation="correlate",
                 boundary="reflect")
    scale = naive(np.abs(x).astype(np.float64), np.abs(k).astype(np.float64), "same",
                  operation="correlate", boundary="reflect")
    err = np.abs(got.astype(np.float64) - want)
    assert np.all(err <= 4 * np.finfo(dtype).eps * scale)
    assert np.any(err > 0)  # the sum really was rounded in float32


@pytest.mark.parametrize("shape", [(3, 3), (9, 9), (5, 1), (1, 7)])
def test_planner_picks_dense_blocked_sum_for_small_kernels(shape):
    k = np.random.default_rng(0).random(shape) + 0.5
    plan = fftconv.plan_correlate((512, 512), k, "same", x_dtype="float32")
    assert plan.method == "direct" and blocked(plan) and "non-zero" not in plan.estimate.note


def test_motion_blur_uses_sparse_sum_and_matches_reference():
    """A 1 x 120 line (a horizontal motion blur): the blocked sum over its taps."""
    k = np.full((1, 120), 1 / 120, np.float32)
    plan = fftconv.plan_correlate((3000, 4000), k, "same", x_dtype="float32",
                                  boundary="reflect")
    assert plan.method == "direct" and "120 non-zero taps" in plan.estimate.note
    x = random_array((9, 300), "float32", 3)
    got = fftconv.correlate(x, k, "same", boundary="reflect")
    want = naive(x, k, "same", operation="correlate", boundary="reflect")
    assert_close(got, want, x, k)
    diag = np.eye(25)[::-1] / 25  # a diagonal blur: 25 taps over 25 rows
    x = random_array((40, 60), "float64", 4)
    got = fftconv.correlate(x, diag, "same", boundary="wrap", method="direct")
    assert_close(got, naive(x, diag, "same", operation="correlate", boundary="wrap"), x, diag)


def test_sparse_kernel_costed_by_its_nonzero_taps():
    """A 9 x 9 cross has 17 of 81 taps: the tap-skipping sum wins over the dense block."""
    k = np.zeros((9, 9))
    k[4, :] = 1
    k[:, 4] = 1
    plan = fftconv.plan_correlate((2048, 2048), k, "same", x_dtype="float64")
    full = np.random.default_rng(1).random((9, 9)) + 0.5  # not separable
    dense = fftconv.plan_correlate((2048, 2048), full, "same", x_dtype="float64")
    assert blocked(dense)
    assert plan.method == "direct" and not blocked(plan)
    assert plan.estimate.seconds < dense.estimate.seconds


def test_symmetry_detection():
    k = np.array([[1, 2, 1], [3, 0, 3]])
    assert sk.symmetry(k) == 1
    assert sk.symmetry(np.array([[1, 0, -1], [2, 0, -2]])) == 2
    assert sk.symmetry(np.array([[1, 2, 3]])) == 0
    assert sk.symmetry(np.array([[1.0, 2.0, 1.0]])) == 0  # floats keep every multiply
    assert sk.symmetry(np.array([[1, 0, 1]], np.uint64)) == 1
    assert sk.symmetry(np.array([[5]])) == 0


def test_vector_bits_override(monkeypatch):
    sk.vector_bits.cache_clear()
    monkeypatch.setenv(sk.VECTOR_ENV, "256")
    try:
        assert sk.vector_bits() == 256
    finally:
        sk.vector_bits.cache_clear()
    monkeypatch.setenv(sk.VECTOR_ENV, "bogus")
    assert sk.vector_bits() in (128, 256, 512)
    sk.vector_bits.cache_clear()


@pytest.mark.parametrize("bits", [128, 256, 512])
def test_vector_width_reaches_the_emitted_code(bits):
    """The lanes per vector follow the width in the tag (it once read the tag's word
    count as bits: every width emitted one lane, and LLVM vectorised what it could)."""
    from numba import typeof, types
    from fftconv.strategies._small_simd import lanes, tag

    shape = typeof(tag(sk.ROWS, bits, 3, 3))
    assert lanes(shape, types.float32) == bits // 32
    assert lanes(shape, types.float64) == bits // 64
    assert lanes(shape, types.int64) == bits // 64


@pytest.mark.parametrize("n", [15, 16, 17, 31, 33, 47])
@pytest.mark.parametrize("bits", [256, 512])
def test_rows_around_a_vector_length(n, bits):
    """Row lengths just off a multiple of the lanes: the last vector overlaps the one
    before, a row shorter than a vector runs one column at a time."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((6, n)).astype(np.float32)
    for k in (rng.standard_normal((3, 3)).astype(np.float32),
              rng.standard_normal((1, 5)).astype(np.float32)):
        want = naive(x, k, "valid", operation="correlate")
        for sparse in (False, True):
            if sparse and k.shape[0] > 1:
                continue
            L = (6 - k.shape[0] + 1, n - k.shape[1] + 1)
            run = sk.prepare((1, 6, n), k.reshape(1, *k.shape), (1, *L), 1, ((0, 0), (0, 0)),
                             bits=bits, sparse=sparse)
            out = np.full((1, *L), np.nan, np.float32)
            run(x.reshape(1, 6, n), out)
            assert_close(out[0], want, x, k)


def test_strided_input_and_output_and_a_read_only_input():
    """``run`` on views that are not C-contiguous (its entry point is typed for C order)
    and on a read-only input (another entry), each against the reference."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 20, 60))
    k = rng.standard_normal((1, 3, 5))
    want = naive(x[0, :, ::2], k[0], "same", operation="correlate", boundary="reflect")
    run = sk.prepare((1, 20, 30), k, (1, 20, 30), 1, ((1, 1), (2, 2)), "reflect")
    for _ in range(2):  # the second call takes the cached entry
        big = np.full((1, 20, 60), np.nan)
        run(x[:, :, ::2], big[:, :, 1::2])
        assert_close(big[0, :, 1::2], want, x[0, :, ::2], k[0])
        assert np.isnan(big[0, :, ::2]).all()
        frozen = np.ascontiguousarray(x[:, :, ::2])
        frozen.flags.writeable = False
        out = np.empty((1, 20, 30))
        run(frozen, out)
        assert_close(out[0], want, x[0, :, ::2], k[0])


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_narrow_integer_images_read_uncast_and_exact(dtype, boundary):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    x = rng.integers(info.min, info.max, (23, 41), endpoint=True).astype(dtype)
    x[0, :5] = info.max
    x[-1, -5:] = info.min
    k = rng.integers(-4, 5, (5, 3))
    k[2, 1] = 9
    plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype, boundary=boundary)
    assert blocked(plan)
    assert np.dtype(dtype) in plan._execute.exact_inputs
    want = naive(x, k, "same", operation="correlate", boundary=boundary)
    got = plan(x)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.astype(object), want)
    # a plan called with another integer dtype of the same result type casts as before
    x32 = x.astype(np.int32)
    np.testing.assert_array_equal(plan(x32).astype(object), want)


def test_narrow_path_bound_picks_float32_float64_or_nothing():
    k = np.ones((3, 3), np.int64)
    assert sk.narrow_dtype(np.dtype("uint8"), k, "reflect", 0) == np.float32
    assert sk.narrow_dtype(np.dtype("uint16"), k * 1000, "reflect", 0) == np.float64
    assert sk.narrow_dtype(np.dtype("uint16"), k * 2**40, "reflect", 0) is None
    assert sk.narrow_dtype(np.dtype("int32"), k, "reflect", 0) is None
    assert sk.narrow_dtype(np.dtype("uint8"), k, "constant", -1) is None  # cval outside uint8
    assert sk.narrow_dtype(np.dtype("uint8"), k.astype(np.float64), "reflect", 0) is None


def test_narrow_path_large_sums_stay_exact():
    """uint16 near its maximum with a kernel whose sums pass 2**24: the float64 path."""
    x = np.full((12, 30), 65535, np.uint16)
    x[::3, ::4] = 1
    k = np.full((3, 3), 300, np.int64)
    k[1, 1] = -7
    got = fftconv.correlate(x, k, "same", boundary="edge", method="direct")
    want = naive(x, k, "same", operation="correlate", boundary="edge")
    np.testing.assert_array_equal(got.astype(object), want)
    got = fftconv.correlate(x, k, "same", boundary="constant", cval=-5, method="direct")
    want = naive(x, k, "same", operation="correlate", boundary="constant", cval=-5)
    np.testing.assert_array_equal(got.astype(object), want)


def test_unsigned_result_from_narrow_unsigned_inputs():
    x = np.random.default_rng(8).integers(0, 256, (17, 19)).astype(np.uint8)
    k = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.uint8)
    got = fftconv.correlate(x, k, "same", boundary="symmetric")
    assert got.dtype == np.uint64
    np.testing.assert_array_equal(got.astype(object),
                                  naive(x, k, "same", operation="correlate", boundary="symmetric"))


COSTS = {"overhead": {"parallel": 8e-5}, "parallel_efficiency": {"direct": 0.8}}


def test_sum_threads_wakes_the_pool_only_for_jobs_that_win_it_back():
    """Break-even: the threads save ``seconds * (1 - 1/1.8)``; they must beat the wake-up
    (80 us here) by at least ``PARALLEL_MIN_SECONDS``."""
    from fftconv.strategies import direct

    even = direct.PARALLEL_MIN_SECONDS + 8e-5 / (1 - 1 / 1.8)
    assert direct.sum_threads(even * 0.99, 2, COSTS) == 1
    assert direct.sum_threads(even * 1.01, 2, COSTS) == 2
    assert direct.sum_threads(10.0, 1, COSTS) == 1
    slow_wake = {**COSTS, "overhead": {"parallel": 1e-2}}
    assert direct.sum_threads(10 * even, 2, slow_wake) == 1


@pytest.mark.parametrize("shape, dtype", [((256, 256), "float32"), ((256, 256), "float64"),
                                          ((512, 512), "float32")])
def test_short_blocked_sums_plan_one_thread(shape, dtype):
    """A 3 x 3 sum at 256² takes tens of microseconds: no parallel hand-over is costed
    (nor made: the executor decides with the same rule)."""
    from fftconv._machine.costs import machine_costs
    from fftconv.strategies import direct

    k = np.random.default_rng(0).random((3, 3)) + 0.5
    plan = fftconv.plan_correlate(shape, k.astype(dtype), "same", x_dtype=dtype, workers=2)
    assert plan.method == "direct" and blocked(plan)
    costs = machine_costs()
    seconds = shape[0] * shape[1] * 9 * direct.sum_rate(costs, np.dtype(dtype), "dense")
    assert direct.sum_threads(seconds, 2, costs) == 1
    one = fftconv.plan_correlate(shape, k.astype(dtype), "same", x_dtype=dtype, workers=1)
    assert plan.estimate.seconds == pytest.approx(one.estimate.seconds)


def test_long_sums_are_split_and_match_reference(monkeypatch):
    """With the threshold lowered, both sums split over threads (the blocked sum, and the
    row-axpy sum of a kernel batch with 11 rows) and still match the naive reference."""
    from fftconv.strategies import direct

    monkeypatch.setattr(direct, "PARALLEL_MIN_SECONDS", -1.0)
    x = random_array((2, 37, 45), "float64", 11)
    k = random_array((5, 4), "float64", 12) + 3
    got = fftconv.correlate(x, k, "same", boundary="reflect", axes=(-2, -1), method="direct",
                            workers=2)
    want = naive(x, k, "same", operation="correlate", boundary="reflect", axes=(-2, -1))
    assert_close(got, want, x, k)
    kb = random_array((2, 11, 3), "float64", 13) + 3  # 11 rows: beyond the blocked sum
    plan = fftconv.plan_correlate(x.shape, kb, "same", axes=(-2, -1), boundary="wrap",
                                  method="direct", workers=2)
    assert not blocked(plan)
    got = plan(x)
    for i in range(2):
        want = naive(x[i], kb[i], "same", operation="correlate", boundary="wrap")
        assert_close(got[i], want, x[i], kb[i])


@contextlib.contextmanager
def _axpy_costlier():
    """Constants in which the row-axpy sum costs 10x its rate, so the planner's direct
    sum is the register-blocked one wherever that serves (decisions forgotten around)."""
    import copy

    from fftconv._machine import costs as _costs

    wrong = copy.deepcopy(_costs.machine_costs())
    for name in wrong["direct_per_mac"]:
        wrong["direct_per_mac"][name] *= 10
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_costs, "_costs", wrong)
        fftconv._engine.clear_caches()
        try:
            yield
        finally:
            fftconv._engine.clear_caches()


@settings(max_examples=EXAMPLES // 2)
@given(problems(), st.integers(1, 3))
def test_one_kernel_per_image_uses_the_blocked_sum(problem, parts):
    """A batch of images, each with its own kernel: the dense blocked sum (any split of
    its blocks over threads), against the naive reference image by image."""
    operation, x, k, mode, options = problem
    if x.ndim == 2:
        x = np.stack([x, x[::-1] * 2])
    ks = np.stack([k, (k[::-1, ::-1] * 3 - 1).astype(k.dtype)])
    with _axpy_costlier():  # the blocked sum's own path, whatever this machine's rates
        plan = fftconv.plan_correlate(x.shape, ks, mode, x_dtype=x.dtype, method="direct",
                                      **options) if operation == "correlate" else \
            fftconv.plan_convolve(x.shape, ks, mode, x_dtype=x.dtype, method="direct",
                                  **options)
    assert blocked(plan)
    if parts > 1:
        from fftconv.strategies import direct

        with pytest.MonkeyPatch.context() as mp, _axpy_costlier():
            mp.setattr(direct, "PARALLEL_MIN_SECONDS", -1.0)
            plan = getattr(fftconv, f"plan_{operation}")(x.shape, ks, mode, x_dtype=x.dtype,
                                                         method="direct", workers=parts,
                                                         **options)
    got = plan(x)
    for i in range(2):
        want = naive(x[i], ks[i], mode, operation=operation, **options)
        assert_close(got[i], want, x[i], ks[i], cval=options.get("cval", 0))


KERNELS_3D = [(3, 3, 3), (2, 1, 4), (1, 3, 2), (3, 1, 1)]


@pytest.mark.parametrize("kshape", KERNELS_3D)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "int16"])
def test_blocked_3d_matches_reference(kshape, dtype):
    """3-d kernels up to 5 per axis take the blocked sum: every boundary, every mode, a
    batch, non-finite samples for floats, symmetric integer kernels."""
    rng = np.random.default_rng(sum(kshape) + len(dtype))
    x = random_array((2, 6, 5, 37), dtype, int(rng.integers(1000)))
    if dtype.startswith("float"):
        k = random_array(kshape, dtype, 3)
        k[k == 0] = 1
        x[0, 2, 3, 7] = np.nan
        x[1, 0, 0, 30] = np.inf
    else:
        k = random_array(kshape, "int64", 4) % 7 - 3
        if dtype == "int16":
            k = k + k[..., ::-1]  # rows that are palindromes share their multiplies
    for boundary in BOUNDARIES:
        for mode in MODES:
            options = {"boundary": boundary, "axes": (-3, -2, -1)}
            if boundary == "constant" and mode == "full":
                options["cval"] = 2
            plan = fftconv.plan_convolve(x.shape, k, mode, x_dtype=x.dtype, method="direct",
                                         **options)
            assert blocked(plan), plan.estimate.note
            got = plan(x)
            want = naive(x, k, mode, operation="convolve", **options)
            assert_close(got, want, x, k, cval=options.get("cval", 0))


@pytest.mark.parametrize("parts", [1, 3])
def test_blocked_3d_per_image_kernels_and_split(parts):
    """One 3-d kernel per image, and the blocks split over task ranges."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 9, 20))
    k = rng.standard_normal((3, 3, 2, 3))
    plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype, boundary="wrap",
                                  axes=(-3, -2, -1), method="direct")
    assert blocked(plan), plan.estimate.note
    p = plan.problem
    want = np.stack([naive(x[b], k[b], "same", operation="correlate", boundary="wrap")
                     for b in range(3)])
    assert_close(plan(x), want, x, k)
    run = _split(sk, p, plan._kernel, parts, None, False)
    out = np.empty((p.batch, *p.out_len))
    run(np.ascontiguousarray(x.reshape(p.batch, *p.n)), out)
    assert_close(out.reshape(want.shape), want, x, k)


def test_sparse_blocked_sum_takes_one_2d_kernel():
    with pytest.raises(ValueError, match="takes one 1-d or 2-d kernel"):
        sk.prepare((1, 4, 5, 6), np.ones((1, 2, 2, 2)), (1, 3, 4, 5), 1,
                   ((0, 0),) * 3, sparse=True)
    with pytest.raises(ValueError, match="takes one 1-d or 2-d kernel"):
        sk.prepare((2, 5, 6), np.ones((2, 2, 2)), (2, 4, 5), 1, ((0, 0),) * 2, sparse=True)
