"""fftconv.nn.conv2d against torch's CPU conv2d: N=8, C=O=16, 64² and 128², K = 3 … 31.

Prints the median time of each (torch, fftconv 'auto', and each fftconv method) and the
ratio torch / fftconv 'auto' (above 1: fftconv is faster), as a Markdown table. 'nan':
the direct method is predicted to take over 2 s and is not timed. Both libraries use
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
from fftconv.benchmark import median_time
from fftconv._nn_plan import get_plan
from fftconv._nn_problem import make_nn_problem


SLOW = 2.0  # seconds: the direct method is not timed when predicted slower


def paused_median(fn, repeat: int) -> float:
    """Median of ``repeat`` calls after a warm-up, starting with a pause: the previous
    contender's idle threads (OpenMP, BLAS) spin for a while after their last call and
    would slow down this one."""
    time.sleep(0.2)
    return median_time(fn, repeat, math.inf)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--kernels", type=int, nargs="+", default=[3, 7, 15, 31])
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()
    torch.set_num_threads(get_workers())
    rng = np.random.default_rng(0)
    print(f"threads: {get_workers()} (torch {torch.__version__}, {args.dtype}, "
          f"median of {args.repeat})\n")
    print("| size | K | torch ms | fftconv ms (auto) | choice | direct ms | fft ms "
          "| torch / fftconv |")
    print("|---|---|---|---|---|---|---|---|")
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
            plan = get_plan(problem, w, "auto", get_workers())
            row = {}
            for m in ("auto", "direct", "fft"):
                if m == "direct" and plan.estimates["direct"] > SLOW:
                    row[m] = float("nan")  # predicted too slow to time
                    continue
                row[m] = paused_median(lambda: nn.conv2d(x, w, padding="same", method=m), repeat)
            print(f"| {size}² | {k} | {t_torch * 1e3:.1f} | {row['auto'] * 1e3:.1f} "
                  f"| {plan.method} | {row['direct'] * 1e3:.1f} | {row['fft'] * 1e3:.1f} "
                  f"| {t_torch / row['auto']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
