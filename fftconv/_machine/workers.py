"""Thread count used by the strategies: ``set_workers`` / ``get_workers``."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from collections.abc import Iterator

from .._arraytypes import as_index

__all__ = ["get_workers", "resolve_workers", "set_workers"]

_local = threading.local()


def _cgroup_quota() -> float | None:
    """CPUs the cgroup CPU quota allows this process (cgroup v2 ``cpu.max`` or v1
    ``cpu.cfs_quota_us``), the tightest along its cgroup path; None when unlimited."""
    root = "/sys/fs/cgroup"
    try:
        with open("/proc/self/cgroup", encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    best: float | None = None
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        if ctrls == "":  # v2: "0::/path", files named cpu.max
            dirs, files = [root], ("cpu.max",)
        elif "cpu" in ctrls.split(","):
            dirs, files = [f"{root}/{ctrls}", f"{root}/cpu"], ("cpu.cfs_quota_us",)
        else:
            continue
        parts = [p for p in path.split("/") if p]
        for base in dirs:
            for depth in range(len(parts) + 1):
                quota = _read_quota(os.path.join(base, *parts[:depth]), files[0])
                if quota is not None:
                    best = quota if best is None else min(best, quota)
    return best


def _read_quota(directory: str, name: str) -> float | None:
    try:
        with open(os.path.join(directory, name), encoding="ascii") as fh:
            text = fh.read().split()
        if name == "cpu.max":
            quota, period = text[0], text[1] if len(text) > 1 else "100000"
        else:
            with open(os.path.join(directory, "cpu.cfs_period_us"), encoding="ascii") as fh:
                quota, period = text[0], fh.read().strip()
        if quota in ("max", "-1"):
            return None
        q = float(quota) / float(period)
        return q if q > 0 else None
    except (OSError, ValueError, IndexError, ZeroDivisionError):
        return None


@functools.cache
def _cpu_count() -> int:
    """Cores this process may actually use: its CPU affinity, capped by the cgroup CPU
    quota (a container limited to 1.5 CPUs gets 2 threads). Read once."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota - 1e-9)))
    return max(cores, 1)


def resolve_workers(workers: object) -> int:
    """Turn a ``workers`` argument into a positive thread count.

    ``None`` means the current default (``set_workers`` or all cores); a negative value
    counts back from the number of cores, as in :mod:`scipy.fft` (``-1`` = all cores).
    """
    if workers is None:
        return getattr(_local, "workers", None) or _cpu_count()
    expected = ("expected a positive int, a negative int counting back from the number of "
                "cores, or None")
    try:
        n = as_index(workers)
    except TypeError:
        n = 0
    if isinstance(workers, bool) or n == 0:
        raise ValueError(f"workers={workers!r} is invalid; {expected}")
    if n < 0:
        n = _cpu_count() + 1 + n
        if n < 1:
            raise ValueError(f"workers={workers!r} is invalid; there are only {_cpu_count()} cores")
    return n


def get_workers() -> int:
    """Return the number of threads fftconv uses by default in this thread."""
    return resolve_workers(None)


@contextlib.contextmanager
def set_workers(workers: int) -> Iterator[None]:
    """Context manager setting the default number of threads in this thread.

    Parameters
    ----------
    workers : int
        Threads to use; negative values count back from the number of cores.

    Examples
    --------
    >>> import fftconv
    >>> with fftconv.set_workers(1):
    ...     fftconv.get_workers()
    1
    """
    n = resolve_workers(workers)
    old = getattr(_local, "workers", None)
    _local.workers = n
    try:
        yield
    finally:
        _local.workers = old
