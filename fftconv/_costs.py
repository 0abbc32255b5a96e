"""Machine constants of the cost model: kept as data (``_data/costs.json``), not literals."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["machine_costs", "threads_speedup", "direct_rate", "fft_rate"]


@lru_cache(maxsize=1)
def machine_costs() -> dict[str, Any]:
    """The cost constants in force (the shipped defaults until calibration exists)."""
    text = resources.files("fftconv").joinpath("_data/costs.json").read_text()
    return json.loads(text)


def threads_speedup(costs: dict[str, Any], kind: str, workers: int) -> float:
    """Effective speed-up of ``workers`` threads for a strategy kind."""
    eff = costs["parallel_efficiency"][kind]
    return 1.0 + (workers - 1) * eff


def direct_rate(costs: dict[str, Any], dtype: np.dtype) -> float:
    """Seconds per multiply-add of the direct sum, single thread."""
    return costs["direct_per_mac"][np.dtype(dtype).name]


def fft_rate(costs: dict[str, Any], dtype: np.dtype) -> float:
    """Seconds per ``n log2 n`` unit of a transform of real-space dtype ``dtype``."""
    return costs["fft_per_nlogn"][np.dtype(dtype).name]
