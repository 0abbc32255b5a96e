"""1-D and 3-D rows of the benchmark: fftconv's strategies against scipy, side by side.

1-D: signals of 1e4 to 1e7 samples, kernels of 16 to 65536 taps. 3-D: 128^3 volumes,
kernels 3^3 to 31^3. Times are medians in milliseconds (``mode='same'``, zero boundary,
float64 1-D and float32 3-D); direct-sum methods are skipped above ``--max-macs``.

    python benchmarks/bench_nd.py [--quick] [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

import fftconv
from fftconv.benchmark import median_time

OURS = ("direct", "fft", "overlap")




def row(x, k, repeat, max_macs):
    import scipy.ndimage as ndi
    import scipy.signal as sig

    macs = x.size * k.size
    fns = {m: (lambda m=m: fftconv.correlate(x, k, "same", method=m)) for m in (*OURS, "auto")}
    fns["scipy.signal"] = lambda: sig.correlate(x, k, "same")
    fns["fftconvolve"] = lambda: sig.fftconvolve(x, k, "same")
    fns["oaconvolve"] = lambda: sig.oaconvolve(x, k, "same")
    fns["ndimage"] = lambda: ndi.correlate(x, k, mode="constant")
    times = {}
    for name, fn in fns.items():
        if name in ("direct", "ndimage") and macs > max_macs:
            continue
        times[name] = median_time(fn, repeat)
    pick = fftconv.explain(x.shape, k.shape, "same", x_dtype=x.dtype, operation="correlate").method
    return times, pick


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--max-macs", type=float, default=4e9)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    cases = []
    lengths = [10**4, 10**5, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7]
    for n in lengths:
        for kk in (16, 256, 4096, 65536):
            if kk < n:
                cases.append(((n,), (kk,), "float64"))
    for kk in ((3, 7) if args.quick else (3, 7, 15, 31)):
        cases.append(((128, 128, 128), (kk,) * 3, "float32"))
    cols = [*OURS, "auto", "scipy.signal", "fftconvolve", "oaconvolve", "ndimage"]
    print("| x | kernel | dtype | " + " | ".join(cols) + " | auto picks | auto/best ours | auto/best scipy |")
    print("|" + "---|" * (len(cols) + 6))
    ratios_ours, ratios_theirs = [], []
    for xs, ks, dt in cases:
        x = rng.standard_normal(xs).astype(dt)
        k = rng.standard_normal(ks).astype(dt)
        times, pick = row(x, k, args.repeat, args.max_macs)
        ours = min(times[m] for m in OURS if m in times)
        theirs = min(times[m] for m in cols[4:] if m in times)
        ratios_ours.append(times["auto"] / ours)
        ratios_theirs.append(times["auto"] / theirs)
        cells = [f"{times[c] * 1e3:.2f}" if c in times else "-" for c in cols]
        print(f"| {'x'.join(map(str, xs))} | {'x'.join(map(str, ks))} | {dt} | " + " | ".join(cells)
              + f" | {pick} | {ratios_ours[-1]:.2f} | {ratios_theirs[-1]:.2f} |", flush=True)
    g = lambda v: math.exp(sum(map(math.log, v)) / len(v))
    print(f"\nauto / fastest fftconv strategy: geo-mean {g(ratios_ours):.2f}, worst {max(ratios_ours):.2f}")
    print(f"auto / fastest scipy: geo-mean {g(ratios_theirs):.2f}, worst {max(ratios_theirs):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
