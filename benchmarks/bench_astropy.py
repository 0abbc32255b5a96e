"""fftconv.astropy against astropy.convolution: the same calls, side by side.

    python benchmarks/bench_astropy.py [--quick] [--out FILE] [--no-busy]

- ``convolve_fft`` with default options on a 2048x2048 image with 2.4 % NaN pixels
  (a star mask) and a 97x97 Gaussian PSF (target: fftconv >= 5x faster, float64);
- ``convolve`` (direct semantics) with a 31x31 Gaussian on the same image (target:
  >= 10x faster; astropy sums every window in C, single-threaded);

each in float64 and float32 (fftconv keeps float32; astropy computes convolve_fft in
complex128 and returns float64). ``--quick`` uses 1024x1024 (and 512x512 for astropy's
direct sum). Runs idle, then with one competing CPU-bound process started and stopped by
the script. Times are medians after a warm-up call. The fftconv imported is the checkout
this script is in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's fftconv
from _neighbours import neighbour
from bench_nonfinite import gaussian_psf, with_nans

import fftconv
import fftconv.astropy as ours
from fftconv.benchmark import median_time

TARGETS = {"convolve_fft": 5.0, "convolve": 10.0}


def measure(n_fft: int, n_direct: int, budget: float) -> list[tuple]:
    import astropy.convolution as theirs

    rows = []
    for name, n, k in (("convolve_fft", n_fft, gaussian_psf(97, 12.0)),
                       ("convolve", n_direct, gaussian_psf(31, 4.0))):
        rng = np.random.default_rng(2)
        base = with_nans(rng.gamma(2.0, 10.0, (n, n)), 0.024, False)
        mine_f, theirs_f = getattr(ours, name), getattr(theirs, name)
        for dtype in ("float64", "float32"):
            img = base.astype(dtype)
            mine = median_time(lambda f=mine_f, a=img, w=k: f(a, w), 5, budget, min_repeat=3)
            got = getattr(ours, name)(img, k)
            ref = median_time(lambda f=theirs_f, a=img, w=k: f(a, w), 3, 2 * budget,
                              min_repeat=1)
            rows.append((name, f"{n}x{n}", k.shape[0], dtype, str(got.dtype), mine, ref))
    return rows


def table(rows: list[tuple], title: str) -> str:
    out = [f"\n### {title}\n",
           "| function | image | K | input | fftconv result | fftconv | astropy | speed-up | target |",
           "|---|---|---|---|---|---|---|---|---|"]
    for name, shape, k, dtype, rdt, mine, ref in rows:
        speed = ref / mine
        target = TARGETS[name]
        verdict = (f">= {target:g}x {'met' if speed >= target else 'MISSED'}"
                   if dtype == "float64" else "")
        out.append(f"| {name} | {shape} | {k} | {dtype} | {rdt} | {mine * 1e3:.1f} ms | "
                   f"{ref * 1e3:.1f} ms | {speed:.1f}x | {verdict} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller images, shorter budgets")
    parser.add_argument("--out", help="also write the markdown tables to this file")
    parser.add_argument("--no-busy", action="store_true", help="skip the competing-process run")
    args = parser.parse_args()
    import astropy

    n_fft, n_direct, budget = (1024, 512, 0.5) if args.quick else (2048, 2048, 2.0)
    text = [(f"fftconv {fftconv.__version__}, astropy {astropy.__version__}, numpy "
             f"{np.__version__}, workers={fftconv.get_workers()}; default options, 2.4 % NaN")]
    for busy in (False,) if args.no_busy else (False, True):
        with neighbour("busy" if busy else "idle"):
            rows = measure(n_fft, n_direct, budget)
        text.append(table(rows, "with one competing CPU-bound process" if busy else "idle"))
    report = "\n".join(text)
    print(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(report + "\n")


if __name__ == "__main__":
    main()
