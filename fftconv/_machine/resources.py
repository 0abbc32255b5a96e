"""Memory the planner may use: ``max_memory`` and its default."""

from __future__ import annotations

import functools
import os

import numpy as np

__all__ = ["available_memory", "default_budget", "resolve_max_memory"]

#: The budget of ``max_memory=float('inf')`` (and of any larger value): no limit.
UNLIMITED = 1 << 62
#: Fraction of the available memory a plan may use for scratch by default.
DEFAULT_FRACTION = 0.5


def available_memory() -> int:
    """Bytes of memory available to new allocations (``MemAvailable`` on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 << 30


@functools.cache
def default_budget() -> int:
    """Half the available memory, rounded down to 64 MiB.

    Read once per process (``default_budget.cache_clear()`` reads it again): a problem
    holds its budget, and remembered decisions must not be lost whenever free memory
    moves.
    """
    return max(int(available_memory() * DEFAULT_FRACTION) >> 26 << 26, 64 << 20)


def resolve_max_memory(max_memory: object) -> int:
    """Validate ``max_memory`` (bytes, or None for the default budget)."""
    if max_memory is None:
        return default_budget()
    number = (int, float, np.integer, np.floating)
    if isinstance(max_memory, (bool, np.bool_)) or not isinstance(max_memory, number) or \
            not max_memory > 0:  # also refuses NaN
        raise ValueError(f"max_memory={max_memory!r} is invalid; expected a positive number "
                         "of bytes (inf: no limit), or None for half the available memory")
    return UNLIMITED if max_memory >= UNLIMITED else int(max_memory)
