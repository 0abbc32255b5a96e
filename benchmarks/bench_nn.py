"""fftconv.nn.conv2d against torch's CPU conv2d: N=8, C=O=16, 64² and 128², K = 3 … 31.

Prints the median time of each (torch, fftconv 'auto', and each fftconv method: the direct
method by its two implementations, the compiled kernel and im2col + BLAS, and the FFT
method) and the ratio torch / fftconv 'auto' (above 1: fftconv is faster), as a Markdown
table. 'nan': predicted to take over 2 s, not timed. Both libraries use
``fftconv.get_workers()`` threads.

    python benchmarks/bench_nn.py [--repeat 5] [--sizes 64 128] [--kernels 3 7 15 31]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from fftconv import get_workers, nn
from fftconv.nn._plan import NNPlan, get_plan
from fftconv.nn._problem import make_nn_problem
from fftconv.benchmark import median_time

SLOW = 2.0  # seconds: a method predicted slower is not timed
WARM = 0.1  # seconds of calls before each timing


def paused_median(fn, repeat: int) -> float:
    """Median of ``repeat`` calls, after a pause and a warm-up.

    The pause: the previous contender's idle threads (OpenMP, BLAS) spin for a while after
    their last call and would slow down this one. The warm-up (calls for ``WARM`` seconds):
    on the virtual development machine, after a pause the guest's scheduler keeps threads
    that sleep between calls (fftconv's) on one core for tens of milliseconds, while
    spinning threads (torch's OpenMP) hold both; each contender is timed in its steady
    state.
    """
    time.sleep(0.2)
    end = time.perf_counter() + WARM
    while time.perf_counter() < end:
        fn()
    return median_time(fn, repeat, math.inf)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--kernels", type=int, nargs="+", default=[3, 7, 15, 31])
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()
    workers = get_workers()
    torch.set_num_threads(workers)
    rng = np.random.default_rng(0)
    print(f"threads: {workers} (torch {torch.__version__}, {args.dtype}, "
          f"median of {args.repeat})\n")
    print("| size | K | torch ms | fftconv ms (auto) | choice | kernel ms | im2col ms | fft ms "
          "| torch / fftconv |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for k in args.kernels:
            x = rng.standard_normal((8, 16, size, size)).astype(args.dtype)
            w = rng.standard_normal((16, 16, k, k)).astype(args.dtype)
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)
            repeat = max(1, args.repeat if k < 31 else args.repeat // 2)
            t_torch = paused_median(lambda: F.conv2d(tx, tw, padding="same"), repeat)
            problem = make_nn_problem(2, x, w, None, stride=1, padding="same", dilation=1,
                                      groups=1, data_format="channels_first",
                                      padding_mode="zeros", method="auto")[0]
            plan = get_plan(problem, w, "auto", workers)
            choice = plan.method if plan.method == "fft" else f"direct ({plan.direct})"
            row = {"auto": paused_median(lambda: nn.conv2d(x, w, padding="same"), repeat)}
            for impl in ("kernel", "im2col"):
                if plan.direct_estimates[impl] > SLOW:
                    row[impl] = float("nan")
                    continue
                direct = NNPlan(problem, w, "direct", workers, direct=impl)
                row[impl] = paused_median(lambda: direct(x, None), repeat)
            row["fft"] = paused_median(lambda: nn.conv2d(x, w, padding="same", method="fft"),
                                       repeat)
            print(f"| {size}² | {k} | {t_torch * 1e3:.1f} | {row['auto'] * 1e3:.1f} | {choice} "
                  f"| {row['kernel'] * 1e3:.1f} | {row['im2col'] * 1e3:.1f} "
                  f"| {row['fft'] * 1e3:.1f} | {t_torch / row['auto']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
