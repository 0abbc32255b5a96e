"""Thread count used by the strategies: ``set_workers`` / ``get_workers``."""

from __future__ import annotations

import contextlib
import functools
import operator
import os
import threading
from collections.abc import Iterator

__all__ = ["get_workers", "set_workers", "resolve_workers"]

_local = threading.local()


@functools.cache
def _cpu_count() -> int:
    """Cores this process may run on (read once: it is asked on every call)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def resolve_workers(workers: int | None) -> int:
    """Turn a ``workers`` argument into a positive thread count.

    ``None`` means the current default (``set_workers`` or all cores); a negative value
    counts back from the number of cores, as in :mod:`scipy.fft` (``-1`` = all cores).
    """
    if workers is None:
        return getattr(_local, "workers", None) or _cpu_count()
    expected = ("expected a positive int, a negative int counting back from the number of "
                "cores, or None")
    try:
        n = operator.index(workers)
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
