"""Streaming convolution benchmark: fftconv.stream against scipy.signal.lfilter with zi.

Cases (one core, ``workers=1``), each timed idle and again with one competing CPU-bound
process that this script starts and stops itself:

- ``16384 taps, 256 block``: float32 mono, StreamConvolver per block (every
  partitioning, and auto) against ``lfilter(h, 1, block, zi=zi)`` per block.
  Targets: <= 0.15 ms per block and >= 12x lfilter.
- ``65536 taps, 512 block``: float32 mono. Target: <= 0.6 ms per block.
- ``65536 taps, 64 block, latency 0``: real time at 48 kHz with 4x headroom, i.e.
  <= 0.333 ms per block (a 64-sample block lasts 1.333 ms). The table also gives the
  99th percentile and the worst block.
- ``fir_filter 2^20 x 16384``: one call, against ``fftconv.convolve`` on the same data
  (target: within 1.3x), ``scipy.signal.oaconvolve`` and ``lfilter`` (target: >= 300x).
  With ``--quick`` lfilter (about 100 s) is timed on a 2^14-sample prefix and scaled
  linearly in the length (its cost is exactly proportional); the table says so.

Per-block figures are the median over repeats of the mean over a run of blocks
(fftconv.benchmark.median_time), which the targets are checked against; the median and
99th percentile of single blocks are shown beside it. The fir_filter contenders are
timed in turn, call by call, so that load elsewhere hits them alike. ``--plot`` sweeps
the kernel length and draws the median cost of a block for each partitioning
(docs/img/stream_cost.png in the docs).

    python benchmarks/bench_stream.py [--quick] [--output results.md] [--plot cost.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
import time

import numpy as np
from scipy import signal

import fftconv
from fftconv.benchmark import median_time
from fftconv.stream import StreamConvolver, fir_filter
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_neighbours.py
from _neighbours import neighbour

METHODS = ("uniform", "nonuniform", "direct")
RNG = np.random.default_rng(2026)


def per_block(sc: StreamConvolver, blocks: np.ndarray, repeat: int, budget: float):
    """(median over runs of the mean per block, median block, p99, worst) in seconds."""
    out = np.empty(blocks.shape[1], sc.report().dtype)
    single: list[float] = []

    def run():
        for b in blocks:
            t0 = time.perf_counter()
            sc.process(b, out=out)
            single.append(time.perf_counter() - t0)

    mean = median_time(run, repeat, budget) / len(blocks)
    s = np.array(single[len(blocks):])  # not the warm-up run
    return mean, float(np.median(s)), float(np.percentile(s, 99)), float(s.max())


def lfilter_block(h: np.ndarray, blocks: np.ndarray, repeat: int, budget: float) -> float:
    zi = np.zeros(len(h) - 1, np.result_type(h, blocks, float))

    def run():
        z = zi
        for b in blocks:
            _, z = signal.lfilter(h, [1.0], b, zi=z)

    return median_time(run, repeat, budget) / len(blocks)


def stream_case(k, block, latency, nblocks, lfilter_blocks, quick):
    h = RNG.standard_normal(k).astype(np.float32)
    x = RNG.standard_normal((nblocks, block)).astype(np.float32)
    rows = {}
    repeat, budget = (3, 1.0) if quick else (7, 4.0)
    for m in ("auto", "uniform", "nonuniform"):
        sc = StreamConvolver(h, block, latency=latency, method=m, workers=1)
        rows[m if m != "auto" else f"auto ({sc.method})"] = per_block(sc, x, repeat, budget)
    ref = None
    if lfilter_blocks:
        ref = lfilter_block(h, x[:lfilter_blocks], 1 if quick else 3, budget)
    return rows, ref


def interleaved(fns: dict, repeat: int) -> dict:
    """Median seconds of each callable, the calls taken in turn (after one warm-up each),
    so that a burst of load elsewhere hits every contender alike (the ratio is what counts)."""
    times: dict = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def fir_case(quick):
    n, k = 1 << 20, 16384
    x = RNG.standard_normal(n)
    b = RNG.standard_normal(k)
    zi = np.zeros(k - 1)
    repeat, budget = (5, 2.0) if quick else (9, 10.0)
    with fftconv.set_workers(1):  # fir_filter's convolution runs on the default workers
        times = interleaved({
            "fir_filter (with zi)": lambda: fir_filter(b, x, zi=zi),
            "fftconv.convolve": lambda: fftconv.convolve(x, b, workers=1),
            "scipy oaconvolve": lambda: signal.oaconvolve(x, b),
        }, repeat)
    prefix = 1 << 14 if quick else n
    if prefix < n:  # a median of a few short runs, scaled
        lf = median_time(lambda: signal.lfilter(b, [1.0], x[:prefix], zi=zi), 3, budget,
                         min_repeat=3) * n / prefix
    else:  # one run of the whole signal (about 100 s): no warm-up, no repeat
        t0 = time.perf_counter()
        signal.lfilter(b, [1.0], x, zi=zi)
        lf = time.perf_counter() - t0
    note = f"timed on {prefix} samples, scaled x{n // prefix}" if prefix < n else "whole signal"
    return times, lf, note


def ms(s: float) -> str:
    return f"{s * 1e3:.3f}"


def tables(quick: bool, load: bool) -> list[str]:
    lines = []
    label = "with one competing process" if load else "idle"
    lines.append(f"\n### Streaming, float32 mono, workers=1, {label}\n")
    lines.append("| case | method | ms per block | median ms | p99 ms | worst ms | lfilter+zi ms "
                 "| speed-up | target | met |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    cases = [
        ("16384 taps, block 256", 16384, 256, None, 400 if quick else 2000, 20, 0.15e-3, 12),
        ("65536 taps, block 512", 65536, 512, None, 200 if quick else 1000, 6, 0.6e-3, None),
        ("65536 taps, block 64, latency 0", 65536, 64, 0, 1024 if quick else 8192, 0,
         0.333e-3, None),
    ]
    with neighbour("busy" if load else "idle"):
        for name, k, block, lat, nb, nl, target, speedup in cases:
            rows, ref = stream_case(k, block, lat, nb, nl, quick)
            for m, (mean, med, p99, worst) in rows.items():
                ratio = ref / mean if ref else None
                ok = mean <= target and (speedup is None or (ratio or 0) >= speedup)
                tgt = f"<= {target * 1e3:.3g} ms" + (f", >= {speedup}x" if speedup else "")
                lines.append(f"| {name} | {m} | {ms(mean)} | {ms(med)} | {ms(p99)} | {ms(worst)} | "
                             f"{ms(ref) if ref else '-'} | "
                             f"{f'{ratio:.1f}x' if ratio else '-'} | {tgt} | "
                             f"{'yes' if ok else 'NO'} |")
        times, lf, note = fir_case(quick)
    conv = times["fftconv.convolve"]
    fir = times["fir_filter (with zi)"]
    lines.append(f"\n### fir_filter, 2^20 samples x 16384 taps, float64, workers=1, {label}\n")
    lines.append("| contender | seconds | vs fir_filter |")
    lines.append("|---|---|---|")
    for name, t in times.items():
        lines.append(f"| {name} | {t:.4f} | {t / fir:.2f}x |")
    lines.append(f"| scipy lfilter ({note}) | {lf:.2f} | {lf / fir:.0f}x |")
    lines.append(f"\nfir_filter / convolve = {fir / conv:.2f} (target <= 1.3: "
                 f"{'yes' if fir / conv <= 1.3 else 'NO'}); lfilter / fir_filter = "
                 f"{lf / fir:.0f} (target >= 300: {'yes' if lf / fir >= 300 else 'NO'})")
    return lines


def sweep(quick: bool):
    """Cost per block against kernel length for each partitioning (two settings)."""
    ks = [256, 1024, 4096, 16384, 65536] if quick else [2 ** e for e in range(7, 18)]
    settings = [(256, None), (64, 0)]
    result = {}
    for block, lat in settings:
        for m in METHODS:
            pts = []
            for k in ks:
                if m == "direct" and k > 8192:
                    continue
                h = RNG.standard_normal(k).astype(np.float32)
                n = max(50, min(2000, (1 << 18) // block))
                x = RNG.standard_normal((n, block)).astype(np.float32)
                sc = StreamConvolver(h, block, latency=lat, method=m, workers=1)
                pts.append((k, per_block(sc, x, 3, 0.5)[1],
                            sc.report().estimate.mean))
            result[(block, lat, m)] = pts
    return result


def plot(result, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = sorted({(b, lat) for b, lat, _ in result}, key=lambda s: -s[0])
    fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 4.2), squeeze=False)
    for ax, (block, lat) in zip(axes.flat, settings):
        for m in METHODS:
            pts = result.get((block, lat, m))
            if not pts:
                continue
            ks, t, est = zip(*pts)
            line, = ax.plot(ks, np.array(t) * 1e3, marker="o", label=f"{m} (measured)")
            ax.plot(ks, np.array(est) * 1e3, ls=":", color=line.get_color(),
                    label=f"{m} (cost model)")
        budget = block / 48000 / 4 * 1e3
        ax.axhline(budget, color="grey", ls="--", lw=1,
                   label="real time at 48 kHz, 4x headroom")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("kernel length (taps)")
        ax.set_ylabel("ms per block (median)")
        ax.set_title(f"block {block}, latency {'block' if lat is None else lat}, float32")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer blocks and repeats; lfilter timed on a prefix and scaled")
    parser.add_argument("--output", metavar="FILE", help="also write the tables to FILE")
    parser.add_argument("--plot", metavar="PNG", help="sweep kernel lengths and plot")
    parser.add_argument("--no-load", action="store_true",
                        help="skip the run with a competing process")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    lines = [f"# bench_stream ({mode}), fftconv {fftconv.__version__}"]
    for load in (False,) if args.no_load else (False, True):
        lines += tables(args.quick, load)
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    if args.plot:
        plot(sweep(args.quick), args.plot)
        print(f"\nplot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
