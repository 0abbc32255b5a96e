"""Python overhead of a first one-shot call: calls made and files visited (cProfile).

A first ``fftconv.convolve`` of a 512 x 512 float64 image with a new 7 x 7 kernel is
profiled after a warm-up call on other shapes (so imports and compiled code are ready,
but nothing about this problem is remembered). Reports the function calls cProfile
counts (Python functions and builtins), the calls to Python functions alone, the fftconv
files visited and the hops between fftconv files; then the same for a new kernel of the
same kind (the planner's decision is remembered) and for a repeated call (the call memo).

Targets (issue 10): at most 555 calls and at most 12 fftconv files for the first call.
Before the engine rework this script counted 2138 calls (930 to Python functions) in 19
fftconv files for the first call; docs/architecture.md has the figures since.

    python benchmarks/bench_calls.py [--quick] [--out results.md]

The figures are counts, not timings, but they depend on the machine's state: a CPU held by
other work makes the planner price one thread instead of two, and learned corrections
above 1 make it estimate a strategy a second time on one thread. So the script runs with
a cache directory of its own, empty (a new user's first call), unless
``FFTCONV_CACHE_DIR`` is set, and prints whether the machine read as loaded.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

import tempfile

import numpy as np

if "FFTCONV_CACHE_DIR" not in os.environ:  # no learned corrections from earlier runs
    os.environ["FFTCONV_CACHE_DIR"] = tempfile.mkdtemp(prefix="fftconv-bench-calls-")

import fftconv

PACKAGE = os.path.dirname(fftconv.__file__)
TARGET_CALLS = 555
TARGET_FILES = 12


def _forget() -> None:
    """Clear every cache fftconv keeps, where the library offers one function for it."""
    clear = getattr(fftconv, "_clear_caches", None)
    if clear is None:
        try:
            from fftconv._engine import clear_caches as clear
        except ImportError:
            clear = None
    if clear is not None:
        clear()


def profile(call, setup) -> dict[str, int]:
    """Calls (cProfile's total and Python-only), fftconv files and file-to-file hops.

    ``setup()`` runs before each of the two measured calls (hops are traced on the first,
    calls counted by cProfile on the second).
    """
    prof = cProfile.Profile()
    hops = {"n": 0, "last": None}

    def tracer(frame, event, arg):  # file-to-file hops inside the package
        if event == "call":
            f = frame.f_code.co_filename
            if f.startswith(PACKAGE):
                if hops["last"] is not None and hops["last"] != f:
                    hops["n"] += 1
                hops["last"] = f

    setup()
    sys.setprofile(tracer)
    try:
        call()
    finally:
        sys.setprofile(None)
    setup()
    prof.enable()
    call()
    prof.disable()
    stats = pstats.Stats(prof)
    total = python = 0
    files = set()
    for (filename, _line, _name), (_cc, nc, _tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += nc
        if filename != "~":
            python += nc
        if filename.startswith(PACKAGE):
            files.add(os.path.relpath(filename, PACKAGE))
    return {"calls": total, "python_calls": python, "files": len(files),
            "hops": hops["n"], "file_list": sorted(files)}  # type: ignore[dict-item]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same counts (they are cheap)")
    parser.add_argument("--out", help="also write the markdown table to this file")
    args = parser.parse_args(argv)
    from fftconv._machine import jit

    jit.import_numba()  # the steady state: compiled code loaded, not the numpy stand-in
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 512))
    fftconv.convolve(rng.standard_normal((96, 80)), rng.standard_normal((5, 3)))  # warm-up
    fftconv.convolve(rng.standard_normal((96, 80)), rng.standard_normal((7, 7)))

    kernels = iter(rng.standard_normal((7, 7)) for _ in range(4))
    k = rng.standard_normal((7, 7))
    repeat = lambda: fftconv.convolve(x, k)
    same_kind = iter(rng.standard_normal((7, 7)) for _ in range(4))
    rows = [("first call (new problem)", profile(lambda: fftconv.convolve(x, next(kernels)),
                                                 _forget)),
            ("new kernel, same problem (decision remembered)",
             profile(lambda: fftconv.convolve(x, next(same_kind)), lambda: None)),
            ("repeated call (same kernel)", profile(repeat, repeat))]
    lines = ["| call, 512x512 float64 with 7x7 | calls | Python calls | fftconv files | hops |",
             "|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['calls']} | {r['python_calls']} | {r['files']} | "
                     f"{r['hops']} |")
    table = "\n".join(lines)
    first_row = rows[0][1]
    def verdict(value: int, target: int) -> str:
        return f"{value} ({'met' if value <= target else 'MISSED'})"

    table += (f"\n\ntargets for the first call: <= {TARGET_CALLS} calls: "
              f"{verdict(first_row['calls'], TARGET_CALLS)} counting builtins, "
              f"{verdict(first_row['python_calls'], TARGET_CALLS)} Python functions; "
              f"<= {TARGET_FILES} fftconv files: {verdict(first_row['files'], TARGET_FILES)}"
              f"\nfiles visited by the first call: {', '.join(first_row['file_list'])}")
    from fftconv._machine import threads

    table += f"\nmachine read as loaded: {threads.loaded()}"
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
