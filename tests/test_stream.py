"""fftconv.stream.StreamConvolver against scipy.signal (lfilter with zi, oaconvolve)."""

import os
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from fftconv.stream import StreamConvolver
from fftconv.stream._partition import METHODS, direct, feasible, nonuniform, uniform

DEEP = os.environ.get("FFTCONV_FUZZ") == "deep"
EXAMPLES = 300 if DEEP else 25
RNG = np.random.default_rng(14)


def run_stream(sc, x, sizes, axis=-1):
    """Feed ``x`` in pieces of ``sizes`` along ``axis``; return every output and the tail."""
    cuts = np.cumsum(sizes)[:-1]
    outs = [sc.process(p) for p in np.split(x, cuts, axis=axis)]
    return np.concatenate(outs + [sc.flush()], axis=axis)


def lfilter_blocks(h, x, sizes):
    """scipy.signal.lfilter over the same pieces, state carried in zi; the final state
    is the tail of the full convolution."""
    zi = np.zeros(len(h) - 1, np.result_type(h, x, float))
    outs = []
    for piece in np.split(x, np.cumsum(sizes)[:-1]):
        y, zi = signal.lfilter(h, [1.0], piece, zi=zi)
        outs.append(y)
    return np.concatenate(outs + [zi])


def tol(h, x, dtype=np.float64):
    scale = float(np.abs(h).sum() * max(np.abs(x).max(), 1e-300))
    return scale * (2e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-11)


def splits(draw, n, k, block):
    """Random piece lengths summing to ``n``: ones, pieces longer than the kernel, any."""
    sizes = []
    while sum(sizes) < n:
        kind = draw(st.sampled_from(["one", "block", "long", "any"]))
        m = {"one": 1, "block": block, "long": k + draw(st.integers(1, 3 * block)),
             "any": draw(st.integers(1, 2 * block + 3))}[kind]
        sizes.append(min(m, n - sum(sizes)))
    return sizes


@st.composite
def stream_cases(draw):
    k = draw(st.integers(1, 300))
    block = draw(st.sampled_from([1, 2, 7, 16, 33, 64]))
    latency = draw(st.sampled_from([None, 0, 1, block // 2, 2 * block + 3]))
    n = draw(st.integers(1, 700))
    return k, block, latency, n, splits(draw, n, k, block)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=stream_cases(), seed=st.integers(0, 2**32 - 1))
def test_matches_lfilter_over_random_splits(method, case, seed):
    k, block, latency, n, sizes = case
    rng = np.random.default_rng(seed)
    h, x = rng.standard_normal(k), rng.standard_normal(n)
    sc = StreamConvolver(h, block, latency=latency, method=method)
    assert sc.method == method
    feasible(sc.partitioning)
    got = run_stream(sc, x, sizes)
    lat = sc.latency
    assert lat == (block if latency is None else latency)
    assert got.shape == (n + k - 1 + lat,)
    assert np.all(got[:lat] == 0)
    want = lfilter_blocks(h, x, sizes)
    np.testing.assert_allclose(got[lat:], want, rtol=0, atol=tol(h, x))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("latency", [None, 0])
def test_long_kernel_float32_matches_oaconvolve(method, latency):
    k, block = 5000 if method == "direct" else 20000, 256
    h = RNG.standard_normal(k).astype(np.float32)
    x = RNG.standard_normal(3 * k).astype(np.float32)
    sc = StreamConvolver(h, block, latency=latency, method=method)
    sizes = [block] * (len(x) // block) + [len(x) % block]
    got = run_stream(sc, x, [s for s in sizes if s])
    assert got.dtype == np.float32
    want = signal.oaconvolve(x.astype(np.float64), h.astype(np.float64))
    lat = sc.latency
    np.testing.assert_allclose(got[lat:], want, rtol=0, atol=tol(h, x, np.float32))


def test_partitionings_are_feasible_and_distinct():
    for k in (1, 5, 64, 65, 1000, 65536):
        for block in (1, 3, 64, 256):
            for latency in (0, 1, block - 1, block, 5 * block):
                feasible(direct(k, block, latency))
                feasible(uniform(k, block, latency))
                for largest in (block, 4 * block, 1 << 20):
                    p = nonuniform(k, block, latency, largest)
                    feasible(p)
                    ffts = [s.size for s in p.segments if s.kind == "fft"]
                    assert all(size <= max(largest, block) for size in ffts)
    p = nonuniform(65536, 64, 0, 1 << 20)
    sizes = [s.size for s in p.segments if s.kind == "fft"]
    assert p.segments[0].kind == "direct" and p.segments[0].size == 63
    assert sizes == sorted(sizes) and sizes[-1] > 8 * sizes[0]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("latency", [None, 0, 5, 100])
def test_impulse_measures_latency(method, latency):
    h = RNG.standard_normal(200) + 3.0
    sc = StreamConvolver(h, 32, latency=latency, method=method)
    x = np.zeros(500)
    x[0] = 1.0
    y = run_stream(sc, x, [13] * 38 + [6])
    first = int(np.flatnonzero(np.abs(y) > 1e-9)[0])
    assert first == sc.latency == (32 if latency is None else latency)
    np.testing.assert_allclose(y[first:first + 200], h, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("latency", [None, 0])
@pytest.mark.parametrize("crossfade", [0, 1, 100, 777])
def test_set_kernel_crossfade_is_the_reference_mix(method, latency, crossfade):
    block, k = 32, 400
    h1, h2 = RNG.standard_normal(k), RNG.standard_normal(k - 150)
    x = RNG.standard_normal(3000)
    sc = StreamConvolver(h1, block, latency=latency, method=method)
    switch = 1111  # a sample index between two process calls
    first = np.concatenate([sc.process(p) for p in np.array_split(x[:switch], 9)])
    sc.set_kernel(h2, crossfade=crossfade)
    rest = np.concatenate([sc.process(p) for p in np.array_split(x[switch:], 11)])
    got = np.concatenate([first, rest, sc.flush()])
    lat = sc.latency
    z_old = np.concatenate([np.zeros(lat), signal.oaconvolve(x, h1)])
    z_new = np.concatenate([np.zeros(lat), signal.oaconvolve(x, h2), np.zeros(150)])
    t = np.arange(len(z_old))
    g = np.clip((t - switch + 1) / max(crossfade, 1), 0, 1)
    g[t < switch] = 0
    want = (1 - g) * z_old + g * z_new
    np.testing.assert_allclose(got, want, rtol=0, atol=tol(h1, x))


def test_channels_on_another_axis_with_per_channel_kernels():
    x = RNG.standard_normal((1500, 3, 2)).astype(np.float32)
    h = RNG.standard_normal((300, 3, 1)).astype(np.float32)
    sc = StreamConvolver(h, 64, axis=0)
    got = run_stream(sc, x, [100, 1, 64, 700, 635], axis=0)
    assert got.dtype == np.float32 and got.shape == (1500 + 299 + 64, 3, 2)
    want = signal.oaconvolve(x.astype(np.float64), h.astype(np.float64), axes=0)
    np.testing.assert_allclose(got[64:], want, rtol=0, atol=tol(h, x, np.float32))


def test_complex_and_shared_kernel_on_channels():
    x = RNG.standard_normal((2, 900)) + 1j * RNG.standard_normal((2, 900))
    h = RNG.standard_normal(130) - 0.5j * RNG.standard_normal(130)
    sc = StreamConvolver(h, 50, latency=0, method="nonuniform")
    got = run_stream(sc, x, [450, 3, 447], axis=-1)
    assert got.dtype == np.complex128
    want = signal.oaconvolve(x, h[None, :], axes=-1)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol(h, x))


def test_reset_starts_a_new_stream_and_report_lists_every_method():
    h, x = RNG.standard_normal(100), RNG.standard_normal(400)
    sc = StreamConvolver(h, 16)
    sc.process(RNG.standard_normal(77))
    sc.reset()
    got = run_stream(sc, x, [400])
    np.testing.assert_allclose(got[16:], np.convolve(x, h), atol=tol(h, x))
    text = str(sc.report())
    for m in METHODS:
        assert m in text
    assert f"-> {sc.method!r}" in text and "per block" in text


def test_process_with_out_allocates_nothing_after_the_first_call():
    h = RNG.standard_normal(3000)
    for method in METHODS:
        sc = StreamConvolver(h, 4096, latency=0, method=method, workers=1)
        block = RNG.standard_normal(4096)
        out = np.empty(4096)
        for _ in range(3):
            sc.process(block, out=out)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            for _ in range(5):
                sc.process(block, out=out)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        assert peak < 4096, (method, peak)  # a block is 32 KiB; views are bytes


def test_separate_convolvers_in_threads():
    h = RNG.standard_normal(2000)
    xs = [RNG.standard_normal(20000) for _ in range(4)]
    results = [None] * 4

    def work(i):
        sc = StreamConvolver(h, 128)
        results[i] = run_stream(sc, xs[i], [128] * 156 + [32])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, y in zip(xs, results):
        np.testing.assert_allclose(y[128:], signal.oaconvolve(x, h), atol=tol(h, x))


def test_empty_blocks_and_out_on_a_strided_axis():
    h = RNG.standard_normal(50)
    x = RNG.standard_normal((300, 2))
    sc = StreamConvolver(h, 32, axis=0, latency=0)
    assert sc.process(np.zeros((0, 2))).shape == (0, 2)
    out = np.empty((2, 300)).T  # a Fortran-ordered destination
    assert sc.process(x, out=out) is out
    tail = sc.flush()
    got = np.concatenate([out, tail])
    np.testing.assert_allclose(got, signal.oaconvolve(x, h[:, None], axes=0), atol=tol(h, x))


def test_shared_kernel_replaces_per_channel_kernels():
    x = RNG.standard_normal((2, 600))
    h1 = RNG.standard_normal((2, 80))
    h2 = RNG.standard_normal(60)
    sc = StreamConvolver(h1, 16, method="uniform")
    first = sc.process(x[:, :250])
    sc.set_kernel(h2)
    got = np.concatenate([first, sc.process(x[:, 250:]), sc.flush()], axis=1)[:, 16:]
    old = signal.oaconvolve(x, h1, axes=1)
    new = np.pad(signal.oaconvolve(x, h2[None], axes=1), ((0, 0), (0, 20)))
    want = np.where(np.arange(old.shape[1]) < 250 - 16, old, new)
    np.testing.assert_allclose(got, want, atol=tol(h1, x))
