"""The ``fftconv`` command line: one module per subcommand.

Each subcommand module defines ``register(subparsers)``, adding its parser with
``set_defaults(run=...)``; ``run(args)`` returns the exit status. Heavy imports happen
inside ``run`` so ``fftconv --help`` is quick. Every error is one line and a hint to
``--help`` on stderr, with exit status 2 (see :mod:`._common`).
"""

from __future__ import annotations

import importlib
import sys

from ._common import Parser, UsageError, fail

__all__ = ["build_parser", "main"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("filter", "plan", "bench", "calibrate", "info")
#: What a subcommand may raise for bad input; each becomes one error line and status 2.
INPUT_ERRORS = (UsageError, ValueError, TypeError, OverflowError, OSError, ImportError,
                MemoryError)


def build_parser() -> Parser:
    """The argument parser with every available subcommand."""
    from .. import __version__

    parser = Parser(
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
    _remember_parsers(parser)
    return parser


def _remember_parsers(parser: Parser) -> None:
    """Give every (sub)parser's namespace a ``_parser`` default naming that parser."""
    parser.set_defaults(_parser=parser)
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for child in getattr(action, "choices", {}).values():
            _remember_parsers(child)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    command: Parser = getattr(args, "_parser", parser)
    if extras:  # reported by the subcommand that was given them, with its options
        command.unrecognized(extras)
    run = getattr(args, "run", None)
    if run is None:
        command.print_help(sys.stderr)
        return 2
    try:
        return int(run(args) or 0)
    except INPUT_ERRORS as exc:
        # The library's messages already name the parameter, the value and the choices.
        try:
            fail(command.prog, exc)
        except SystemExit as stop:
            return int(stop.code or 2)
