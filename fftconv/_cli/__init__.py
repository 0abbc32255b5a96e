"""The ``fftconv`` command line: one module per subcommand.

Each subcommand module defines ``register(subparsers)``, adding its parser with
``set_defaults(run=...)``; ``run(args)`` returns the exit status. Heavy imports happen
inside ``run`` so ``fftconv --help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("filter", "plan", "bench", "calibrate", "info")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="fftconv", description="Fast, unambiguous convolution: filter images, inspect "
        "the planner, measure where direct and FFT methods cross over.")
    parser.add_argument("--version", action="version", version=f"fftconv {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue  # a subcommand not written yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(run(args) or 0)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        # The library's messages already name the parameter, the value and the choices.
        command = next((a for a in (argv if argv is not None else sys.argv[1:])
                        if not a.startswith("-")), "")
        print(f"fftconv {command}: error: {exc}", file=sys.stderr)
        return 2
