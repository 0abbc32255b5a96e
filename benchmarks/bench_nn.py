"""fftconv.nn.conv2d against torch's CPU conv2d, idle and beside competing processes.

For every layer (float32, ``padding="same"``) and every neighbour (``idle``; ``busy``: one
single-threaded busy loop; ``blas``: numpy matrix products on the BLAS's own threads, see
``_neighbours.py``), in one run: the median time of torch's ``conv2d`` (on
``fftconv.get_workers()`` threads), of ``fftconv.nn.conv2d`` (``method='auto'``) at the
default workers and at ``workers=1``, and the ratios

- ``auto / 1 thread``: the default workers against one worker (below 1: the second
  thread helps; far above 1: the threads stall behind a descheduled one);
- ``torch / auto``: above 1, fftconv is faster.

A Markdown table per neighbour, then a summary (geo-mean and worst of ``auto / 1 thread``,
geo-mean of ``torch / auto``).

    python benchmarks/bench_nn.py [--repeat 7] [--neighbours idle busy blas] [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _neighbours import KINDS, neighbour

import fftconv
from fftconv import get_workers, nn
from fftconv.benchmark import median_time

WARM = 0.1  # seconds of calls before each timing

#: (N, C, O, size, K): the classic layer grid (N=8, C=O=16) and single images, where the
#: work is split by output channels and strips rather than by batch items.
LAYERS = [(8, 16, 16, s, k) for s in (64, 128) for k in (3, 7, 15)] + [
    (1, 16, 16, 256, 3), (1, 16, 16, 256, 15), (1, 3, 8, 512, 31), (1, 64, 64, 64, 3)]
QUICK = [(8, 16, 16, 64, 3), (8, 16, 16, 128, 7), (1, 16, 16, 256, 3), (1, 3, 8, 512, 31)]


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


def one_thread(fn):
    def call():
        with fftconv.set_workers(1):
            return fn()
    return call


def run(layers, kinds, repeat: int) -> dict[str, list[tuple]]:
    rng = np.random.default_rng(0)
    rows: dict[str, list[tuple]] = {}
    for kind in kinds:
        rows[kind] = []
        with neighbour(kind):
            for n, c, o, size, k in layers:
                x = rng.standard_normal((n, c, size, size)).astype(np.float32)
                w = rng.standard_normal((o, c, k, k)).astype(np.float32)
                tx, tw = torch.from_numpy(x), torch.from_numpy(w)
                conv = lambda: nn.conv2d(x, w, padding="same")
                choice = nn.explain(x.shape, w.shape, padding="same").method
                t_torch = paused_median(lambda: F.conv2d(tx, tw, padding="same"), repeat)
                t_auto = paused_median(conv, repeat)
                t_one = paused_median(one_thread(conv), repeat)
                rows[kind].append(((n, c, o, size, k), choice, t_torch, t_auto, t_one))
                print(f"  {kind}: N={n} C={c} O={o} {size}² K={k}: torch {t_torch * 1e3:.2f} ms, "
                      f"auto {t_auto * 1e3:.2f} ms, 1 thread {t_one * 1e3:.2f} ms", flush=True)
    return rows


def table(kind: str, rows: list[tuple]) -> str:
    out = [f"\n### neighbour: {kind}\n",
           "| layer | choice | torch ms | auto ms | 1 thread ms | auto / 1 thread | torch / auto |",
           "|---|---|---|---|---|---|---|"]
    for (n, c, o, size, k), choice, tt, ta, t1 in rows:
        out.append(f"| N={n} C={c} O={o} {size}² K={k} | {choice} | {tt * 1e3:.2f} "
                   f"| {ta * 1e3:.2f} | {t1 * 1e3:.2f} | {ta / t1:.2f} | {tt / ta:.2f} |")
    return "\n".join(out)


def summary(rows: dict[str, list[tuple]]) -> str:
    out = ["\n| neighbour | auto / 1 thread, geo-mean | worst | torch / auto, geo-mean |",
           "|---|---|---|---|"]
    for kind, rs in rows.items():
        own = [ta / t1 for *_, ta, t1 in rs]
        vs = [tt / ta for _, _, tt, ta, _ in rs]
        out.append(f"| {kind} | {math.exp(np.mean(np.log(own))):.2f} | {max(own):.2f} "
                   f"| {math.exp(np.mean(np.log(vs))):.2f} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--neighbours", nargs="+", default=list(KINDS), choices=KINDS)
    ap.add_argument("--quick", action="store_true", help="four layers only")
    args = ap.parse_args()
    workers = get_workers()
    torch.set_num_threads(workers)
    print(f"threads: {workers} (torch {torch.__version__}, float32, median of {args.repeat})")
    rows = run(QUICK if args.quick else LAYERS, args.neighbours, args.repeat)
    for kind, rs in rows.items():
        print(table(kind, rs))
    print(summary(rows))


if __name__ == "__main__":
    main()
