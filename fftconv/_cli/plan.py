"""``fftconv plan``: the planner's report for a job, as ``filter`` would run it."""

from __future__ import annotations

import argparse
import re

from ._common import PRECISIONS, UsageError, compute_precision, one_line, shape, workers

__all__ = ["register", "run"]

SAMPLE_TYPES = ("uint8", "uint16", "int16", "int32", "int64", "float32", "float64",
                "complex64", "complex128")
_SHAPE = re.compile(r"^\d+([x,]\d+)*$", re.IGNORECASE)

DESCRIPTION = """\
Print every candidate strategy with its estimated time, memory and the reason it was or
was not chosen: what `fftconv filter` would run on an image of this shape.

--kernel takes filter's kernel specs (gaussian:sigma=20, box:31, a .npy file, ...), whose
values the planner then knows (so the separable strategy shows when it applies), or just
a kernel shape (63x63, random values). Axes of --shape beyond the kernel's are channels,
filtered one by one, as filter does (3000x4000x3 is an RGB photograph); --axes names the
filtered axes instead. Integer sample types compute in --precision (default: float32 for
8- and 16-bit samples, exact enough for them, float64 otherwise), as filter does. With
--effort measure the best candidates are timed (and the decision remembered).

exit status: 0 success, 2 invalid arguments (one line on stderr)"""


def register(sub: argparse._SubParsersAction) -> None:
    from .._validate import BOUNDARIES, BOUNDARY_ALIASES, MODES
    from ..strategies import names

    p = sub.add_parser("plan", help="show the planner's report for a job",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", type=shape, required=True, metavar="NxM[xC]",
                   help="input shape, e.g. 2048x2048, or 3000x4000x3 with channels")
    p.add_argument("-k", "--kernel", required=True, metavar="SPEC|KxL",
                   help="a kernel spec as in filter (gaussian:sigma=20, box:31, FILE.npy) "
                   "or a kernel shape (63x63)")
    p.add_argument("--normalize", action="store_true", help="divide the kernel by its sum")
    p.add_argument("--axes", metavar="A,B",
                   help="the filtered axes of --shape (default: the first ones, as many as "
                   "the kernel has; further axes are channels)")
    p.add_argument("--dtype", default="float64", choices=SAMPLE_TYPES,
                   help="sample type of the input (default: %(default)s)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="compute precision for real input (default: float32 for 8- and "
                   "16-bit samples and float32, else float64)")
    p.add_argument("--correlate", action="store_true", help="correlate (no kernel flip)")
    p.add_argument("--mode", default="same", choices=MODES, help="default: %(default)s")
    p.add_argument("--boundary", default="symmetric", metavar="RULE",
                   choices=(*BOUNDARIES, *sorted(BOUNDARY_ALIASES)),
                   help="numpy.pad's names, as filter (default: %(default)s)")
    p.add_argument("--method", default="auto", choices=("auto", *names()))
    p.add_argument("--effort", default="estimate", choices=["estimate", "measure"])
    p.add_argument("--workers", type=workers, default=None, metavar="N",
                   help="threads; -1 all cores (default: all cores)")
    p.add_argument("--max-memory", type=int, default=None, metavar="BYTES",
                   help="scratch memory budget (default: half the available memory)")
    p.set_defaults(run=run)


def _kernel(args: argparse.Namespace):  # -> (kernel array or None, kernel shape)
    if _SHAPE.match(args.kernel.strip()):
        try:
            return None, shape(args.kernel.strip())
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--kernel: {exc}") from None
    from ._kernelspec import parse_kernel

    k = parse_kernel(args.kernel, normalize=args.normalize)
    return k, k.shape


def _axes(text: str | None, ndim: int, kdim: int) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        axes = tuple(int(a) for a in text.replace("x", ",").split(","))
    except ValueError:
        raise UsageError(f"--axes {text!r}: expected axis numbers joined by ',', e.g. 0,1") from None
    if len(axes) != kdim:
        raise UsageError(f"--axes {text!r} names {len(axes)} axes but the kernel has {kdim} "
                         "dimensions")
    return axes


def run(args: argparse.Namespace) -> int:
    import numpy as np

    import fftconv

    from ._common import FLOAT32_EXACT_ENOUGH

    kernel, kshape = _kernel(args)
    dims = "x".join(map(str, args.shape))
    if len(kshape) > len(args.shape):
        raise UsageError(f"--kernel {args.kernel!r} has {len(kshape)} dimensions but --shape "
                         f"{dims} has {len(args.shape)}")
    axes = _axes(args.axes, len(args.shape), len(kshape))
    precision = compute_precision(args.dtype, args.precision)
    complex_input = args.dtype.startswith("complex")
    options = {"mode": args.mode, "boundary": args.boundary, "method": args.method,
                   "workers": args.workers, "max_memory": args.max_memory,
                   "dtype": None if complex_input else precision}
    channels = 1
    x_shape = tuple(args.shape)
    if axes is None and len(kshape) < len(x_shape):  # channels, one plan each, as filter
        channels = int(np.prod(x_shape[len(kshape):]))
        x_shape = x_shape[:len(kshape)]
    elif axes is not None:
        options["axes"] = axes
    make = fftconv.plan_correlate if args.correlate else fftconv.plan_convolve
    try:
        if kernel is None and args.effort == "measure":
            kernel = np.random.default_rng(0).standard_normal(kshape)
        if kernel is None:
            report = fftconv.explain(x_shape, kshape, x_dtype=args.dtype,
                                     kernel_dtype=args.dtype if complex_input else "float64",
                                     operation="correlate" if args.correlate else "convolve",
                                     **options)
        else:
            report = make(x_shape, kernel, x_dtype=args.dtype, effort=args.effort,
                          **options).report()
    except (ValueError, TypeError) as exc:
        raise type(exc)(one_line(exc, cli_names=True)) from None
    print(report)
    if channels > 1:
        print(f"channels: {channels} filtered one by one with this plan")
    if args.precision is None and args.dtype in FLOAT32_EXACT_ENOUGH and args.dtype[0] in "iu":
        print(f"precision: float32, exact enough for {args.dtype} samples (--precision "
              "float64 to change)")
    return 0
