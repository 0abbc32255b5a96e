"""The memory budget: max_memory rejects, overlap-save shrinks, and the peak stays bounded."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fftconv

from reference import assert_close, naive


@pytest.mark.parametrize("bad", [0, -5, "1GB", float("nan"), True])
def test_bad_max_memory_is_rejected(bad):
    with pytest.raises(ValueError, match=r"max_memory=.* is invalid; expected a positive number of bytes"):
        fftconv.convolve(np.ones(8), np.ones(3), max_memory=bad)


def test_small_budget_rejects_with_the_reason_and_overlap_fits():
    report = fftconv.explain((1024, 1024), (63, 63), "same", max_memory=2 << 20)
    text = str(report)
    by_name = {c.name: c for c in report.candidates}
    assert "over the max_memory budget of 2.0 MiB" in by_name["fft"].rejected
    assert report.method == "overlap"
    assert by_name["overlap"].estimate.memory <= 2 << 20
    assert "over the max_memory budget" in text


def test_overlap_under_a_budget_is_still_correct():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 280))
    k = rng.standard_normal((21, 17))
    plan = fftconv.plan_convolve(x.shape, k, "same", boundary="reflect", max_memory=400_000)
    assert plan.method == "overlap" and plan.estimate.memory <= 400_000
    assert plan.block_shape[0] < 300  # really blocked
    assert_close(plan(x), naive(x, k, "same", boundary="reflect"), x, k)


def test_the_direct_sum_needs_no_scratch_and_serves_any_budget():
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((64, 64)), rng.standard_normal((5, 5))
    plan = fftconv.plan_convolve(x.shape, k, "same", boundary="wrap", max_memory=1)
    assert plan.method == "direct" and plan.estimate.memory == 0
    assert_close(plan(x), naive(x, k, "same", boundary="wrap"), x, k)


def test_a_named_method_over_the_budget_is_a_clear_error():
    with pytest.raises(ValueError, match=r"method='fft' cannot serve this problem: needs "
                                         r".* over the max_memory budget"):
        fftconv.convolve(np.ones((64, 64)), np.ones((5, 5)), method="fft", max_memory=100)


@pytest.mark.slow
def test_peak_memory_of_a_large_same_convolution():
    """8192^2 float32 with a 127x127 kernel: peak RSS growth at most 3x the input's bytes.

    Measured in a fresh process as ru_maxrss after the call minus ru_maxrss before the
    input was allocated (so the input, the output and all scratch count).
    """
    code = textwrap.dedent("""
        import resource, numpy as np, fftconv
        fftconv.convolve(np.ones((64, 64), np.float32), np.ones((5, 5), np.float32), "same")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        x = np.ones((8192, 8192), np.float32)
        k = np.random.default_rng(0).standard_normal((127, 127)).astype(np.float32)
        y = fftconv.convolve(x, k, "same")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        assert y.shape == x.shape and y.dtype == np.float32
        print((peak - before) / x.nbytes)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) <= 3.0
