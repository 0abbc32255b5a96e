"""fftconv.dask against dask-image and against in-memory fftconv: medians and ratios.

    python benchmarks/bench_dask.py [--quick] [--out FILE] [--no-cluster]

Problem (issue 12): a 4096x4096 float32 image in 1024x1024 chunks, square kernels, the
threaded scheduler. ``--quick`` uses a 512x512 image in 128x128 chunks instead (dask-image
needs minutes at K = 63 on the full size), so its ratios only show that the script works.

Rows, each run idle and again with one competing CPU-bound process that the script
starts and stops itself:

- ``ndfilters``: ``fftconv.dask.ndfilters.correlate`` vs ``dask_image.ndfilters.correlate``
  (same call, mode 'reflect'); ``speed-up`` = dask-image / fftconv. Targets: >= 30x at
  K = 63, >= 1x (no slower) at K = 7.
- ``vs in-memory``: ``fftconv.dask.correlate`` vs ``fftconv.correlate`` on the numpy
  array (mode 'same', boundary 'symmetric'); ratio = dask / in-memory. Target: <= 1.5x
  for every K. Timed as ``compute()`` (dask gathers the blocks into a new array) and as
  ``store()`` into a preallocated array; the ``dask round trip`` row is what dask alone
  takes to copy the array through ``map_blocks(np.copy).compute()``, the floor under any
  dask computation of this size.
- ``task memory``: peak bytes allocated by one interior task (tracemalloc) over its
  chunk-plus-halo bytes. Target: <= 3x.
- ``LocalCluster``: the same correlation on a ``dask.distributed.LocalCluster`` (2 worker
  processes, 1 thread each) against in-memory, the input made on the workers.

Timings are medians after a warm-up call (FFTW planning, numba compilation and the
per-process plan cache excluded), of ``compute()`` into a numpy array.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import time
import tracemalloc

import dask
import dask.array as da
import numpy as np

import fftconv
import fftconv.dask as fd
from fftconv.benchmark import median_time


def _spin() -> None:  # pragma: no cover - runs in the competing process
    x = 0
    while True:
        x += 1


class CompetingLoad:
    """One CPU-bound process for the duration of a ``with`` block."""

    def __enter__(self) -> CompetingLoad:
        self.proc = mp.get_context("spawn").Process(target=_spin, daemon=True)
        self.proc.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.join()


def _fmt(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def task_memory(d: da.Array, w: np.ndarray) -> float:
    """Peak allocation of one interior task over its chunk-plus-halo bytes."""
    from fftconv.dask._api import build
    from fftconv.dask._tasks import compute_block

    problem, report, job, xa, k, specs = build(
        d, w, flip=False, conjugate=True, mode="same", axes=None, boundary="symmetric",
        cval=0, anchor=None, method="auto", effort="estimate", workers=None, dtype=None,
        nan_policy="propagate", max_memory=None, chunks="auto")
    idx = tuple(n // 2 for n in (len(c) for c in report.out_chunks))
    spec = specs[idx]
    chunks = [np.ascontiguousarray(xa.blocks[dep].compute()) for dep in spec.deps]
    compute_block(job, spec, k, chunks)  # warm: plan built, FFTW planned
    tracemalloc.start()
    compute_block(job, spec, k, chunks)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / (math.prod(spec.shape) * np.dtype(job.block_dtype).itemsize)


def grid(n: int, chunk: int, ks: list[int], budget: float, load: str) -> list[tuple]:
    import dask_image.ndfilters

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n)).astype(np.float32)
    d = da.from_array(x, chunks=chunk)
    out = np.empty_like(x)
    with dask.config.set(scheduler="threads"):
        floor = median_time(lambda: d.map_blocks(np.copy).compute(), 5, budget, min_repeat=3)
    rows = [("dask round trip (map_blocks(np.copy))", load, "-", "-", _fmt(floor), "", "",
             "(floor)", "")]
    for k in ks:
        w = rng.standard_normal((k, k)).astype(np.float32)
        with dask.config.set(scheduler="threads"):
            ours = median_time(lambda: fd.ndfilters.correlate(d, w).compute(), 5, budget,
                               min_repeat=3)
            peer = median_time(lambda: dask_image.ndfilters.correlate(d, w).compute(), 3,
                               budget, min_repeat=1)
            lazy = median_time(lambda: fd.correlate(d, w, "same",
                                                    boundary="symmetric").compute(),
                               5, budget, min_repeat=3)
            y = fd.correlate(d, w, "same", boundary="symmetric")
            stored = median_time(lambda: y.store(out, lock=False), 5, budget, min_repeat=3)
        mem = median_time(lambda: fftconv.correlate(x, w, "same", boundary="symmetric"), 5,
                          budget, min_repeat=3)
        method = fd.explain(d, w, "same", boundary="symmetric", operation="correlate").method
        target = {63: 30.0, 7: 1.0}.get(k)
        rows.append(("ndfilters vs dask-image", load, k, method, _fmt(ours), _fmt(peer),
                     f"{peer / ours:.1f}x faster", f">= {target:g}x" if target else "",
                     "" if target is None else ("yes" if peer / ours >= target else "NO")))
        rows.append(("fftconv.dask vs in-memory", load, k, method, _fmt(lazy), _fmt(mem),
                     f"{lazy / mem:.2f}x time", "<= 1.5x",
                     "yes" if lazy / mem <= 1.5 else "NO"))
        rows.append(("  same, store() into an array", load, k, method, _fmt(stored),
                     _fmt(mem), f"{stored / mem:.2f}x time", "<= 1.5x",
                     "yes" if stored / mem <= 1.5 else "NO"))
        if load == "idle":
            ratio = task_memory(d, w)
            rows.append(("task memory / (chunk+halo)", load, k, method, f"{ratio:.2f}x", "",
                         "", "<= 3x", "yes" if ratio <= 3 else "NO"))
    return rows


def cluster_rows(n: int, chunk: int, ks: list[int], budget: float) -> list[tuple]:
    from distributed import Client, LocalCluster

    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        rng = np.random.default_rng(1)
        x = da.random.default_rng(0).standard_normal((n, n), chunks=chunk,
                                                     dtype=np.float32).persist()
        client.wait_for_workers(2)
        xn = x.compute()
        for k in ks:
            w = rng.standard_normal((k, k)).astype(np.float32)
            y = fd.correlate(x, w, "same", boundary="symmetric")
            t = median_time(lambda: client.compute(y).result(), 3, budget, min_repeat=2)
            mem = median_time(lambda: fftconv.correlate(xn, w, "same", boundary="symmetric"),
                              3, budget, min_repeat=2)
            rows.append(("LocalCluster 2 procs vs in-memory", "idle", k, y.dtype.name,
                         _fmt(t), _fmt(mem), f"{t / mem:.2f}x time", "(reported)", ""))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="512x512 in 128x128 chunks, K = 7, 63 (not the issue's size)")
    ap.add_argument("--out", help="also write the markdown table to this file")
    ap.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster row")
    args = ap.parse_args()
    n, chunk = (512, 128) if args.quick else (4096, 1024)
    ks = [7, 63] if args.quick else [7, 15, 31, 63]
    budget = 1.0 if args.quick else 6.0
    rows = grid(n, chunk, ks, budget, "idle")
    with CompetingLoad():
        rows += grid(n, chunk, ks, budget, "1 competing process")
    if not args.no_cluster:
        rows += cluster_rows(n, chunk, ks, budget)
    head = ("case", "load", "K", "strategy", "fftconv", "peer", "ratio", "target", "met")
    lines = [f"{n}x{n} float32 in {chunk}x{chunk} chunks, threaded scheduler"
             + (" (--quick: smaller than the issue's 4096x4096 in 1024x1024)" if args.quick
                else ""), "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
