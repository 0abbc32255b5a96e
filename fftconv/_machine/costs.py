"""Machine constants of the cost model: kept as data, not literals.

The shipped defaults (``_data/costs.json``) apply until ``fftconv calibrate`` has stored
this machine's constants in the cache directory; they are loaded on first use.
"""

from __future__ import annotations

import json
import threading
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "CALIBRATION_FILE",
    "default_costs",
    "direct_rate",
    "fft_rate",
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

                costs = default_costs()
                measured = read_json(CALIBRATION_FILE)
                if measured is not None:
                    costs = _merge(costs, measured)
                    _source = str(cache_dir() / CALIBRATION_FILE)
                _costs = costs
    return _costs


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


def direct_rate(costs: dict[str, Any], dtype: np.dtype) -> float:
    """Seconds per multiply-add of the direct sum, single thread."""
    return costs["direct_per_mac"][np.dtype(dtype).name]


def fft_rate(costs: dict[str, Any], dtype: np.dtype, points: int | None = None) -> float:
    """Seconds per ``n log2 n`` unit of a transform of real-space dtype ``dtype``.

    With ``points``, the rate measured for transforms of about that many points
    (``fft_per_nlogn_by_size``, interpolated in ``log2(points)`` and clamped at the ends):
    small transforms fit in cache and cost less per point than large ones.
    """
    name = np.dtype(dtype).name
    table = costs.get("fft_per_nlogn_by_size", {}).get(name)
    if not table or points is None:
        return costs["fft_per_nlogn"][name]
    pts = sorted((float(np.log2(float(n))), r) for n, r in table.items())
    x = float(np.log2(max(points, 2)))
    if len(pts) >= 2 and x > pts[-1][0]:  # beyond the largest measured size: the rate
        (x0, r0), (x1, r1) = pts[-2], pts[-1]  # keeps growing (memory-bound passes)
        return r1 + max(r1 - r0, 0.0) / (x1 - x0) * (x - x1)
    return float(np.interp(x, [p for p, _ in pts], [r for _, r in pts]))
