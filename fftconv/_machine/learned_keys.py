"""The keys learned corrections are kept under, and the figures pooled across keys.

A correction is kept per *key*, ``"<subject>/<size class>"``: what ran (:func:`subject`)
at what size (:func:`size_class`). For a key short of timings of its own, two pools are
drawn from the corrections in force (see :mod:`fftconv._machine.learning`):

- A subject's *family* is the same strategy, dtype and threads at other sizes and
  branches. Its median is the evidence that a strategy runs on one thread as the model
  holds.
- Timings taken while other work held half the CPUs or more are kept apart, under the
  subject with :data:`BUSY` appended: they measure the machine as it is under load, which
  is not the idle machine the other corrections describe. The *load factor* is the
  median, over the keys timed both ways, of ``loaded / idle``. A subject timed only idle
  is priced under load as slowed by that factor, like the others. Without it, the one
  strategy in use would be the only one to look slower under load, and the planner would
  leave it for the sole reason that it had been timed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .costs import dtype_name

__all__ = ["BUSY", "LIMIT", "busy_key", "factor", "family", "family_medians", "is_busy", "key",
           "load_factor", "size_class", "subject"]

#: Appended to a subject for its timings under load.
BUSY = ":busy"
#: Corrections are clamped to [1/LIMIT, LIMIT].
LIMIT = 100.0


def size_class(points: int) -> int:
    """Size class of a problem with ``points`` output samples: ``log4(points)``."""
    return max(int(points), 1).bit_length() // 2


def subject(strategy: str, estimate: Any, dtype: Any, workers: int = 1) -> str:
    """What a correction is kept for: a strategy on one compute dtype, the branch of its
    cost model where it has several (``estimate.variant``, e.g. ``direct:float32:axpy``)
    or else its transform size (``overlap:float32:256x256``), and the threads it may use
    (``:2t`` for two): each runs at its own rate (FFTW's speed per point varies with the
    size; what a second thread gains varies with the work), so one wrong constant is
    corrected without moving the others."""
    variant = getattr(estimate, "variant", "")
    if not variant:
        shape = getattr(estimate, "fft_shape", None)
        variant = "x".join(map(str, shape)) if shape else ""
    dtype = dtype if isinstance(dtype, str) else dtype_name(dtype)
    name = f"{strategy}:{dtype}:{variant}" if variant else f"{strategy}:{dtype}"
    return f"{name}:{workers}t" if workers > 1 else name


def key(strategy: str, points: int) -> str:
    """The key of ``strategy`` (a :func:`subject`) at a size of ``points`` outputs."""
    return f"{strategy}/{size_class(points)}"


def factor(logs: Iterable[float]) -> float:
    """The correction a list of log ratios stands for: their median, clamped."""
    s = sorted(logs)
    mid = len(s) // 2
    median = s[mid] if len(s) % 2 else 0.5 * (s[mid - 1] + s[mid])
    return min(max(math.exp(median), 1 / LIMIT), LIMIT)


def is_busy(key_: str) -> bool:
    """Whether ``key_`` holds timings taken under load."""
    return key_.rpartition("/")[0].endswith(BUSY)


def busy_key(key_: str) -> str:
    """The key of the same subject and size class, under load."""
    name, _, size = key_.rpartition("/")
    return f"{name}{BUSY}/{size}"


def family(name: str) -> tuple[str, str, str]:
    """A subject's family: its strategy, dtype and threads (not its branch or size)."""
    parts = name.split(":")
    last = parts[-1]
    threads = last if len(parts) > 2 and last[-1:] == "t" and last[:-1].isdigit() else "1t"
    return parts[0], parts[1] if len(parts) > 1 else "", threads


def family_medians(applied: Mapping[str, float]) -> dict[tuple[str, str, str], float]:
    """The median correction of each family, over the idle keys in ``applied``."""
    logs: dict[tuple[str, str, str], list[float]] = {}
    for key_, value in applied.items():
        if not is_busy(key_):
            logs.setdefault(family(key_.rpartition("/")[0]), []).append(math.log(value))
    return {name: factor(v) for name, v in logs.items()}


def load_factor(applied: Mapping[str, float]) -> float | None:
    """The median of ``loaded / idle`` over the keys with both in ``applied``; None where
    no key has both."""
    logs = [math.log(applied[busy_key(k)] / value) for k, value in applied.items()
            if not is_busy(k) and busy_key(k) in applied]
    return factor(logs) if logs else None
