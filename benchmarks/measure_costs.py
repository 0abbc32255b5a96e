"""Measure the cost-model constants of this machine and print them as JSON.

The shipped ``fftconv/_data/costs.json`` was made with this script. Timings are the
minimum of several runs (the least disturbed by other load), single-threaded, so the model
scales them by its parallel-efficiency factors.

Run: ``python benchmarks/measure_costs.py > costs.json``
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

import fftconv
from fftconv._fft import TransformPair
from fftconv.strategies._direct_kernel import prepare


def best(f, repeat=7):
    f()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def direct_per_mac(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, 518, 518)) * 10).astype(dtype)
    k = (rng.standard_normal((1, 7, 7)) * 10).astype(dtype)
    out = np.empty((1, 512, 512), dtype)
    run = prepare(x.shape, k, out.shape, 1)
    t = best(lambda: run(x, out))
    return t / (512 * 512 * 49)


def fft_per_nlogn(dtype):
    rates = []
    for shape in [(1, 256, 256), (1, 1024, 1024), (1, 512, 2048)]:
        pair = TransformPair(1, shape[1:], np.dtype(dtype), 1)
        pair.inbuf[...] = np.random.default_rng(0).standard_normal(pair.inbuf.shape)
        t = best(lambda: (pair.forward(), pair.inverse()), 5) / 2
        n = math.prod(shape)
        rates.append(t / (n * math.log2(n)))
    return float(np.median(rates))


def memory_per_byte():
    a = np.ones(16 << 20, np.float64)
    b = np.empty_like(a)
    t = best(lambda: np.copyto(b, a))
    return t / (2 * a.nbytes)


def call_overhead():
    x, k = np.ones(8), np.ones(3)
    fftconv.convolve(x, k, method="direct")
    return best(lambda: fftconv.convolve(x, k, method="direct"), 50)


def main():
    out = {
        "direct_per_mac": {d: direct_per_mac(d) for d in
                           ("float32", "float64", "complex64", "complex128", "int64", "uint64")},
        "fft_per_nlogn": {d: fft_per_nlogn(d) for d in
                          ("float32", "float64", "complex64", "complex128")},
        "memory_per_byte": memory_per_byte(),
        "call_overhead": call_overhead(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
