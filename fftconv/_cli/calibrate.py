"""``fftconv calibrate``: measure this machine's cost constants and store them."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="measure this machine for the planner's cost model",
        description="Measure the direct sum, FFTW transforms, memory bandwidth, overheads and "
        "threading on this machine and store them (with FFTW wisdom) in the cache directory. "
        "Every later plan uses them.")
    p.add_argument("--quick", action="store_true", help="fewer sizes and repeats (under a minute)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._machine.calibration import calibrate

    costs, path = calibrate(quick=args.quick, progress=not args.no_progress and sys.stderr.isatty())
    print(f"calibration written to {path}" if path else
          "calibration not saved (the cache directory cannot be written); in force for this "
          "run only")
    for dtype, v in costs["direct_per_mac"].items():
        print(f"  direct sum   {dtype:10s} {v * 1e9:8.3f} ns per multiply-add")
    for dtype, table in costs["fft_per_nlogn_by_size"].items():
        by_size = ", ".join(f"{int(n)}: {v * 1e9:.3f}" for n, v in table.items())
        print(f"  FFT pair     {dtype:10s} ns per n log2 n by points: {by_size}")
    weights = ", ".join(f"{p}: {w:.2f}" for p, w in costs["prime_weight"].items())
    print(f"  radix cost   {weights} (relative to 2)")
    print(f"  memory       {1 / costs['memory_per_byte'] / 1e9:8.2f} GB/s")
    eff = ", ".join(f"{k} {v:.2f}" for k, v in costs["parallel_efficiency"].items())
    print(f"  threads      efficiency of each extra thread: {eff}")
    nn = costs.get("nn", {})
    if nn:
        rates = ", ".join(f"{d} {v * 1e12:.1f}" for d, v in nn["gemm_per_mac"].items())
        print(f"  nn BLAS      ps per multiply-add: {rates}")
        rates = ", ".join(f"{d} {v * 1e12:.1f}" for d, v in nn["kernel_per_mac"].items())
        print(f"  nn kernel    ps per multiply-add: {rates}; fixed "
              f"{nn['kernel_overhead'] * 1e6:.1f} us")
        rates = ", ".join(f"{d} {v * 1e12:.1f}" for d, v in nn["spectral_per_mac"].items())
        print(f"  nn spectral  ps per multiply-add: {rates}; im2col "
              f"{nn['im2col_per_element'] * 1e9:.2f} ns per element")
    return 0
