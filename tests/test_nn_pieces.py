"""fftconv.nn's work goes through the shared queue in bounded pieces, its plans carry real
scratch memory, and the FFT path respects the memory budget.

Every split is checked against torch.nn.functional; the piece layouts themselves are
checked against the rules of :mod:`fftconv.nn._pieces`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import fftconv._machine.threads as threads_mod
import fftconv.nn._direct as nn_direct
import fftconv.nn._fft as nn_fft
from fftconv import nn
from fftconv.nn._pieces import OUT_BLOCK, channel_blocks, ranges, threads_for
from fftconv.nn._plan import NNPlan
from fftconv.nn._problem import make_nn_problem


def problem(x, w, method="auto", **options):
    d = w.ndim - 2
    call = make_nn_problem(d, x, w, None, stride=options.get("stride", 1),
                           padding=options.get("padding", 0),
                           dilation=options.get("dilation", 1), groups=options.get("groups", 1),
                           data_format="channels_first", padding_mode="zeros", method=method)
    return call.problem


def reference(x, w, **options):
    return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), **options).numpy()


def test_ranges_cover_everything_once_in_near_equal_pieces():
    for n, parts in ((10, 3), (3, 10), (1, 1), (1000, 7)):
        r = ranges(n, parts)
        assert [a for a, _ in r] == [0] + [b for _, b in r[:-1]] and r[-1][1] == n
        sizes = [b - a for a, b in r]
        assert len(r) == min(n, parts) and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("out_channels, groups, parts", [(16, 1, 8), (18, 3, 5), (6, 6, 2),
                                                         (9, 1, 100), (4, 2, 1)])
def test_channel_blocks_are_whole_blocks_of_four_inside_one_group(out_channels, groups, parts):
    blocks = channel_blocks(out_channels, groups, parts)
    per = out_channels // groups
    covered = [o for _, a, b in blocks for o in range(a, b)]
    assert covered == list(range(out_channels))
    for g, a, b in blocks:
        assert g * per <= a < b <= (g + 1) * per
        assert (a - g * per) % OUT_BLOCK == 0
        assert (b - a) % OUT_BLOCK == 0 or b == (g + 1) * per
    assert len(blocks) >= min(parts, groups * -(-per // OUT_BLOCK))


def test_short_calls_stay_on_the_calling_thread_and_long_ones_share_out(monkeypatch):
    costs = {"overhead": {"parallel": 8e-5}, "parallel_efficiency": {"direct": 0.8}}
    assert threads_for(1e-4, 2, costs, "direct") == 1
    assert threads_for(0.05, 2, costs, "direct") == 2
    assert threads_for(0.05, 1, costs, "direct") == 1
    # the rule is the measured wake cost: ten times dearer, ten times longer to pay off
    dear = {**costs, "overhead": {"parallel": 8e-4}}
    assert threads_for(2e-3, 2, dear, "direct") == 1
    # a small layer: one thread; a long one: many pieces, several per thread
    small = problem(np.zeros((1, 2, 16, 16), np.float32), np.zeros((2, 2, 3, 3), np.float32))
    assert nn_direct.kernel_split(small, 2).threads == 1
    big = problem(np.zeros((2, 16, 256, 256), np.float32), np.zeros((16, 16, 5, 5), np.float32))
    split = nn_direct.kernel_split(big, 2)
    assert split.threads == 2 and split.pieces >= 8 and not split.per_item


def test_every_parallel_path_goes_through_parallel_map(monkeypatch):
    """Counting the pieces handed to the shared queue: the kernel's, the FFT's."""
    seen = []
    real = threads_mod.parallel_map

    def spy(fn, items, workers):
        seen.append((len(items), workers))
        return real(fn, items, workers)

    monkeypatch.setattr(nn_direct, "parallel_map", spy)
    monkeypatch.setattr(nn_fft, "parallel_map", spy)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 16, 200, 200)).astype(np.float32)
    w = rng.standard_normal((16, 16, 5, 5)).astype(np.float32)
    p = problem(x, w)
    y = NNPlan(p, w, "direct", 2, direct="kernel")(x, None)
    assert seen and all(workers == 2 for _, workers in seen)
    assert max(n for n, _ in seen) >= 8  # one image: channel blocks and strips
    np.testing.assert_allclose(y, reference(x, w), rtol=0, atol=2e-4 * np.abs(y).max())
    seen.clear()
    w = rng.standard_normal((8, 16, 31, 31)).astype(np.float32)
    p = problem(x, w)
    y = NNPlan(p, w, "fft", 2)(x, None)
    # the weight planes zeroed and their spectra, then forward transforms, bin blocks and
    # inverse transforms
    assert len(seen) == 5 and all(n >= 4 for n, _ in seen[1:])
    np.testing.assert_allclose(y, reference(x, w), rtol=0, atol=2e-4 * np.abs(y).max())


CASES = [
    ((1, 3, 40, 37), (5, 3, 7, 6), {}),
    ((3, 4, 30, 30), (6, 2, 5, 5), {"groups": 2, "stride": 2, "padding": 2}),
    ((2, 2, 33, 29), (3, 2, 3, 4), {"dilation": (2, 1), "stride": (1, 3)}),
]


@pytest.mark.parametrize("xs, ws, options", CASES)
@pytest.mark.parametrize("mode", ["items", "fine"])
def test_fft_pieces_match_torch(xs, ws, options, mode, monkeypatch):
    """The FFT path in chunks of items, and in three passes of the finest pieces (one
    transform, one bin block each), both variants of a stride, on two threads."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    p = problem(x, w, "fft", **options)

    def forced(p, lay, workers):
        if mode == "items":
            return nn_fft.FFTSplit(2, tuple(ranges(p.batch, p.batch)), 0)
        return nn_fft.FFTSplit(2, tuple(ranges(p.batch, p.batch)), 1 << 20)

    monkeypatch.setattr(nn_fft, "fft_split", forced)
    ref = reference(x, w, **options)
    for poly in ((False, True) if max(p.stride) > 1 else (False,)):
        lay = nn_fft.fft_layout(p, poly, {"2": 1.0, "3": 1.2, "5": 1.4, "7": 1.6})
        run = nn_fft.build_fft(p, w, lay, 2)[0]
        out = np.empty(ref.shape)
        run(x, out)
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fft_pieces_rescale_an_overflowing_transform(dtype, monkeypatch):
    monkeypatch.setattr(nn_fft, "fft_split", lambda p, lay, workers: nn_fft.FFTSplit(
        2, ((0, 1),), 1 << 20))
    big = float(np.finfo(dtype).max) / 64
    x = np.full((1, 2, 40, 40), big, dtype)
    w = np.ones((3, 2, 3, 3), dtype) / 2
    got = NNPlan(problem(x, w, "fft"), w, "fft", 2)(x, None)
    np.testing.assert_allclose(got, reference(x, w), rtol=1e-4 if dtype == np.float32 else 1e-10)


def test_reports_show_real_scratch_memory():
    """The memory column carries each strategy's scratch: the phase planes of the direct
    kernel, the weight spectra and transform buffers of the FFT -- never 0 B."""
    rep = nn.explain((8, 16, 64, 64), (16, 16, 3, 3), padding="same")
    direct, fft = rep.candidates
    # the kernel's planes: at least one padded item of 16 channels of 66x66 float32
    assert direct.estimate.memory >= 16 * 66 * 66 * 4
    # the weight spectra alone: 16x16 spectra of a transform of at least 66x66, complex64
    assert fft.estimate.memory >= 16 * 16 * 66 * 34 * 8
    text = str(rep)
    assert " 0 B " not in text and "KiB" in text and "MiB" in text
    # a plan reports (and keeps) the memory of the strategy it runs
    x = np.zeros((2, 3, 300, 300), np.float32)
    w = np.ones((8, 3, 31, 31), np.float32)
    plan = NNPlan(problem(x, w), w, "auto", 2)
    chosen = next(c for c in plan.report().candidates if c.chosen)
    assert plan.method == "fft" and plan.memory == chosen.estimate.memory > 8 * 3 * 300 * 150 * 8


def test_memory_grows_with_the_problem():
    def mem(n, method):
        c = {c.name: c for c in nn.explain((1, 4, n, n), (4, 4, 5, 5), padding=2).candidates}
        return c[method].estimate.memory

    for method in ("direct", "fft"):
        assert mem(256, method) > 3 * mem(128, method) > 0


def test_the_fft_respects_the_memory_budget():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 3, 200, 200)).astype(np.float32)
    w = rng.standard_normal((8, 3, 31, 31)).astype(np.float32)
    p = problem(x, w)
    free = NNPlan(p, w, "auto", 2)
    assert free.method == "fft"
    budget = free.memory // 2
    tight = NNPlan(p, w, "auto", 2, max_memory=budget)
    assert tight.method == "direct"
    fft = next(c for c in tight.report().candidates if c.name == "fft")
    assert fft.rejected.startswith("needs ") and "over the max_memory budget" in fft.rejected
    with pytest.raises(ValueError, match=r"method='fft' cannot serve this problem: needs "
                                         r".* over the max_memory budget"):
        NNPlan(p, w, "fft", 2, max_memory=budget)
    np.testing.assert_allclose(tight(x, None), reference(x, w), rtol=0,
                               atol=2e-4 * math.sqrt(3 * 31 * 31))


def test_im2col_over_the_budget_gives_way_to_the_kernel():
    x = np.zeros((4, 64, 32, 32), np.float32)
    w = np.zeros((64, 64, 3, 3), np.float32)
    p = problem(x, w, padding=1)
    est = nn_direct.direct_estimates(p, 2)
    assert est["im2col"].memory > est["kernel"].memory
    plan = NNPlan(p, w, "direct", 2, max_memory=est["kernel"].memory)
    assert plan.direct == "kernel"
