"""``fftconv bench crossover``: measure where direct and FFT methods cross over."""

from __future__ import annotations

import argparse
import sys

from ._common import UsageError, positive_int, shape

__all__ = ["register"]

QUICK_SHAPES = [(256, 256), (512, 512)]
QUICK_KERNELS = [3, 5, 9, 17, 33]
DEFAULT_SHAPES = [(256, 256), (512, 512), (1024, 1024), (1000, 1500), (2048, 2048)]
DEFAULT_KERNELS = [3, 5, 7, 9, 11, 15, 21, 31, 45, 63, 95, 127]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks (crossover of direct and FFT methods)",
                       description="Benchmarks you can run on your own sizes.")
    bsub = p.add_subparsers(title="benchmarks", metavar="BENCHMARK")
    c = bsub.add_parser(
        "crossover", help="direct vs FFT timings across kernel sizes",
        description="Time every fftconv strategy, auto, scipy.signal.correlate (auto), "
        "scipy.ndimage.correlate and cv2.filter2D (when installed) on square kernels of "
        "growing size, for each image shape; print the table, the crossover kernel size per "
        "shape, auto's pick and its regret.")
    c.add_argument("--shapes", type=shape, nargs="+", metavar="NxM",
                   help="image shapes (default: 256x256 512x512 1024x1024 1000x1500 2048x2048)")
    c.add_argument("--kernels", type=positive_int, nargs="+", metavar="K",
                   help="kernel sizes (default: 3 5 7 9 11 15 21 31 45 63 95 127)")
    c.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    c.add_argument("--repeat", type=positive_int, default=5, help="runs per timing (median)")
    c.add_argument("--quick", action="store_true", help="small shapes and kernels (under a minute)")
    c.add_argument("--no-references", action="store_true",
                   help="time fftconv only (not scipy/OpenCV)")
    c.add_argument("--csv", metavar="FILE", help="write the timings as CSV")
    c.add_argument("--plot", metavar="FILE.png", help="write a log-log plot (needs matplotlib)")
    c.set_defaults(run=run_crossover)
    p.set_defaults(run=lambda args: (p.print_help(sys.stderr), 2)[1])


def run_crossover(args: argparse.Namespace) -> int:
    from ..benchmark import crossover, plot, write_csv

    if args.plot and not args.plot.lower().endswith(".png"):
        raise UsageError(f"--plot {args.plot!r}: expected a .png path")
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (only whether it imports)
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'fftconv[plot]'") from None
    shapes = args.shapes or (QUICK_SHAPES if args.quick else DEFAULT_SHAPES)
    kernels = args.kernels or (QUICK_KERNELS if args.quick else DEFAULT_KERNELS)
    repeat = min(args.repeat, 3) if args.quick else args.repeat
    result = crossover(shapes, kernels, dtype=args.dtype, repeat=repeat,
                       references=not args.no_references, budget=0.5 if args.quick else 2.0,
                       progress=sys.stderr.isatty())
    print(result.table())
    if args.csv:
        write_csv(result, args.csv)
        print(f"wrote {args.csv}")
    if args.plot:
        plot(result, args.plot)
        print(f"wrote {args.plot}")
    return 0
