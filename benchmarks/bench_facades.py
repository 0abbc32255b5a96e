"""fftconv's scipy façades against scipy itself: median times and ratios, side by side.

    python benchmarks/bench_facades.py [--quick]

Two grids:

- ``ndimage``: ``fftconv.ndimage.correlate`` vs ``scipy.ndimage.correlate`` on a
  1024x1024 float64 image, mode ``'reflect'``, square kernels K = 3 .. 63
  (targets: at least 50x faster at K = 63, at most 1.2x slower at K = 3);
- ``signal``: ``fftconv.signal.convolve`` vs ``scipy.signal.convolve``, both
  ``method='auto'``, 1-d signals and 2-d images across kernel sizes (target: never more
  than 1.1x slower).

``speed-up`` is scipy's median over fftconv's (above 1: fftconv is faster);
``strategy`` is the planner's choice. Timings are medians of several calls
after one warm-up call (FFTW planning and numba compilation excluded).
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.ndimage
import scipy.signal

import fftconv
from fftconv import ndimage, signal
from fftconv.benchmark import median_time


def median_seconds(func, budget: float) -> float:
    """Median of repeated calls (at least 3, more while within ``budget`` seconds)."""
    return median_time(func, 25, budget, min_repeat=3)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:9.1f} us"


def row(name: str, method: str, ours: float, theirs: float, target: str = "") -> str:
    ratio = theirs / ours
    return f"{name:<30} {method:<8} {_fmt(ours)} {_fmt(theirs)} {ratio:9.2f}x  {target}".rstrip()


HEADER = f"{'case':<30} {'strategy':<8} {'fftconv':>12} {'scipy':>12} {'speed-up':>10}"


def ndimage_grid(budget: float, kernels: list[int]) -> list[str]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1024, 1024))
    lines = []
    for k in kernels:
        w = rng.standard_normal((k, k))
        method = fftconv.explain(x.shape, w.shape, "same", boundary="symmetric",
                                 operation="correlate").method
        ours = median_seconds(lambda: ndimage.correlate(x, w), budget)
        theirs = median_seconds(lambda: scipy.ndimage.correlate(x, w), budget)
        target = {3: "target >= 0.83x", 63: "target >= 50x"}.get(k, "")
        lines.append(row(f"correlate 1024^2 K={k}", method, ours, theirs, target))
    return lines


def signal_grid(budget: float, quick: bool) -> list[str]:
    rng = np.random.default_rng(1)
    cases = [((n,), (k,)) for n in (1_000, 100_000) + (() if quick else (1_000_000,))
             for k in (3, 31, 301, 3001) if k <= n]
    cases += [((n, n), (k, k)) for n in (64, 256) + (() if quick else (1024,))
              for k in (3, 9, 31, 63) if k <= n]
    lines = []
    for xs, ks in cases:
        x, k = rng.standard_normal(xs), rng.standard_normal(ks)
        method = fftconv.explain(xs, ks, "same").method
        ours = median_seconds(lambda: signal.convolve(x, k, "same"), budget)
        theirs = median_seconds(lambda: scipy.signal.convolve(x, k, "same"), budget)
        name = f"convolve {'x'.join(map(str, xs))} K={'x'.join(map(str, ks))}"
        lines.append(row(name, method, ours, theirs, "target >= 0.91x"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller grid, shorter budget")
    args = parser.parse_args()
    budget = 0.2 if args.quick else 1.0
    kernels = [3, 15, 63] if args.quick else [3, 5, 9, 15, 31, 63]
    print(f"fftconv {fftconv.__version__}, scipy {scipy.__version__}, numpy {np.__version__}, "
          f"workers={fftconv.get_workers()}")
    print("\nscipy.ndimage.correlate (1024x1024 float64, mode='reflect')")
    print(HEADER)
    print("\n".join(ndimage_grid(budget, kernels)))
    print("\nscipy.signal.convolve (method='auto', mode='same', float64)")
    print(HEADER)
    print("\n".join(signal_grid(budget, args.quick)))


if __name__ == "__main__":
    main()
