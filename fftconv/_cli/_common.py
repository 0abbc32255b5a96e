"""What the subcommands share: argument types, the parser class, errors, precision.

Every error of the command line is one line on stderr, ``fftconv CMD: error: ...``,
followed by a hint to ``--help``, and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

__all__ = [
    "PRECISIONS",
    "Parser",
    "UsageError",
    "compute_precision",
    "one_line",
    "positive_int",
    "shape",
    "workers",
]

#: The compute precisions of ``filter`` and ``plan`` (``--precision``).
PRECISIONS = ("float32", "float64")
#: Sample types float32 computes exactly enough: 24 mantissa bits hold every 8- and
#: 16-bit sample, and the rounding error of a weighted sum stays far below one level.
FLOAT32_EXACT_ENOUGH = ("bool", "uint8", "int8", "uint16", "int16", "float16", "float32")


class UsageError(Exception):
    """A command-line argument that is wrong in a way argparse cannot see."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and a hint, exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)

    def unrecognized(self, extras: list[str]) -> NoReturn:
        """Report arguments no parser took, naming the closest option this one has."""
        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        flags = [e for e in extras if e.startswith("-")]
        hint = ""
        if flags:
            close = difflib.get_close_matches(flags[0].split("=")[0], options, n=1)
            if close:
                hint = f"; did you mean {close[0]}?"
        self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")


def fail(prog: str, message: object) -> NoReturn:
    print(f"{prog}: error: {one_line(message)}", file=sys.stderr)
    print(f"Try '{prog} --help' for more information.", file=sys.stderr)
    raise SystemExit(2)


#: Python parameter names in library messages, as the command line spells them.
_CLI_NAMES = [
    (re.compile(r"(?<![-\w])x_shape="), "--shape "), (re.compile(r"(?<![-\w])kernel_shape="), "--kernel "),
    (re.compile(r"(?<![-\w])x_dtype="), "--dtype "), (re.compile(r"(?<![-\w])max_memory="), "--max-memory "),
    (re.compile(r"(?<![-\w])workers="), "--workers "), (re.compile(r"(?<![-\w])method="), "--method "),
    (re.compile(r"(?<![-\w])boundary="), "--boundary "), (re.compile(r"(?<![-\w])mode="), "--mode "),
    (re.compile(r"(?<![-\w])cval="), "--cval "), (re.compile(r"(?<![-\w])effort="), "--effort "),
    (re.compile(r"(?<![-\w])dtype="), "--precision "),
    (re.compile(r" \(pass axes= to convolve over some axes only\)"), ""),
    (re.compile(r"\(explain\(\) without a kernel\)"),
     "(--kernel gives only a shape; give a kernel spec or file)"),
    (re.compile(r"(?<![-\w])axes="), "--axes "),
]


def one_line(message: object, cli_names: bool = False) -> str:
    """``message`` on one line; with ``cli_names``, Python parameters as flags."""
    text = " ".join(str(message).split())
    if cli_names:
        for pattern, flag in _CLI_NAMES:
            text = pattern.sub(flag, text)
    return text


def shape(text: str) -> tuple[int, ...]:
    """``'2048x2048'`` or ``'128,128,3'`` -> ``(2048, 2048)``."""
    parts = text.replace(",", "x").lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not dims or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a shape; expected positive integers joined by 'x', e.g. 2048x2048")
    return dims


def positive_int(text: str) -> int:
    """A positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def workers(text: str) -> int:
    """A thread count as the Python API takes it: N >= 1, or -1, -2, ... from the cores."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a thread count; expected N >= 1, or -1 for all cores, -2 for "
            "all but one, ...")
    return value


def compute_precision(sample: DTypeLike, requested: str | None) -> str:
    """The precision ``filter`` computes in for samples of dtype ``sample``.

    ``requested`` (``--precision``) wins; by default 8- and 16-bit samples and float32
    compute in float32, exact enough for them, and everything else in float64.
    """
    import numpy as np

    if requested is not None:
        return requested
    return "float32" if np.dtype(sample).name in FLOAT32_EXACT_ENOUGH else "float64"
