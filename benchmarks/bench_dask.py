"""fftconv.dask against dask-image and against in-memory fftconv: medians and ratios.

    python benchmarks/bench_dask.py [--quick] [--dtype float32|float64] [--ks 7,63]
                                    [--out FILE] [--no-cluster] [--no-peer] [--no-busy]

Problem (issue 12): a 4096x4096 float32 image in 1024x1024 chunks, square kernels, the
threaded scheduler (``--dtype float64`` for doubles). ``--quick`` uses a 512x512 image in
128x128 chunks instead (dask-image needs minutes at K = 63 on the full size), so its ratios
only show that the script works.

Rows, each run idle and again next to one busy CPU-bound process (``benchmarks/
_neighbours.py``'s ``busy`` neighbour, started and stopped by the script):

- ``ndfilters``: ``fftconv.dask.ndfilters.correlate`` vs ``dask_image.ndfilters.correlate``
  (same call, mode 'reflect'); ``speed-up`` = dask-image / fftconv. Targets: >= 30x at
  K = 63, >= 1x (no slower) at K = 7. Up to K = 15 the two are timed alternately, call by
  call; at larger K dask-image takes minutes per call and is timed on its own.
- ``vs in-memory``: ``fftconv.dask.correlate`` (graph built and computed, chunks='auto')
  vs ``fftconv.correlate`` on the numpy array (mode 'same', boundary 'symmetric'); ratio =
  dask / in-memory. Target: <= 1.5x for every K. Timed as ``compute()`` (dask copies the
  result into a new array, even a single block) and as ``store()`` into a preallocated
  array; each dask row is timed alternately with its own in-memory calls, call by call,
  so a change of load hits both. Two more rows: the input's 1024² chunks given as
  ``chunks=`` (16 tasks reading halos from their neighbours, joined by ``compute()``),
  and the input's chunks in buffers of their own (``map_blocks(np.array)``, persisted;
  ``from_array``'s chunks are views of one array, which tasks read without a copy). The
  ``dask floor`` row is the least any dask computation of this array takes:
  ``compute()`` of the input itself (one copy of the array), over the in-memory time of
  each K.
- ``task memory``: peak bytes allocated by one interior task (tracemalloc) over its
  chunk-plus-halo bytes, for the chunking 'auto' picks and for the given 1024² chunks.
  Target: <= 3x.
- ``LocalCluster``: the same correlation on a ``dask.distributed.LocalCluster`` (2 worker
  processes, 1 thread each) against in-memory, the input made on the workers.

Timings are medians after a warm-up call (FFTW planning, numba compilation and the
per-process plan cache excluded).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import dask
import dask.array as da
import numpy as np

import fftconv
import fftconv.dask as fd
from fftconv.benchmark import median_time

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_neighbours.py
from _neighbours import neighbour


def paired(a: Callable[[], object], b: Callable[[], object], repeat: int,
           budget: float) -> tuple[float, float]:
    """Medians of ``a()`` and ``b()`` timed alternately (after one warm-up call of each)."""
    a(), b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        if len(ta) >= 3 and sum(ta) + sum(tb) > budget:
            break
    return statistics.median(ta), statistics.median(tb)


def _fmt(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def task_memory(d: da.Array, w: np.ndarray, chunks: object = "auto") -> float:
    """Peak allocation of one interior task over its chunk-plus-halo bytes."""
    from fftconv.dask._api import build
    from fftconv.dask._tasks import compute_block

    problem, report, job, xa, k, specs = build(
        d, w, flip=False, conjugate=True, mode="same", axes=None, boundary="symmetric",
        cval=0, anchor=None, method="auto", effort="estimate", workers=None, dtype=None,
        nan_policy="propagate", max_memory=None, chunks=chunks)
    idx = tuple(n // 2 for n in (len(c) for c in report.out_chunks))
    spec = specs[idx]
    chunks = [np.ascontiguousarray(xa.blocks[dep].compute()) for dep in spec.deps]
    compute_block(job, spec, k, chunks)  # warm: plan built, FFTW planned
    tracemalloc.start()
    compute_block(job, spec, k, chunks)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / (math.prod(spec.shape) * np.dtype(job.block_dtype).itemsize)


def grid(n: int, chunk: int, ks: list[int], dtype: str, budget: float, load: str,
         peer: bool) -> list[tuple]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n)).astype(dtype)
    d = da.from_array(x, chunks=chunk)  # its chunks are views of one copy of x
    out = np.empty_like(x)
    rows: list[tuple] = []
    with dask.config.set(scheduler="threads"):
        floor = median_time(lambda: d.compute(), 7, budget, min_repeat=3)
        own = d.map_blocks(np.array, dtype=d.dtype).persist()  # chunks in buffers of their own
    for k in ks:
        w = rng.standard_normal((k, k)).astype(dtype)

        def mem() -> object:
            return fftconv.correlate(x, w, "same", boundary="symmetric")

        def lazy() -> object:
            return fd.correlate(d, w, "same", boundary="symmetric").compute()

        def stored() -> object:
            return fd.correlate(d, w, "same", boundary="symmetric").store(out, lock=False)

        def tiled() -> object:  # the input's 1024² chunks kept: halo tasks, joined after
            return fd.correlate(d, w, "same", boundary="symmetric", chunks=chunk).compute()

        def separate() -> object:
            return fd.correlate(own, w, "same", boundary="symmetric").compute()

        with dask.config.set(scheduler="threads"):
            ours = median_time(lambda: fd.ndfilters.correlate(d, w).compute(), 5, budget,
                               min_repeat=3)
            t_lazy, t_mem = paired(lazy, mem, 9, 2 * budget)
            t_store, t_mem2 = paired(stored, mem, 9, 2 * budget)
            t_tiled, t_mem3 = paired(tiled, mem, 9, 2 * budget)
            t_sep, t_mem4 = paired(separate, mem, 9, 2 * budget)
            if peer:
                import dask_image.ndfilters

                def peer_call() -> object:
                    return dask_image.ndfilters.correlate(d, w).compute()

                if k <= 15:  # seconds per call: timed alternately with ours, as above
                    ours, theirs = paired(lambda: fd.ndfilters.correlate(d, w).compute(),
                                          peer_call, 5, 2 * budget)
                else:  # minutes per call at K = 63: its own median
                    theirs = median_time(peer_call, 3, budget, min_repeat=1)
        report = fd.explain(d, w, "same", boundary="symmetric", operation="correlate")
        method = f"{report.method}, {report.tasks} tasks"
        target = {63: 30.0, 7: 1.0}.get(k)
        if peer:
            rows.append(("ndfilters vs dask-image", load, k, method, _fmt(ours),
                         _fmt(theirs), f"{theirs / ours:.1f}x faster",
                         f">= {target:g}x" if target else "",
                         "" if target is None else ("yes" if theirs / ours >= target
                                                    else "NO")))
        rows.append(("fftconv.dask vs in-memory, compute()", load, k, method, _fmt(t_lazy),
                     _fmt(t_mem), f"{t_lazy / t_mem:.2f}x time", "<= 1.5x",
                     "yes" if t_lazy / t_mem <= 1.5 else "NO"))
        rows.append(("  same, store() into an array", load, k, method, _fmt(t_store),
                     _fmt(t_mem2), f"{t_store / t_mem2:.2f}x time", "<= 1.5x",
                     "yes" if t_store / t_mem2 <= 1.5 else "NO"))
        tiles = fd.explain(d, w, "same", boundary="symmetric", operation="correlate",
                           chunks=chunk)
        rows.append((f"  same, chunks={chunk} given (halo tasks)", load, k,
                     f"{tiles.method}, {tiles.tasks} tasks", _fmt(t_tiled), _fmt(t_mem3),
                     f"{t_tiled / t_mem3:.2f}x time", "(reported)", ""))
        theirs_own = fd.explain(own, w, "same", boundary="symmetric", operation="correlate")
        rows.append(("  same, input chunks in buffers of their own", load, k,
                     f"{theirs_own.method}, {theirs_own.tasks} tasks",
                     _fmt(t_sep), _fmt(t_mem4), f"{t_sep / t_mem4:.2f}x time", "(reported)",
                     ""))
        rows.append(("  dask floor: compute() of the input", load, k, "-", _fmt(floor),
                     _fmt(t_mem), f"{(floor + t_mem) / t_mem:.2f}x time (floor + in-memory)",
                     "(floor)", ""))
        if load == "idle":
            for label, how, spec in ((method, "auto", "auto"),
                                     (f"{tiles.method}, {tiles.tasks} tasks", chunk, "given")):
                ratio = task_memory(d, w, how)
                rows.append((f"task memory / (chunk+halo), chunks {spec}", load, k, label,
                             f"{ratio:.2f}x", "", "", "<= 3x", "yes" if ratio <= 3 else "NO"))
    return rows


def cluster_rows(n: int, chunk: int, ks: list[int], dtype: str,
                 budget: float) -> list[tuple]:
    from distributed import Client, LocalCluster

    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        rng = np.random.default_rng(1)
        x = da.random.default_rng(0).standard_normal((n, n), chunks=chunk,
                                                     dtype=dtype).persist()
        client.wait_for_workers(2)
        xn = x.compute()
        for k in ks:
            w = rng.standard_normal((k, k)).astype(dtype)
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
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--ks", help="comma-separated kernel sizes (default 7,15,31,63; "
                    "--quick: 7,63)")
    ap.add_argument("--out", help="also write the markdown table to this file")
    ap.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster row")
    ap.add_argument("--no-peer", action="store_true", help="skip dask-image (slow at K=63)")
    ap.add_argument("--no-busy", action="store_true",
                    help="skip the pass next to a busy neighbour (idle rows only)")
    args = ap.parse_args()
    n, chunk = (512, 128) if args.quick else (4096, 1024)
    ks = [int(v) for v in args.ks.split(",")] if args.ks else \
        ([7, 63] if args.quick else [7, 15, 31, 63])
    budget = 1.0 if args.quick else 6.0
    load_before = os.getloadavg()[0]
    rows = []
    for load in ("idle",) if args.no_busy else ("idle", "busy"):
        with neighbour(load):
            rows += grid(n, chunk, ks, args.dtype, budget,
                         "idle" if load == "idle" else "1 busy neighbour", not args.no_peer)
    if not args.no_cluster:
        rows += cluster_rows(n, chunk, ks, args.dtype, budget)
    head = ("case", "load", "K", "strategy", "fftconv", "peer", "ratio", "target", "met")
    lines = [f"{n}x{n} {args.dtype} in {chunk}x{chunk} chunks, threaded scheduler, "
             f"{len(os.sched_getaffinity(0))} cores; 1-min load average "
             f"{load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after"
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
