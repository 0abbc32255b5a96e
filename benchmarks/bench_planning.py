"""What planning and handing work to threads cost, beside their peers, idle and busy.

Two figures a call pays outside its sums, each timed side by side with the nearest peer
in one run (interleaved, shuffled rounds: ``_timing.py``), idle and beside one
single-threaded busy process (started and stopped here):

- ``planning``: fftconv's planner pricing every strategy for a problem it has not seen
  (``fftconv.explain`` with the decision memo cleared before each call), against
  ``scipy.signal.choose_conv_method``, scipy's own choice between the direct sum and
  the FFT (its estimate, ``measure=False``), for the same arrays;
- ``dispatch``: one job of 8 pieces of about 0.1 ms each (a numpy product, which
  releases the GIL) through fftconv's ``parallel_map`` on 2 threads, against
  ``concurrent.futures.ThreadPoolExecutor(2).map`` and a plain loop on one thread.
  Beside a busy process ``parallel_map`` runs on the CPU left free (one thread, the loop
  without dispatch), which is the point of it.

Medians in microseconds and the ratios fftconv / peer.

    python benchmarks/bench_planning.py [--repeat 7] [--out results.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.signal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import publish
from _neighbours import neighbour
from _timing import interleaved

import fftconv
from fftconv._machine.threads import parallel_map
from fftconv._planner import clear_decisions

#: (image shape, kernel shape, dtype) of the planning problems.
PROBLEMS = (((512, 512), (7, 7), "float64"), ((1024, 1024), (63, 63), "float32"),
            ((2048, 2048), (127, 127), "float64"), ((1 << 20,), (255,), "float64"))
PIECES, PIECE_ELEMENTS = 8, 80_000


def planning(repeat: int) -> list[tuple[str, float, float]]:
    """(problem, fftconv's planning, scipy's choice) medians in seconds."""
    rows = []
    rng = np.random.default_rng(0)
    for shape, kshape, dtype in PROBLEMS:
        x = rng.standard_normal(shape).astype(dtype)
        k = rng.standard_normal(kshape).astype(dtype)

        def plan() -> object:
            clear_decisions()
            return fftconv.explain(shape, kshape, x_dtype=dtype, operation="correlate",
                                   mode="same")

        times = interleaved({"fftconv": plan,
                             "scipy": lambda: scipy.signal.choose_conv_method(x, k, "same")},
                            repeat, budget=1.0)
        label = f"{'x'.join(map(str, shape))} {dtype}, K={'x'.join(map(str, kshape))}"
        rows.append((label, statistics.median(times["fftconv"]),
                     statistics.median(times["scipy"])))
    return rows


def dispatch(repeat: int) -> dict[str, float]:
    """Medians in seconds of one job of :data:`PIECES` pieces, three ways."""
    a = np.random.default_rng(0).standard_normal((PIECES, PIECE_ELEMENTS))
    out = np.empty_like(a)

    def piece(i: int) -> None:
        np.multiply(a[i], a[i], out=out[i])
        np.sqrt(out[i], out=out[i])

    with ThreadPoolExecutor(2) as executor:
        times = interleaved({
            "parallel_map": lambda: parallel_map(piece, range(PIECES), 2),
            "ThreadPoolExecutor": lambda: list(executor.map(piece, range(PIECES))),
            "loop": lambda: [piece(i) for i in range(PIECES)],
        }, repeat, budget=1.0)
    return {name: statistics.median(v) for name, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", help="also write the Markdown to this file")
    args = ap.parse_args(argv)
    lines = ["| condition | planning | fftconv (us) | scipy choose_conv_method (us) "
             "| fftconv / scipy |", "|---|---|---|---|---|"]
    jobs = ["| condition | parallel_map, 2 threads (us) | ThreadPoolExecutor(2) (us) "
            "| loop, 1 thread (us) | parallel_map / executor |", "|---|---|---|---|---|"]
    for condition in ("idle", "busy"):
        with neighbour(condition):
            for label, ours, theirs in planning(args.repeat):
                lines.append(f"| {condition} | {label} | {ours * 1e6:.0f} | {theirs * 1e6:.0f}"
                             f" | {ours / theirs:.2f} |")
            t = dispatch(args.repeat)
            jobs.append(f"| {condition} | {t['parallel_map'] * 1e6:.0f} | "
                        f"{t['ThreadPoolExecutor'] * 1e6:.0f} | {t['loop'] * 1e6:.0f} | "
                        f"{t['parallel_map'] / t['ThreadPoolExecutor']:.2f} |")
    text = (f"fftconv {fftconv.__version__}\n\n" + "\n".join(lines)
            + f"\n\nOne job of {PIECES} pieces of {PIECE_ELEMENTS} elements:\n\n"
            + "\n".join(jobs))
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
