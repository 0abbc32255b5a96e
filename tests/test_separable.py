"""The separable strategy: low-rank kernels as sums of 1-d passes, against the reference."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
from fftconv._numerics.lowrank import factorize, separable_rank
from fftconv.strategies import registry

from reference import BOUNDARIES, METHODS, MODES, assert_close, naive

#: Strategies that serve only some problems, each tested in its own module.
CONDITIONAL = {"separable"}


def test_every_registered_strategy_is_tested():
    assert set(registry()) == (set(METHODS) - {"auto"}) | CONDITIONAL


def low_rank(shape, rank, dtype, seed):
    """A random kernel of exactly ``rank`` separable terms (2-d) or rank 1 (n-d)."""
    rng = np.random.default_rng(seed)
    def vec(n):
        v = rng.standard_normal(n)
        if np.dtype(dtype).kind == "c":
            v = v + 1j * rng.standard_normal(n)
        return v
    total = 0
    for _ in range(rank if len(shape) == 2 else 1):
        term = vec(shape[0])
        for n in shape[1:]:
            term = np.multiply.outer(term, vec(n))
        total = total + term
    return np.asarray(total).astype(dtype)


@settings(max_examples=60, deadline=None)
@given(
    ndim=st.sampled_from([2, 2, 3]),
    data=st.data(),
    mode=st.sampled_from(MODES),
    boundary=st.sampled_from(BOUNDARIES),
    dtype=st.sampled_from(["float32", "float64", "complex128"]),
    flip=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_separable_matches_reference(ndim, data, mode, boundary, dtype, flip, seed):
    kshape = tuple(data.draw(st.integers(3, 7)) for _ in range(ndim))
    xshape = tuple(data.draw(st.integers(k if mode == "valid" else 1, 12)) for k in kshape)
    rank = data.draw(st.integers(1, 2)) if ndim == 2 else 1
    if rank * sum(kshape) >= np.prod(kshape):
        rank = 1
    k = low_rank(kshape, rank, dtype, seed)
    x = np.random.default_rng(seed + 1).standard_normal(xshape).astype(dtype)
    anchor = None
    if mode == "same":
        anchor = tuple(data.draw(st.integers(0, n - 1)) for n in kshape)
    cval = 0.5 if boundary == "constant" else 0
    f = fftconv.convolve if flip else fftconv.correlate
    got = f(x, k, mode, boundary=boundary, cval=cval, anchor=anchor, method="separable")
    want = naive(x, k, mode, operation="convolve" if flip else "correlate", boundary=boundary,
                 cval=cval, anchor=anchor)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, want, x, k, cval=cval, factor=32)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_rank_is_found_exactly(rank):
    k = low_rank((15, 17), rank, "float64", rank)
    assert separable_rank(k, np.dtype("float64")) == rank
    terms = factorize(k, np.dtype("float64"))
    rebuilt = sum(np.multiply.outer(*t) for t in terms)
    np.testing.assert_allclose(rebuilt, k, atol=1e-12 * np.abs(k).max())


def test_gaussian_is_rank_one_in_3d():
    k = fftconv.kernels.gaussian(1.2, ndim=3)
    assert separable_rank(k, np.dtype("float64")) == 1


def test_report_shows_the_rank_and_plan_is_correct():
    x = np.random.default_rng(0).standard_normal((300, 300))
    plan = fftconv.plan_convolve(x.shape, fftconv.kernels.gaussian(6.0), "same")
    report = str(plan.report())
    assert "rank 1" in report
    assert_close(plan(x), naive(x, fftconv.kernels.gaussian(6.0), "same"), x,
                 fftconv.kernels.gaussian(6.0))


@pytest.mark.parametrize("kernel, reason", [
    (np.random.default_rng(1).standard_normal((5, 5)), "not low-rank"),
    (np.ones(7), "1-d kernel"),
    (np.ones((3, 3), dtype=np.int64), "exact"),
])
def test_separable_refuses_with_the_reason(kernel, reason):
    x = np.ones((9,) * kernel.ndim, dtype=kernel.dtype)
    with pytest.raises(ValueError, match=f"method='separable' cannot serve this problem: .*{reason}"):
        fftconv.convolve(x, kernel, method="separable")


def test_separable_refuses_per_batch_kernels():
    x = np.ones((2, 9, 9))
    k = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match="one kernel per batch element"):
        fftconv.convolve(x, k, axes=(1, 2), method="separable")


def test_small_kernels_singular_values_match_lapack_and_give_the_same_rank(monkeypatch):
    """Small real kernels take their singular values from compiled Jacobi rotations
    (not np.linalg.svd's wrapper): the values agree with LAPACK's to rounding, and so
    does the rank the planner reads, over low-rank, full-rank, scaled and odd shapes."""
    from fftconv._numerics import lowrank
    from fftconv._numerics.lowrank import _JACOBI_SIDE, singular_values

    monkeypatch.setattr(lowrank, "COMPILE_AFTER", 0)  # the compiled pass from the start
    monkeypatch.setattr(lowrank, "_kernels_seen", 1)

    rng = np.random.default_rng(3)
    for _ in range(300):
        m, n = (int(v) for v in rng.integers(1, _JACOBI_SIDE + 1, 2))
        r = int(rng.integers(1, min(m, n) + 1))
        a = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
        a *= 10.0 ** int(rng.integers(-200, 200))
        ref = np.linalg.svd(a, compute_uv=False)
        got = singular_values(a)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * ref[0])
        tol = max(a.shape) * np.finfo(float).eps * ref[0]
        assert np.count_nonzero(got > tol) == np.count_nonzero(ref > tol) == r
    assert singular_values(np.zeros((3, 4))).tolist() == [0.0, 0.0, 0.0]
    big = np.full((2, 2), 1e300)
    np.testing.assert_allclose(singular_values(big), [2e300, 0.0], atol=1e285)


def test_small_kernel_facts_in_one_pass_agree_with_numpy(monkeypatch):
    """Finiteness, non-zero taps and rank from the one compiled pass equal numpy's."""
    from fftconv._numerics import lowrank
    from fftconv._numerics.lowrank import small_facts

    monkeypatch.setattr(lowrank, "COMPILE_AFTER", 0)

    rng = np.random.default_rng(4)
    for _ in range(200):
        m, n = (int(v) for v in rng.integers(2, 12, 2))
        r = int(rng.integers(1, min(m, n) + 1))
        k = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
        k[rng.random(k.shape) < 0.2] = 0.0
        for dtype in (np.float32, np.float64):
            kd = k.astype(dtype)
            s = np.linalg.svd(kd.astype(np.float64), compute_uv=False)
            want = int(np.count_nonzero(s > s[0] * max(kd.shape) * np.finfo(dtype).eps))
            finite, nonzero, rank = small_facts(kd, np.dtype(dtype))
            assert finite and nonzero == np.count_nonzero(kd)
            assert rank == (want if want * (m + n) < m * n else None)
    bad = np.ones((3, 3))
    bad[1, 1] = np.nan
    assert small_facts(bad, np.dtype(np.float64)) == (False, 9, None)
    assert small_facts(np.zeros((3, 3)), np.dtype(np.float64)) == (True, 0, None)
    assert small_facts(np.ones((3, 3), np.int64), np.dtype(np.int64)) is None


def test_a_short_script_never_compiles_the_facts_pass(monkeypatch):
    """The first kernels of a process have their facts found with numpy: compiling the
    pass (most of a second) pays only in a loop over many new kernels."""
    from fftconv._numerics import lowrank

    monkeypatch.setattr(lowrank, "_kernels_seen", 0)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 32))
    calls = []
    monkeypatch.setattr(lowrank, "_jacobi", lambda: calls.append(1) or pytest.fail("compiled"))
    for _ in range(lowrank.COMPILE_AFTER):
        fftconv.convolve(x, rng.standard_normal((5, 5)), "same")
    assert calls == []


@pytest.mark.parametrize("n", [80, 127])
def test_large_kernels_are_separable_only_to_the_compute_dtypes_precision(n):
    """Kernels over 64 taps a side take the randomised sketch: an exactly low-rank one is
    found at its rank, and one that is rank 1 only to 1e-9 is separable in float32 but
    not in float64, whose result then keeps float64 precision (the sketch's residual is
    held to the full SVD's truncation at the compute dtype's tolerance)."""
    from fftconv._numerics.lowrank import separable_rank

    rng = np.random.default_rng(0)
    g = np.exp(-np.linspace(-3, 3, n) ** 2)
    low = rng.standard_normal((n, 3)) @ rng.standard_normal((3, n))
    assert separable_rank(low, np.dtype(np.float64)) == 3
    near = np.outer(g, g) + 1e-9 * rng.standard_normal((n, n))
    assert separable_rank(near.astype(np.float32), np.dtype(np.float32)) == 1
    assert separable_rank(near, np.dtype(np.float64)) is None
    x = rng.standard_normal((150, 160))
    want = scipy.signal.correlate(x, near, "same", method="direct")
    got = fftconv.correlate(x, near, "same")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
