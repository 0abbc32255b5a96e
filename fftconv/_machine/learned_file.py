"""The file of learned corrections: read what earlier processes saved, merge, write.

One JSON document in the cache directory (:mod:`.cache`: signature, atomic writes)::

    {"constants": "<digest of the constants in force>",
     "ratios": {"<subject>/<size class>": [log(measured / estimated), ...]}}

Ratios saved for other constants (another calibration) are not read; an entry that is
not a list of finite, plausible numbers is dropped, a malformed table warns naming the
file. Each key keeps its last ``window`` ratios, so the file stays small.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from typing import Any

from .._errors import FFTConvWarning
from .cache import cache_dir, read_json, write_json

__all__ = ["LEARNED_FILE", "digest", "merge", "read"]

LEARNED_FILE = "learned.json"
_digest_of: tuple[Any, str] | None = None  # (the constants dict, its digest)


def digest(costs: dict[str, Any]) -> str:
    """The digest of the constants ``costs`` that the file keeps ratios under, computed
    once per constants dict (asked on every plan)."""
    global _digest_of
    if _digest_of is None or _digest_of[0] is not costs:
        text = json.dumps(costs, sort_keys=True, default=str)
        _digest_of = (costs, hashlib.sha1(text.encode()).hexdigest()[:16])
    return _digest_of[1]


def _valid(ratios: object, window: int) -> list[float] | None:
    if not isinstance(ratios, list) or len(ratios) > 10 * window:
        return None
    if not all(isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r)
               and abs(r) < 50 for r in ratios):
        return None
    return [float(r) for r in ratios][-window:]


def read(digest: str, window: int) -> dict[str, list[float]]:
    """The ratios saved by earlier processes for the constants of ``digest`` (invalid
    entries: none)."""
    saved = read_json(LEARNED_FILE)
    if not isinstance(saved, dict) or saved.get("constants") != digest:
        return {}
    table = saved.get("ratios")
    if not isinstance(table, dict):
        warnings.warn(f"ignoring {cache_dir() / LEARNED_FILE}: malformed learned corrections",
                      FFTConvWarning, stacklevel=5)
        return {}
    out = {}
    for key, ratios in table.items():
        good = _valid(ratios, window)
        if isinstance(key, str) and good is not None:
            out[key] = good
    return out


def merge(digest: str, new: dict[str, list[float]], window: int) -> None:
    """Add ``new`` ratios to what the file holds for ``digest`` and write it atomically
    (:func:`~.cache.write_json` warns naming the file, never raises, when it cannot)."""
    merged = read(digest, window)
    for key, ratios in new.items():
        merged[key] = (merged.get(key, []) + ratios)[-window:]
    write_json(LEARNED_FILE, {"constants": digest, "ratios": merged})
