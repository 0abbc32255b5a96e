"""Argument types shared by the subcommands (argparse-style errors name the expected form)."""

from __future__ import annotations

import argparse

__all__ = ["shape", "positive_int"]


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
