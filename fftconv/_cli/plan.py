"""``fftconv plan``: the planner's report for given shapes."""

from __future__ import annotations

import argparse

from ._common import positive_int, shape

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    from .._validate import BOUNDARIES, MODES
    from ..strategies import names

    p = sub.add_parser(
        "plan", help="show the planner's report for given shapes",
        description="Print every candidate strategy with its estimated time, memory and the "
        "reason it was or was not chosen. With --effort measure the best candidates are timed "
        "on a random kernel of the given shape (and the decision remembered).")
    p.add_argument("--shape", type=shape, required=True, metavar="NxM",
                   help="input shape, e.g. 2048x2048")
    p.add_argument("--kernel", type=shape, required=True, metavar="KxL",
                   help="kernel shape, e.g. 63x63")
    p.add_argument("--dtype", default="float64",
                   choices=["float32", "float64", "complex64", "complex128", "int64"])
    p.add_argument("--mode", default="same", choices=MODES)
    p.add_argument("--boundary", default="constant", choices=BOUNDARIES)
    p.add_argument("--method", default="auto", choices=("auto", *names()))
    p.add_argument("--effort", default="estimate", choices=["estimate", "measure"])
    p.add_argument("--workers", type=positive_int, default=None)
    p.add_argument("--max-memory", type=positive_int, default=None, metavar="BYTES")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    import fftconv

    options = dict(mode=args.mode, boundary=args.boundary, method=args.method,
                   workers=args.workers, max_memory=args.max_memory)
    if len(args.kernel) != len(args.shape):
        raise SystemExit(f"fftconv plan: error: --kernel has {len(args.kernel)} dimensions "
                         f"but --shape has {len(args.shape)}")
    if args.effort == "measure":
        rng = np.random.default_rng(0)
        kernel = rng.standard_normal(args.kernel).astype(args.dtype)
        plan = fftconv.plan_convolve(args.shape, kernel, x_dtype=args.dtype, effort="measure",
                                     **options)
        print(plan.report())
    else:
        print(fftconv.explain(args.shape, args.kernel, x_dtype=args.dtype, **options))
    return 0
