"""Machine constants of the cost model: kept as data, not literals.

The shipped defaults (``_data/costs.json``) apply until ``fftconv calibrate`` has stored
this machine's constants in the cache directory; they are loaded on first use.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "CALIBRATION_FILE",
    "default_costs",
    "direct_rate",
    "dtype_name",
    "fft_rate",
    "install",
    "machine_costs",
    "reload",
    "source",
    "threads_speedup",
]

CALIBRATION_FILE = "calibration.json"
_lock = threading.Lock()
_costs: dict[str, Any] | None = None
_source = "shipped defaults"


def default_costs() -> dict[str, Any]:
    """The shipped constants."""
    return json.loads(resources.files("fftconv").joinpath("_data/costs.json").read_text())


def _merge(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **value}
        elif key in base:
            out[key] = value
    return out


def machine_costs() -> dict[str, Any]:
    """The cost constants in force: this machine's calibration, else the shipped defaults."""
    global _costs, _source
    if _costs is None:
        with _lock:
            if _costs is None:
                from .cache import cache_dir, read_json
                from .schema import COSTS

                costs = default_costs()
                measured = read_json(CALIBRATION_FILE, COSTS)
                if measured is not None:
                    costs = _merge(costs, measured)
                    _source = str(cache_dir() / CALIBRATION_FILE)
                _costs = costs
    return _costs


def install(costs: dict[str, Any], where: str) -> None:
    """Use ``costs`` (merged over the shipped defaults) in this process, from ``where``."""
    global _costs, _source
    with _lock:
        _costs, _source = _merge(default_costs(), costs), where


def source() -> str:
    """Where the constants in force came from (a path, or 'shipped defaults')."""
    machine_costs()
    return _source


def reload() -> None:
    """Forget the loaded constants (after a calibration, or in tests)."""
    global _costs, _source
    with _lock:
        _costs, _source = None, "shipped defaults"


def threads_speedup(costs: dict[str, Any], kind: str, workers: int) -> float:
    """Effective speed-up of ``workers`` threads for a strategy kind."""
    eff = costs["parallel_efficiency"][kind]
    return 1.0 + (workers - 1) * eff


def dtype_name(dtype: np.dtype) -> str:
    """``dtype.name``, looked up in a table (numpy computes it in Python each time)."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = np.dtype(dtype).name
    return name


_NAMES: dict[np.dtype, str] = {}
#: Per dtype: the constants the entry was made from, the dtype's name, and
#: ``fft_per_nlogn_by_size`` sorted by ``log2(points)`` (empty where there is none), with
#: its last index.
_RATE_TABLES: dict[np.dtype, tuple[dict[str, Any], str, list[float], list[float], int]] = {}


def direct_rate(costs: dict[str, Any], dtype: np.dtype) -> float:
    """Seconds per multiply-add of the direct sum, single thread."""
    return costs["direct_per_mac"][dtype_name(dtype)]


def _rate_table(costs: dict[str, Any],
                dtype: np.dtype) -> tuple[dict[str, Any], str, list[float], list[float], int]:
    """The :data:`_RATE_TABLES` entry of ``dtype`` for ``costs`` (made once per constants
    dict: the planner prices a dozen transforms per problem)."""
    name = dtype_name(dtype)
    table = costs.get("fft_per_nlogn_by_size", {}).get(name)
    pts = sorted((math.log2(float(n)), float(r)) for n, r in table.items()) if table else []
    entry = _RATE_TABLES[dtype] = (costs, name, [p for p, _ in pts], [r for _, r in pts],
                                   len(pts) - 1)
    return entry


def fft_rate(costs: dict[str, Any], dtype: np.dtype, points: int | None = None) -> float:
    """Seconds per ``n log2 n`` unit of a transform of real-space dtype ``dtype``.

    With ``points``, the rate measured for transforms of about that many points
    (``fft_per_nlogn_by_size``, interpolated in ``log2(points)`` and clamped at the ends):
    small transforms fit in cache and cost less per point than large ones.
    """
    entry = _RATE_TABLES.get(dtype)
    if entry is None or entry[0] is not costs:
        entry = _rate_table(costs, dtype)
    _, name, xs, rs, last = entry
    if last < 0 or points is None:
        return costs["fft_per_nlogn"][name]
    x = math.log2(points if points > 2 else 2)  # (not max(): priced a dozen times a plan)
    if last and x > xs[last]:  # beyond the largest measured size: the rate keeps growing
        x0, r0, x1, r1 = xs[-2], rs[-2], xs[-1], rs[-1]  # (memory-bound passes)
        return r1 + max(r1 - r0, 0.0) / (x1 - x0) * (x - x1)
    i = bisect.bisect_left(xs, x)
    if i == 0:
        return rs[0]
    if i > last:
        return rs[-1]
    x0, x1 = xs[i - 1], xs[i]
    return rs[i - 1] + (rs[i] - rs[i - 1]) * (x - x0) / (x1 - x0)
