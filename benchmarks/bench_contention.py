"""fftconv on a busy machine: auto against the best strategy on one thread, with neighbours.

For every problem of the 2-d grid (images 256^2-2048^2, kernels 3-127, float32 and
float64, ``mode='same'``, zero boundary) and every condition -- ``idle``, ``busy`` (one
single-threaded busy process) and ``blas`` (a process running numpy matrix products on
the BLAS's threads) -- this times, side by side in one run:

- ``auto``: a one-shot ``fftconv.correlate`` with the default workers;
- ``best1``: the fastest of fftconv's own strategies on one thread (``workers=1`` plans;
  the direct sum only up to ``--max-macs`` multiply-adds);
- ``auto1``: auto on one thread (idle only).

The contenders are timed in rounds that call each of them once, in an order shuffled
from round to round, so that a drift in the machine's load reaches all of them alike; a
short one is called untimed for 5 ms just before its timed call, so that it finds its
data in cache and the core in the state a loop of such calls leaves it in, rather than
the state the contender before it left. At least ``--repeat`` rounds run, and up to 31
within a time budget (short problems get the most); after the first ``--repeat`` rounds
a strategy 4 times slower than the fastest is no longer timed, so that a slow loser (the
direct sum of a large kernel) does not hold the problem to those rounds. ``auto /
best1`` is the median over rounds of auto's time over the best strategy's time in the
same round: beside a neighbour, a call runs at full speed or at a third of it, as the
scheduler places it, for several calls in a row, and the two calls of a round share that
state (a ratio of separate medians flips with it).

The script starts and stops each neighbour itself. It prints a Markdown table (ms) and
the summary the targets are stated in:

- with either neighbour: auto / best1 worst <= 1.5, geo-mean <= 1.15;
- idle: auto1 / auto (the default workers' speed-up) >= 1.3 on geo-mean for problems of
  1 Mpixel and more.

    python benchmarks/bench_contention.py [--quick] [--conditions idle blas]
                                          [--repeat 5] [--out results.md]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import publish
from _neighbours import KINDS, neighbour
from _timing import interleaved

import fftconv

STRATEGIES = ("direct", "separable", "fft", "overlap")


def grid(quick: bool) -> list[tuple[int, int, str]]:
    sizes = (256, 1024) if quick else (256, 512, 1024, 2048)
    kernels = (3, 31) if quick else (3, 17, 63, 127)
    dtypes = ("float32",) if quick else ("float32", "float64")
    return [(n, k, d) for d in dtypes for n in sizes for k in kernels]


def _contenders(x: np.ndarray, k: np.ndarray, max_macs: float, idle: bool) -> dict[str, object]:
    """``auto`` (one-shot, default workers), each strategy's plan on one thread, and (idle)
    ``auto1`` (one-shot on one thread)."""
    out: dict[str, object] = {"auto": lambda: fftconv.correlate(x, k, "same")}
    for method in STRATEGIES:
        if method == "direct" and x.size * k.size > max_macs:
            continue
        try:
            plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype, method=method,
                                          workers=1)
        except ValueError:  # the strategy cannot serve this problem (separable: rank)
            continue
        out[method] = lambda plan=plan: plan(x)
    if idle:
        out["auto1"] = lambda: fftconv.correlate(x, k, "same", workers=1)
    return out


def measure(condition: str, problems, repeat: int, max_macs: float) -> list[dict]:
    """One row per problem: medians, and ``ratio``, the median over rounds of auto's time
    over the best strategy's in the same round (a paired figure: on a busy machine a call
    runs at full speed or at a third of it as the scheduler places it, for several calls
    in a row, and a pair taken moments apart shares that state)."""
    rows = []
    rng = np.random.default_rng(0)
    with neighbour(condition):
        for n, kk, dtype in problems:
            x = rng.standard_normal((n, n)).astype(dtype)
            k = rng.standard_normal((kk, kk)).astype(dtype)
            runs = interleaved(_contenders(x, k, max_macs, condition == "idle"), repeat,
                               keep=("auto", "auto1"))
            t = {name: statistics.median(v) for name, v in runs.items()}
            chosen = fftconv.plan_correlate(x.shape, k, "same", x_dtype=dtype).method
            which = min((m for m in STRATEGIES if m in t), key=t.__getitem__)
            ratio = statistics.median([a / b for a, b in zip(runs["auto"], runs[which])])
            row = {"condition": condition, "n": n, "k": kk, "dtype": dtype, "auto": t["auto"],
                   "chosen": chosen, "best1": t[which], "best1_method": which,
                   "ratio": ratio, "rounds": len(runs["auto"])}
            if "auto1" in t:
                row["auto1"] = t["auto1"]
            rows.append(row)
            print(f"  {condition:5} {n}^2 K={kk} {dtype}: auto {t['auto'] * 1e3:.2f} ms "
                  f"({chosen}), best1 {t[which] * 1e3:.2f} ms ({which}), paired ratio "
                  f"{ratio:.2f} over {len(runs['auto'])} rounds", file=sys.stderr)
            if ratio > SUSPECT:  # say what the planner believed, to trace a mis-pick
                _explain(x, k, t)
    return rows


#: A paired ratio above this prints the planner's reports beside the times it measured.
SUSPECT = 1.3


def _explain(x: np.ndarray, k: np.ndarray, times: dict[str, float]) -> None:
    """The reports of the one-thread and default-workers plans (estimates corrected by what
    was learned, and which corrections), and the medians measured, on stderr."""
    measured = ", ".join(f"{name} {s * 1e3:.2f} ms" for name, s in sorted(times.items()))
    print(f"    measured medians: {measured}", file=sys.stderr)
    for workers in (1, fftconv.get_workers()):
        report = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype,
                                        workers=workers).report()
        print("    " + str(report).replace("\n", "\n    "), file=sys.stderr)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def table(rows: list[dict]) -> str:
    lines = [("| condition | image | K | dtype | auto (ms) | auto picks | best 1 thread (ms) "
              "| best is | auto / best1 | rounds | 1-thread auto / auto |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        speed = f"{r['auto1'] / r['auto']:.2f}" if "auto1" in r else ""
        lines.append(f"| {r['condition']} | {r['n']}² | {r['k']} | {r['dtype']} | "
                     f"{r['auto'] * 1e3:.2f} | {r['chosen']} | {r['best1'] * 1e3:.2f} | "
                     f"{r['best1_method']} | {r['ratio']:.2f} | {r['rounds']} | {speed} |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    out = ["| condition | auto / best1 geo-mean | worst | target |", "|---|---|---|---|"]
    for cond in dict.fromkeys(r["condition"] for r in rows):
        ratios = [r["ratio"] for r in rows if r["condition"] == cond]
        target = "geo-mean <= 1.15, worst <= 1.5" if cond != "idle" else "-"
        out.append(f"| {cond} | {geomean(ratios):.2f} | {max(ratios):.2f} | {target} |")
    big = [r["auto1"] / r["auto"] for r in rows
           if r["condition"] == "idle" and "auto1" in r and r["n"] * r["n"] >= 1 << 20]
    if big:
        out.append("")
        out.append(f"Idle speed-up of the default workers ({fftconv.get_workers()}) over one "
                   f"worker, problems of 1 Mpixel and more: geo-mean {geomean(big):.2f} "
                   f"(target >= 1.3), lowest {min(big):.2f}.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small grid, fewer repeats")
    ap.add_argument("--conditions", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--max-macs", type=float, default=4e9,
                    help="skip the direct sum above this many multiply-adds")
    ap.add_argument("--out", help="also write the Markdown to this file")
    args = ap.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    problems = grid(args.quick)
    for n, kk, dtype in problems:  # warm-up: compilation, FFTW plans, first-use costs
        x = np.ones((n, n), dtype)
        fftconv.correlate(x, np.ones((kk, kk), dtype), "same")
    rows = []
    for cond in args.conditions:
        rows += measure(cond, problems, repeat, args.max_macs)
    text = (f"fftconv {fftconv.__version__}, {fftconv.get_workers()} default workers\n\n"
            + table(rows) + "\n\n" + summary(rows))
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
