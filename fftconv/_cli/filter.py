"""``fftconv filter IN OUT --kernel SPEC``: filter an image or ``.npy`` array with a kernel."""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Iterator
from typing import TextIO

from . import audio
from ._common import PRECISIONS, compute_precision, one_line, workers

__all__ = ["register", "run"]

PROG = "fftconv filter"
DTYPES = ("uint8", "uint16", "float32", "float64")
#: Report progress on a terminal when the planner expects the job to take this long.
PROGRESS_SECONDS = 1.0

DESCRIPTION = """\
Filter an image or array with a kernel, channel by channel, and write the result.

IN and OUT are PNG, JPEG, TIFF or .npy files (the format follows the extension). The
first axes of IN, as many as the kernel has, are filtered; any further axis holds
channels, each filtered alone. An alpha channel is kept, not filtered.

Two types are involved. --precision is what the sums are computed in: by default float32
for 8- and 16-bit images and float32 arrays (24 bits of mantissa: far finer than one
level of a 16-bit sample), float64 for everything else. --dtype is the sample type of
OUT; by default it follows the format: an image keeps IN's integer sample type (a float
result is rounded and clipped to its range, with a warning counting the clipped pixels),
TIFF keeps float32 grayscale, and .npy keeps the floating-point result. OUT is written
to a temporary file and renamed, so a failed run leaves no partial file.

exit status: 0 success, 2 invalid arguments or input (one line on stderr)"""

EPILOG = """\
kernel SPEC (parameters in order or as key=value; a per-axis value is written 31x15):
  gaussian:sigma=S[,truncate=T]   sampled Gaussian, as scipy.ndimage.gaussian_filter's
  box:N                           N x N mean
  disk:R                          anti-aliased disk of radius R (bokeh)
  motion:length=L,angle=DEG       anti-aliased line, DEG counter-clockwise from +x
  log:sigma=S[,truncate=T]        Laplacian of Gaussian
  FILE.npy | FILE.txt | FILE.csv  an array; text: one row per line
  FILE.png | .jpg | .tif          a grayscale image (use --normalize)

examples:
  fftconv filter photo.png blurred.png --kernel gaussian:sigma=20
  fftconv filter photo.png streaks.png --kernel motion:length=40,angle=30 --explain
  fftconv filter scan.tif edges.npy --kernel log:sigma=3 --precision float64
  fftconv filter song.wav hall.wav --kernel ir.wav --mode full   (WAV: docs/streaming.md)
  fftconv plan --shape 3000x4000x3 --kernel gaussian:sigma=20 --dtype uint8
                                  (what filter will run on a 3000x4000 RGB photograph)"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``filter`` subcommand."""
    from .._validate import BOUNDARIES, BOUNDARY_ALIASES, MODES
    from ..strategies import names

    p = subparsers.add_parser(
        "filter", help="filter an image or .npy array with a kernel", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="IN", help="PNG, JPEG, TIFF or .npy file")
    p.add_argument("output", metavar="OUT", help="PNG, JPEG, TIFF or .npy file to write")
    p.add_argument("-k", "--kernel", required=True, metavar="SPEC",
                   help="the kernel: a name with parameters or a file (forms below)")
    p.add_argument("--normalize", action="store_true", help="divide the kernel by its sum")
    p.add_argument("--correlate", action="store_true",
                   help="correlate (do not flip the kernel); default: convolve")
    p.add_argument("--mode", choices=MODES, default="same",
                   help="output size: input size plus K-1, the input's, or minus K-1 "
                   "(default: %(default)s)")
    p.add_argument("--boundary", choices=(*BOUNDARIES, *sorted(BOUNDARY_ALIASES)),
                   default="symmetric", metavar="RULE",
                   help="extension of the image beyond its edges, numpy.pad's names: "
                   "constant, edge, reflect, symmetric (c b a | a b c | c b a, scipy.ndimage's "
                   "'reflect'), wrap; default: %(default)s")
    p.add_argument("--cval", type=float, default=0.0,
                   help="the value outside the image for --boundary constant (default: 0)")
    p.add_argument("--method", choices=("auto", *names()), default="auto",
                   help="strategy; auto lets the planner choose (default: %(default)s)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="compute precision (default: float32 for 8- and 16-bit images and "
                   "float32 arrays, exact enough for them; float64 otherwise)")
    p.add_argument("--dtype", choices=DTYPES,
                   help="sample type of OUT (default: follows the format: an image keeps "
                   "IN's integer type, .npy keeps the floating-point result)")
    p.add_argument("--workers", type=workers, metavar="N",
                   help="threads; -1 all cores, -2 all but one (default: all cores)")
    p.add_argument("--explain", action="store_true",
                   help="print the planner's report before filtering")
    audio.add_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Filter ``args.input`` into ``args.output``; return the exit status.

    Warnings (clipped pixels, conversions) are printed as one line each; an invalid
    argument or input prints one error line and returns 2.
    """
    from .._errors import FFTConvWarning

    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FFTConvWarning)
        try:
            _filter(args)
        except (ValueError, TypeError, OSError, ImportError) as exc:
            error = exc
    for w in caught:
        print(f"{PROG}: warning: {w.message}", file=sys.stderr)
    if error is None:
        return 0
    print(f"{PROG}: error: {one_line(error, cli_names=True)}", file=sys.stderr)
    return 2


def progress(items: range, seconds: float, stream: TextIO | None = None,
             blocks: int = 0) -> Iterator[int]:
    """Yield ``items`` (channel indices), reporting progress if the job looks long.

    Quiet unless ``stream`` (default stderr) is a terminal and the planner expects
    ``seconds`` or more in all; uses tqdm if it is installed, else one line per channel.
    With ``blocks`` (overlap-save blocks per channel) and tqdm, the bar counts blocks, so
    one large channel shows progress too.
    """
    stream = sys.stderr if stream is None else stream
    if seconds < PROGRESS_SECONDS or not stream.isatty():
        yield from items
        return
    if blocks > 1:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            from .._machine.progress import reporting

            with tqdm(total=blocks * len(items), desc=PROG, unit="block", file=stream,
                      leave=False) as bar, reporting(bar.update):
                yield from items
            return
    try:
        from tqdm import tqdm
    except ImportError:
        for i in items:
            print(f"{PROG}: channel {i + 1} of {len(items)}", file=stream, flush=True)
            yield i
    else:
        yield from tqdm(items, desc=PROG, unit="channel", file=stream, leave=False)


def _filter(args: argparse.Namespace) -> None:
    import numpy as np

    import fftconv

    from .._errors import FFTConvWarning
    from ._imageio import file_format, read, storage_dtype, to_dtype, write
    from ._kernelspec import parse_kernel

    if audio.handles(args):
        return audio.filter_wav(args, PROG)
    out_format = file_format(args.output, "write")  # fail before any work
    kernel = parse_kernel(args.kernel, normalize=args.normalize)
    image = read(args.input)
    x = image.data
    if x.dtype.kind not in "iuf":
        raise TypeError(f"{args.input!r} holds {x.dtype} samples; expected integers or "
                        "real floating-point numbers")
    if x.size == 0:
        raise ValueError(f"{args.input!r} holds an empty array of shape {x.shape}; expected "
                         "at least one sample")
    if x.ndim < kernel.ndim:
        raise ValueError(f"{args.input!r} has shape {x.shape}, fewer dimensions than the "
                         f"kernel's shape {kernel.shape}")
    d = kernel.ndim
    channels = x.reshape(x.shape[:d] + (-1,))
    count = math.prod(x.shape[d:])  # the channels of each sample
    compute = np.dtype(compute_precision(x.dtype, args.precision))
    if args.dtype is not None:
        out_dtype = np.dtype(args.dtype)
    elif out_format == "NPY" or x.dtype.kind == "f":
        out_dtype = compute  # .npy (and float images where the format holds floats) keep floats
    else:
        out_dtype = x.dtype
    options = dict(boundary=args.boundary, cval=args.cval, workers=args.workers)
    make_plan = fftconv.plan_correlate if args.correlate else fftconv.plan_convolve
    plan = make_plan(x.shape[:d], kernel, args.mode, x_dtype=x.dtype, method=args.method,
                     dtype=compute, **options)
    out_shape = plan.out_shape + x.shape[d:]
    fallback = x.dtype if x.dtype.kind in "iu" else np.dtype(np.uint8)
    try:
        stored, note = storage_dtype(out_format, out_dtype, out_shape, fallback)
    except ValueError as exc:
        raise ValueError(f"cannot write {args.output!r}: {exc}") from None
    if args.explain:
        print(plan.report())
        if args.precision is None and compute == np.float32 and x.dtype.kind != "f":
            print(f"precision: float32, exact enough for {x.dtype} samples (--precision "
                  "float64 to change)")
        if count > 1:
            print(f"channels: {count - image.alpha} filtered one by one with this plan"
                  + (", alpha kept" if image.alpha else ""))
        sys.stdout.flush()

    # Channel by channel: only one channel is ever held in the computation's precision.
    result = np.empty(plan.out_shape + (count,), stored)
    clipped = np.zeros(plan.out_shape, bool)
    filtered = range(count - image.alpha)
    blocks = 0
    if plan.method == "overlap" and plan.block_shape:
        blocks = int(np.prod([-(-n // b) for n, b in zip(plan.out_shape, plan.block_shape)]))
    for c in progress(filtered, plan.estimated_seconds * len(filtered), blocks=blocks):
        result[..., c], bad = to_dtype(plan(channels[..., c]), stored)
        clipped |= bad
    if image.alpha:
        alpha = _carry_alpha(channels[..., -1].astype(compute), kernel.shape, args)
        result[..., -1], bad = to_dtype(alpha, stored)
        clipped |= bad
    if note:
        warnings.warn(note, FFTConvWarning, stacklevel=2)
    if clipped.any():
        info = np.iinfo(stored)
        hint = ""
        total = float(kernel.sum())
        if 2 * np.count_nonzero(clipped) > clipped.size and not args.normalize \
                and abs(total - 1) > 1e-6:
            hint = (f"; the kernel sums to {total:.6g}, not 1: pass --normalize to divide it "
                    "by its sum")
        warnings.warn(f"{np.count_nonzero(clipped)} of {clipped.size} pixels clipped to the "
                      f"{stored} range {info.min}..{info.max}{hint}", FFTConvWarning,
                      stacklevel=2)
    result = result.reshape(out_shape)
    write(args.output, result)


def _carry_alpha(alpha, kernel_shape: tuple[int, ...], args: argparse.Namespace):
    """The alpha channel, unfiltered, on the output's pixel grid.

    With ``--mode same`` that is the input's alpha. Otherwise output pixel ``i`` takes
    the alpha of the input pixel under the kernel's anchor, with the same boundary rule:
    the alpha is filtered with a unit impulse at the anchor.
    """
    import numpy as np

    import fftconv

    if args.mode == "same":
        return alpha
    impulse = np.zeros(kernel_shape)
    impulse[tuple(k // 2 if args.correlate else (k - 1) // 2 for k in kernel_shape)] = 1
    op = fftconv.correlate if args.correlate else fftconv.convolve
    return op(alpha, impulse, args.mode, boundary=args.boundary, cval=args.cval,
              method="direct")
