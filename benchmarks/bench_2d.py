"""2-D convolution benchmark: fftconv's strategies against scipy and OpenCV, side by side.

For every image size, kernel size and dtype, times (median over at least ``--repeat``
interleaved, shuffled rounds, see ``_timing.py``; ``cold`` on its own) fftconv's
``direct``, ``fft``, ``overlap`` and ``auto`` (one-shot calls, which
reuse a cached plan), ``cold`` (a one-shot call that must plan: the cache cleared), a plan
reused across calls, the bare FFTW floor at fftconv's transform size (two forward and one inverse
transform), ``scipy.signal.correlate`` (method ``auto``), ``fftconvolve``, ``oaconvolve``,
``scipy.ndimage.correlate`` and ``cv2.filter2D``. All compute ``mode='same'`` with a zero
boundary in the input's dtype. Direct-sum methods are skipped where they would need more
than ``--max-macs`` multiply-adds.

Prints a Markdown table (milliseconds) and summary ratios; ``--csv`` writes every timing.
``auto / fastest fftconv strategy`` is given two ways: the ratio of the two medians, and
paired by round (the median over rounds of auto's time over the fastest strategy's in
the same round, as ``bench_contention.py`` reports it): a cell of few rounds (the large
images) moves by up to 2x on this box between two runs of the same plan, and a pair of
calls moments apart shares the machine's state where two medians need not.

    python benchmarks/bench_2d.py [--quick] [--sizes 256 1024] [--kernels 3 63]
                                  [--dtypes float32] [--repeat 5] [--csv results.csv]
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import interleaved

import fftconv
from fftconv.benchmark import median_time

DIRECT_LIKE = {"direct", "ndimage"}




def floor_time(fft_shape, dtype, repeat: int) -> float:
    """Two forward and one inverse FFTW transform at ``fft_shape``: the FFT method's floor."""
    import pyfftw

    from fftconv._numerics.dtypes import fft_dtypes
    from fftconv._machine.costs import machine_costs
    from fftconv.strategies.fft import fft_threads

    rdt, cdt, _ = fft_dtypes(np.dtype(dtype))
    a = pyfftw.empty_aligned(fft_shape, rdt)
    a[...] = 1
    c = pyfftw.empty_aligned((*fft_shape[:-1], fft_shape[-1] // 2 + 1), cdt)
    o = pyfftw.empty_aligned(fft_shape, rdt)
    threads = fft_threads(math.prod(fft_shape), machine_costs(), fftconv.get_workers())
    fwd = pyfftw.FFTW(a, c, axes=(0, 1), flags=("FFTW_ESTIMATE",), threads=threads)
    inv = pyfftw.FFTW(c, o, axes=(0, 1), direction="FFTW_BACKWARD",
                      flags=("FFTW_ESTIMATE", "FFTW_DESTROY_INPUT"), threads=threads)
    return median_time(lambda: (fwd.execute(), fwd.execute(), inv.execute()), repeat)


def contenders(x, k):
    """name -> zero-argument callable, every one computing 'same' with a zero boundary."""
    import scipy.ndimage as ndi
    import scipy.signal as sig

    out = {m: (lambda m=m: fftconv.correlate(x, k, "same", method=m))
           for m in ("direct", "fft", "overlap", "auto")}
    plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype)
    out["plan"] = lambda: plan(x)

    def cold():  # a one-shot call that must plan: nothing remembered
        from fftconv._engine import clear_caches

        clear_caches()
        return fftconv.correlate(x, k, "same")

    out["cold"] = cold
    out["scipy_auto"] = lambda: sig.correlate(x, k, "same")
    out["fftconvolve"] = lambda: sig.fftconvolve(x, k, "same")
    out["oaconvolve"] = lambda: sig.oaconvolve(x, k, "same")
    out["ndimage"] = lambda: ndi.correlate(x, k, mode="constant")
    try:
        import cv2

        out["cv2"] = lambda: cv2.filter2D(x, -1, k, borderType=cv2.BORDER_CONSTANT)
    except ImportError:  # pragma: no cover - the bench extra installs it
        pass
    return out


def run(sizes, kernels, dtypes, repeat, max_macs):
    rows = []
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        for n in sizes:
            x = rng.standard_normal((n, n)).astype(dtype)
            for ksize in kernels:
                if ksize > n:
                    continue
                k = rng.standard_normal((ksize, ksize)).astype(dtype)
                macs = n * n * ksize * ksize
                row = {"dtype": dtype, "n": n, "k": ksize}
                fns = {name: fn for name, fn in contenders(x, k).items()
                       if not (name in DIRECT_LIKE and macs > max_macs)}
                cold = fns.pop("cold")  # it empties the caches: timed on its own
                rounds = interleaved(fns, repeat, budget=2.0 * len(fns))
                for name, runs in rounds.items():
                    row[name] = statistics.median(runs)
                best = min((c for c in OURS if c in rounds), key=row.__getitem__)
                row["paired"] = statistics.median([a / b for a, b in zip(rounds["auto"],
                                                                          rounds[best])])
                row["cold"] = median_time(cold, repeat)
                report = fftconv.explain(x.shape, k.shape, "same", x_dtype=dtype,
                                         kernel_dtype=dtype, operation="correlate")
                row["auto_pick"] = report.method
                fft_shape = next(c.estimate.fft_shape for c in report.candidates if c.name == "fft")
                row["floor"] = floor_time(fft_shape, dtype, repeat)
                rows.append(row)
                print(format_row(row), flush=True, file=sys.stderr)
    return rows


OURS = ("direct", "fft", "overlap")
THEIRS = ("scipy_auto", "fftconvolve", "oaconvolve", "ndimage", "cv2")
COLUMNS = ("direct", "fft", "overlap", "auto", "cold", "plan", "floor") + THEIRS


def format_row(row) -> str:
    cells = [f"{row['dtype']}", f"{row['n']}", f"{row['k']}"]
    cells += [f"{row[c] * 1e3:.2f}" if c in row else "-" for c in COLUMNS]
    best_ours = min(row[c] for c in OURS if c in row)
    best_theirs = min(row[c] for c in THEIRS if c in row)
    cells += [row["auto_pick"], f"{row['auto'] / best_ours:.2f}", f"{row['auto'] / best_theirs:.2f}",
              f"{row['fft'] / row['floor']:.2f}"]
    return "| " + " | ".join(cells) + " |"


def geomean(values):
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def summary(rows) -> str:
    auto_ours = [r["auto"] / min(r[c] for c in OURS if c in r) for r in rows]
    paired = [r["paired"] for r in rows]
    auto_theirs = [r["auto"] / min(r[c] for c in THEIRS if c in r) for r in rows]
    vs_auto = [r["auto"] / r["scipy_auto"] for r in rows]
    vs_cv2 = [r["auto"] / r["cv2"] for r in rows if "cv2" in r]
    vs_ndi = [r["ndimage"] / r["auto"] for r in rows if "ndimage" in r]
    floor = [r["fft"] / r["floor"] for r in rows if r["n"] >= 512]
    reuse = [r["plan"] / r["cold"] for r in rows]
    def spread(xs: list, fmt: str = ".2f", low: bool = False) -> str:
        """geo-mean and worst (and best), or 'n/a' when the grid has no such cases."""
        if not xs:
            return "n/a (no such cases in this grid)"
        text = f"geo-mean {geomean(xs):{fmt}}, worst {max(xs):{fmt}}"
        return text + (f", best {min(xs):{fmt}}" if low else "")

    lines = [
        f"cases: {len(rows)}",
        f"auto / fastest fftconv strategy: {spread(auto_ours)}",
        f"auto / fastest fftconv strategy, paired by round: {spread(paired)}",
        f"auto / fastest of scipy+OpenCV: {spread(auto_theirs, low=True)}",
        f"auto / scipy.signal auto: {spread(vs_auto)}",
        f"auto / cv2.filter2D: {spread(vs_cv2)}",
        "scipy.ndimage / auto (speed-up): "
        + (f"geo-mean {geomean(vs_ndi):.1f}, min {min(vs_ndi):.1f}, max {max(vs_ndi):.1f}"
           if vs_ndi else "n/a (no such cases in this grid)"),
        f"fft / bare FFTW floor (n >= 512): {spread(floor)}",
        f"reused plan / cold one-shot call: {spread(reuse)}",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--kernels", type=int, nargs="+", default=[3, 5, 7, 15, 31, 63, 127, 255])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"],
                        choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-macs", type=float, default=3e9,
                        help="skip direct-sum methods above this many multiply-adds")
    parser.add_argument("--quick", action="store_true", help="a small grid, for a smoke test")
    parser.add_argument("--csv", help="write every timing (seconds) to this CSV file")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.kernels, args.repeat = [128, 256], [3, 15], 2
    print(f"fftconv {fftconv.__version__}, workers={fftconv.get_workers()}, times in ms "
          "(median), mode='same', zero boundary", file=sys.stderr)
    rows = run(args.sizes, args.kernels, args.dtypes, args.repeat, args.max_macs)
    header = ("dtype", "N", "K") + COLUMNS + ("auto picks", "auto/best ours", "auto/best theirs", "fft/floor")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print(format_row(row))
    print()
    print(summary(rows))
    if args.csv:
        keys = ["dtype", "n", "k", "auto_pick", *COLUMNS]
        with open(args.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
