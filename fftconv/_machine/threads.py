"""One shared thread pool for the strategies' parallel loops.

The compiled kernels release the GIL (numba ``nogil``, FFTW), so plain threads give real
parallelism without OpenMP's spinning barriers, which stall badly when another process
holds a core; and ``workers`` means exactly that many threads.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from .workers import _cpu_count

__all__ = ["PARALLEL_MIN_MACS", "parallel_map", "threads_for"]

#: Below this much work one thread is faster: waking pool threads costs more. Work is
#: multiply-adds plus :data:`ELEMENT_MACS` per element read or written, so that long,
#: memory-bound jobs with few taps are split too.
PARALLEL_MIN_MACS = 8_000_000
ELEMENT_MACS = 4


def threads_for(macs: int, elements: int, workers: int) -> int:
    """Threads worth waking for a direct sum of ``macs`` over ``elements`` in and out."""
    return workers if macs + ELEMENT_MACS * elements >= PARALLEL_MIN_MACS else 1

_T = TypeVar("_T")
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_inside = threading.local()


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(2, _cpu_count()), thread_name_prefix="fftconv")
        return _pool


def parallel_map(fn: Callable[[_T], None], items: Sequence[_T], workers: int) -> None:
    """Call ``fn`` on every item, spread over ``workers`` threads (the caller is one of them).

    Items are handed out round-robin in ``workers`` groups; the call returns when all are
    done and re-raises the first exception. Nested calls from a pool thread run inline.
    """
    n = min(workers, len(items))
    if n <= 1 or getattr(_inside, "active", False):
        for item in items:
            fn(item)
        return
    groups = [items[i::n] for i in range(n)]

    def run_group(group: Sequence[_T]) -> None:
        _inside.active = True
        try:
            for item in group:
                fn(item)
        finally:
            _inside.active = False

    pool = _get_pool()
    futures = [pool.submit(run_group, g) for g in groups[1:]]
    error: BaseException | None = None
    try:
        for item in groups[0]:
            fn(item)
    except BaseException as exc:  # still wait for the others before raising
        error = exc
    for f in futures:
        try:
            f.result()
        except BaseException as exc:
            error = error or exc
    if error is not None:
        raise error
