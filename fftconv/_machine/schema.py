"""The shapes of the cache files' payloads, checked on read.

A cache file is written by this library, but read back from a disk anyone can edit: a
payload of the wrong shape (a list where a table belongs, ``null`` or NaN constants, a
negative time) is refused here with the place it goes wrong, so the caller can ignore the
file instead of failing later. A schema is a tree of the small classes below; checking
walks the schema, not the value, so a value nested deeper than its schema is refused
without recursing into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COSTS",
    "DECISIONS",
    "WISDOM",
    "Int",
    "Invalid",
    "ListOf",
    "MapOf",
    "Num",
    "Pair",
    "Record",
    "Str",
    "check",
]


class Invalid(ValueError):
    """A payload that does not match its schema (the message says where and why)."""


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True)
class Num:
    """A finite real number in ``[lo, hi]`` (``strict``: ``lo`` excluded); never a bool."""

    lo: float = 0.0
    hi: float = math.inf
    strict: bool = False

    def check(self, value: object, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"{where} is {_kind(value)}; expected a number")
        v = float(value)
        if not math.isfinite(v) or v > self.hi or v < self.lo or (self.strict and v == self.lo):
            op = ">" if self.strict else ">="
            raise Invalid(f"{where} is {v!r}; expected a finite number {op} {self.lo:g}"
                          + (f" and <= {self.hi:g}" if math.isfinite(self.hi) else ""))


@dataclass(frozen=True)
class Int:
    """An integer in ``[lo, hi]`` (never a bool)."""

    lo: int = 0
    hi: int = 1 << 62

    def check(self, value: object, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"{where} is {_kind(value)}; expected an integer")
        if not self.lo <= value <= self.hi:
            raise Invalid(f"{where} is {value}; expected an integer in [{self.lo}, {self.hi}]")


@dataclass(frozen=True)
class Str:
    """A string of at most ``max_len`` characters."""

    max_len: int = 1 << 24

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, str):
            raise Invalid(f"{where} is {_kind(value)}; expected a string")
        if len(value) > self.max_len:
            raise Invalid(f"{where} has {len(value)} characters; expected at most {self.max_len}")


@dataclass(frozen=True)
class MapOf:
    """A JSON object with any string keys (``keys``: a schema for the key text, e.g. an
    :class:`Int` for keys that must spell integers) and values of one schema."""

    value: Any
    keys: Any = None
    max_len: int = 1 << 20

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"{where} is {_kind(value)}; expected an object")
        if len(value) > self.max_len:
            raise Invalid(f"{where} has {len(value)} entries; expected at most {self.max_len}")
        for k, v in value.items():
            if self.keys is not None:
                try:
                    parsed = int(k)
                except ValueError:
                    raise Invalid(f"{where} has the key {k[:40]!r}; expected an integer") from None
                self.keys.check(parsed, f"{where} key {k!r}")
            self.value.check(v, f"{where}[{k[:40]!r}]")


@dataclass(frozen=True)
class Record:
    """A JSON object with named fields (``required`` ones must be present); other keys
    are allowed and left to the reader to ignore."""

    fields: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"{where} is {_kind(value)}; expected an object")
        for name in self.required:
            if name not in value:
                raise Invalid(f"{where} has no {name!r}")
        for name, schema in self.fields.items():
            if name in value:
                schema.check(value[name], f"{where}[{name!r}]")


@dataclass(frozen=True)
class ListOf:
    """A JSON array of at most ``max_len`` items of one schema."""

    item: Any
    max_len: int = 1 << 20

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, list):
            raise Invalid(f"{where} is {_kind(value)}; expected an array")
        if len(value) > self.max_len:
            raise Invalid(f"{where} has {len(value)} items; expected at most {self.max_len}")
        for i, v in enumerate(value):
            self.item.check(v, f"{where}[{i}]")


@dataclass(frozen=True)
class Pair:
    """A JSON array of exactly two items, of schemas ``first`` and ``second``."""

    first: Any
    second: Any

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, list) or len(value) != 2:
            raise Invalid(f"{where} is {_kind(value)}; expected an array of two items")
        self.first.check(value[0], f"{where}[0]")
        self.second.check(value[1], f"{where}[1]")


def check(value: object, schema: Any, where: str = "payload") -> None:
    """Raise :class:`Invalid` unless ``value`` matches ``schema``."""
    schema.check(value, where)


# ----------------------------------------------------------------- the files' schemas
_RATE = Num(0.0, 1.0, strict=True)          # seconds per unit of work: positive, small
_RATES = MapOf(_RATE, max_len=64)

#: ``calibration.json``: any subset of the shipped ``_data/costs.json`` tables.
COSTS = Record({
    "about": Str(10_000),
    "direct_per_mac": _RATES,
    "fft_per_nlogn": _RATES,
    "fft_per_nlogn_by_size": MapOf(MapOf(_RATE, keys=Int(1, 1 << 62), max_len=256), max_len=64),
    "prime_weight": MapOf(Num(0.0, 1e3, strict=True), max_len=64),
    "memory_per_byte": _RATE,
    "overhead": MapOf(Num(0.0, 10.0), max_len=64),
    "parallel_efficiency": MapOf(Num(0.0, 1.0), max_len=64),
    "fft_threads_min_size": Int(1, 1 << 62),
    "nn": Record({
        "gemm_per_mac": _RATES, "im2col_per_element": _RATE, "kernel_overhead": Num(0.0, 10.0),
        "kernel_pass_positions": Int(1, 1 << 30), "kernel_per_mac": _RATES,
        "kernel_single_factor": Num(0.0, 1e3, strict=True), "spectral_per_mac": _RATES,
    }),
})

#: ``fftw_wisdom.json``: FFTW's exported wisdom, one base64 string per precision.
WISDOM = Record({"wisdom": ListOf(Str(), max_len=8)}, required=("wisdom",))

#: ``decisions.json``: problem key -> [chosen strategy, {strategy: measured seconds}].
DECISIONS = MapOf(Pair(Str(64), MapOf(Num(0.0, 1e6), max_len=64)))
