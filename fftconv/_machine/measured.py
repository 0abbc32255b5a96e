"""Decisions of ``effort='measure'``, kept in the cache directory for later processes.

A measured choice is keyed by a stable digest of the problem and the thread count (the
memory budget, which follows free memory, left out: a remembered choice the budget now
rejects is measured again). The file is merged and written atomically, so processes
measuring at once lose nothing.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from typing import Any

from .cache import read_json, write_json
from .schema import DECISIONS

__all__ = ["forget", "key", "recall", "remember"]

#: Measured decisions, by :func:`key`; loaded from the cache directory on first need.
_measured: dict[str, tuple[str, dict[str, float]]] | None = None
_lock = threading.Lock()
_FILE = "decisions.json"


def forget() -> None:
    """Drop the loaded copy (the file stays): the next :func:`recall` reads it again."""
    global _measured
    with _lock:
        _measured = None


def key(problem: Any, workers: int) -> str:
    """Stable across processes: a digest of the problem without its memory budget."""
    return hashlib.sha1(repr((replace(problem, max_memory=0), workers)).encode()).hexdigest()


def recall(stable: str) -> tuple[str, dict[str, float]] | None:
    """A measured decision from this process or an earlier one."""
    global _measured
    with _lock:
        if _measured is None:
            saved = read_json(_FILE, DECISIONS) or {}
            _measured = {k: (v[0], dict(v[1])) for k, v in saved.items()
                         if isinstance(v, list) and len(v) == 2}
        return _measured.get(stable)


def remember(stable: str, decision: tuple[str, dict[str, float]]) -> None:
    """Keep a decision in memory and in the cache directory (merged, written atomically)."""
    global _measured
    with _lock:
        if _measured is None:
            _measured = {}
        _measured[stable] = decision
        saved = read_json(_FILE, DECISIONS) or {}
        saved[stable] = [decision[0], decision[1]]
        write_json(_FILE, saved)  # a warning, not an error, when it cannot
