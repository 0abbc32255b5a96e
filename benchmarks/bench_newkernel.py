"""Calls that bring something new each time: exact integer FFTs and new kernels.

Two loops where work outside the sums decides the speed, timed side by side with their
peers in one run (interleaved, shuffled rounds: ``_timing.py``), idle and beside one
single-threaded busy process (started and stopped here):

- ``integer``: a uint8 image (1024²) with a small-integer kernel, exact. fftconv's
  one-shot ``correlate`` (auto) and its ``method='fft'`` plan, which bounds the FFT's
  rounding by the input's norm on every call; ``scipy.ndimage.correlate`` on int64
  (exact); ``scipy.signal.fftconvolve`` in float64, rounded (exact only where the
  rounding allows, which it does not check);
- ``new kernel``: each call a new float32 kernel on the same 1024² float32 image (a
  filter bank), so the kernel's facts (finite, non-zero taps, separable rank) and
  spectrum are made on every call; fftconv's one-shot ``correlate`` against
  ``scipy.signal.fftconvolve`` and ``oaconvolve``, each timed over 8 new kernels back to
  back (per call), since a tight loop is where a plan rebuilt per kernel showed;
- ``filter bank``: the same loop alone in a fresh process (nothing between the calls),
  float32 and float64, K = 63 and 127, with its page faults per call, then
  ``fftconvolve``'s loop in the same process.

Medians in milliseconds, and fftconv / the fastest peer.

    python benchmarks/bench_newkernel.py [--repeat 7] [--out results.md]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import numpy as np
import scipy.ndimage
import scipy.signal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import publish
from _neighbours import neighbour
from _timing import interleaved

import fftconv

N = 1024
INTEGER_KERNELS = (15, 31, 63)
NEW_KERNELS = (31, 63, 127)
BANK = 8  # new kernels per timed sample, back to back


def integer(k: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (N, N)).astype(np.uint8)
    kern = rng.integers(0, 3, (k, k)).astype(np.uint8)
    plan = fftconv.plan_correlate(x.shape, kern, "same", x_dtype=x.dtype, method="fft")
    xi, ki = x.astype(np.int64), kern.astype(np.int64)
    flipped = kern[::-1, ::-1].astype(np.float64)
    fns = {
        "fftconv auto": lambda: fftconv.correlate(x, kern, "same"),
        "fftconv fft plan": lambda: plan(x),
        "ndimage int64": lambda: scipy.ndimage.correlate(xi, ki, mode="constant"),
        "fftconvolve+rint": lambda: np.rint(scipy.signal.fftconvolve(
            x.astype(np.float64), flipped, "same")).astype(np.int64),
    }
    want = fns["ndimage int64"]()
    for name, fn in fns.items():  # the same numbers, or the comparison means nothing
        assert np.array_equal(np.asarray(fn(), dtype=np.int64), want), name
    times = interleaved(fns, repeat, budget=6.0)
    return {name: statistics.median(v) for name, v in times.items()}


def new_kernel(k: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, N)).astype(np.float32)
    bank = itertools.cycle([rng.standard_normal((k, k)).astype(np.float32) for _ in range(64)])

    def fresh() -> np.ndarray:  # a copy: a kernel seen before would hit the call memo
        return next(bank).copy() * np.float32(1 + rng.random())

    def in_a_row(fn):  # BANK new kernels back to back, as a filter bank runs them
        return lambda: [fn() for _ in range(BANK)]

    fns = {
        "fftconv one-shot": in_a_row(lambda: fftconv.correlate(x, fresh(), "same")),
        "fftconvolve": in_a_row(lambda: scipy.signal.fftconvolve(x, fresh()[::-1, ::-1], "same")),
        "oaconvolve": in_a_row(lambda: scipy.signal.oaconvolve(x, fresh()[::-1, ::-1], "same")),
    }
    times = interleaved(fns, repeat, budget=12.0)
    return {name: statistics.median(v) / BANK for name, v in times.items()}


#: A filter bank in a process of its own: new kernels back to back, nothing between them
#: (the heap as such a loop leaves it), then the same loop with ``fftconvolve``.
_BANK_SCRIPT = """
import resource, statistics, sys, time
import numpy as np, scipy.signal
import fftconv
from fftconv._machine import jit
jit.import_numba()
k, dtype = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
x = rng.standard_normal((%d, %d)).astype(dtype)
bank = [rng.standard_normal((k, k)).astype(dtype) for _ in range(40)]
fftconv.correlate(x, bank[0], "same"); fftconv.correlate(x, bank[1], "same")
def loop(fn):
    times, f0 = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for kern in bank[2:]:
        t0 = time.perf_counter(); fn(kern); times.append(time.perf_counter() - t0)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / len(times)
    return statistics.median(times), faults
ours, faults = loop(lambda kern: fftconv.correlate(x, kern, "same"))
theirs, _ = loop(lambda kern: scipy.signal.fftconvolve(x, kern[::-1, ::-1], "same"))
print(ours, faults, theirs)
""" % (N, N)
BANK_CASES = (("float32", 63), ("float32", 127), ("float64", 63), ("float64", 127))
BANK_PROCESSES = 3


def filter_bank(dtype: str, k: int) -> tuple[float, float, float]:
    """Medians over fresh processes: fftconv per call, its page faults per call, and
    ``fftconvolve`` per call."""
    import subprocess

    runs = [tuple(map(float, subprocess.run(
        [sys.executable, "-c", _BANK_SCRIPT, str(k), dtype], check=True, capture_output=True,
        text=True).stdout.split())) for _ in range(BANK_PROCESSES)]
    return tuple(statistics.median(r[i] for r in runs) for i in range(3))  # type: ignore[return-value]


def _row(condition: str, label: str, t: dict[str, float], ours: tuple[str, ...]) -> str:
    peers = {n: v for n, v in t.items() if n not in ours}
    best = min(peers.values())
    cells = "; ".join(f"{n} {v * 1e3:.2f}" for n, v in t.items())
    ratios = ", ".join(f"{t[o] / best:.2f}" for o in ours)
    return f"| {condition} | {label} | {cells} | {ratios} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", help="also write the Markdown to this file")
    args = ap.parse_args(argv)
    lines = ["| condition | case | medians (ms) | fftconv / fastest peer |", "|---|---|---|---|"]
    for condition in ("idle", "busy"):
        with neighbour(condition):
            for k in INTEGER_KERNELS:
                lines.append(_row(condition, f"uint8 {N}², K={k}, exact", integer(k, args.repeat),
                                  ("fftconv auto", "fftconv fft plan")))
                print(lines[-1], file=sys.stderr)
            for k in NEW_KERNELS:
                lines.append(_row(condition, f"float32 {N}², new {k}² kernel each call",
                                  new_kernel(k, args.repeat), ("fftconv one-shot",)))
                print(lines[-1], file=sys.stderr)
    bank = [f"A filter bank in a fresh process ({BANK_PROCESSES} processes, medians): "
            f"{N}², 38 new kernels back to back", "",
            "| condition | kernel | fftconv (ms) | page faults per call | fftconvolve (ms) "
            "| fftconv / fftconvolve |", "|---|---|---|---|---|---|"]
    for condition in ("idle", "busy"):
        with neighbour(condition):
            for dtype, k in BANK_CASES:
                ours, faults, theirs = filter_bank(dtype, k)
                bank.append(f"| {condition} | {dtype} {k}² | {ours * 1e3:.2f} | {faults:.0f} "
                            f"| {theirs * 1e3:.2f} | {ours / theirs:.2f} |")
                print(bank[-1], file=sys.stderr)
    text = (f"fftconv {fftconv.__version__}\n\n" + "\n".join(lines) + "\n\n"
            + "\n".join(bank))
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
