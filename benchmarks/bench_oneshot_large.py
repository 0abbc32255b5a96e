"""A one-shot call whose plan is too large to keep: does the planner recover from a bad pick?

The problem: ``fftconv.correlate`` of a 4096x4096 float32 image with a 63x63 kernel,
``mode='same'``, ``boundary='symmetric'``, ``workers=1``, called ``--calls`` times in a
row. Its whole-array FFT plan holds about 350 MiB, over the call memo's share for one
plan, so a call that picks it builds it afresh every time.

The starting state is a learned one: overlap-save on one thread corrected to ``--prior``
times its estimate (2.6 is what the dask benchmark's tasks had taught the planner on a
2-core Xeon). The whole-array FFT has no timings of its own, so its shipped estimate
looks cheaper and auto picks it. A plan that is not kept is timed on its only call, so an
idle process corrects the pick within a few calls. Beside a busy process the calls teach
the corrections under load, which price plans made while the load lasts, so the pick is
corrected there too, without touching what the idle calls taught.

For each condition (``idle``, then ``busy``: one single-threaded busy process, started
and stopped by the script) it prints every auto call's time and the strategy auto would
pick next, then the median of the same calls with ``method='overlap'`` (what the right
pick costs). Each condition starts from the same learned state, in a cache directory of
its own.

    python benchmarks/bench_oneshot_large.py [--calls 7] [--prior 2.6] [--size 4096]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _neighbours import neighbour

import fftconv
from fftconv._machine import learning

K = 63
OPTIONS = {"mode": "same", "boundary": "symmetric", "workers": 1}


def _start(x: np.ndarray, k: np.ndarray, prior: float) -> None:
    """Forget everything, then teach overlap-save on one thread ``prior`` x its estimate."""
    os.environ["FFTCONV_CACHE_DIR"] = tempfile.mkdtemp(prefix="fftconv-bench-")
    learning.reset()
    fftconv._engine.clear_caches()
    plan = fftconv.plan_correlate(x.shape, k, OPTIONS["mode"], boundary=OPTIONS["boundary"],
                                  x_dtype=x.dtype, workers=1, method="overlap")
    key = learning.subject("overlap", plan.estimate, x.dtype, 1)
    for _ in range(2 * learning.MIN_OBSERVATIONS):
        learning.observe(key, x.size, 1.0, prior)
    fftconv._engine.clear_caches()


def run(condition: str, x: np.ndarray, k: np.ndarray, calls: int, prior: float) -> str:
    _start(x, k, prior)
    rows = []
    with neighbour(condition):
        for _ in range(calls):
            t0 = time.perf_counter()
            fftconv.correlate(x, k, **OPTIONS)
            dt = time.perf_counter() - t0
            nxt = fftconv.plan_correlate(x.shape, k, OPTIONS["mode"],
                                         boundary=OPTIONS["boundary"], x_dtype=x.dtype,
                                         workers=1).method
            rows.append(f"{dt * 1e3:.0f} ms (next: {nxt})")
        forced = []
        for _ in range(3):
            t0 = time.perf_counter()
            fftconv.correlate(x, k, method="overlap", **OPTIONS)
            forced.append(time.perf_counter() - t0)
    return (f"| {condition} | {', '.join(rows)} | "
            f"{statistics.median(forced) * 1e3:.0f} ms |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=7)
    ap.add_argument("--prior", type=float, default=2.6)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.size, args.size)).astype(np.float32)
    k = rng.standard_normal((K, K)).astype(np.float32)
    fftconv.correlate(x, k, method="overlap", **OPTIONS)  # compilation, FFTW wisdom
    print(f"{args.size}x{args.size} float32, K = {K}, workers=1, overlap-save learned at "
          f"{args.prior}x its estimate\n")
    print("| condition | auto, call by call | `method='overlap'` (median of 3) |")
    print("|---|---|---|")
    for condition in ("idle", "busy"):
        print(run(condition, x, k, args.calls, args.prior), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
