"""Where do the direct sum and the FFT cross over on this machine, for your sizes?

Times fftconv's strategies, its planner's choice, scipy.signal, scipy.ndimage and OpenCV on
square kernels of growing size, prints the table and the crossover kernel size per image
shape, and writes a log-log plot.

    python examples/crossover.py [--shapes 512x512 1024x1024] [--kernels 3 7 15 31 63]
                                 [--dtype float32] [--plot crossover.png]
"""

from __future__ import annotations

import argparse
import sys

from fftconv.benchmark import crossover, plot


def shape(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.lower().split("x"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", type=shape, nargs="+", default=[(512, 512), (1024, 1024)])
    parser.add_argument("--kernels", type=int, nargs="+", default=[3, 5, 7, 11, 15, 21, 31, 63])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plot", default="crossover.png", help="PNG to write ('' for none)")
    args = parser.parse_args(argv)

    result = crossover(args.shapes, args.kernels, dtype=args.dtype, repeat=args.repeat)
    print(result.table())
    for s, k in result.crossovers().items():
        where = "never, in this range" if k is None else f"from K = {k:.0f}"
        print(f"{'x'.join(map(str, s))}: an FFT strategy beats the direct sum {where}")
    if args.plot:
        plot(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
