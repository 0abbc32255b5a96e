"""Output arrays of large results, recycled once nothing refers to them any more.

A one-shot call returns new memory, and the OS must fault in and zero every page of a
new large array before the sum can write it: for a 4096² float32 result (64 MiB) that
is 3-7 ms here, as long as the whole 3 x 3 filter itself. A loop over images (one
result dropped, the next one made) would pay it on every call, since memory this large
is returned to the OS when freed.

So an output of at least :data:`MIN_BYTES` is taken from a small pool. The pool keeps a
reference to each array it handed out. An array is given again only when the pool's
reference is the only one left: every result, and every view of a result, refers to
its array (numpy's ``base``), so a count of references tells exactly when no result
needs it any more. (The count is CPython's ``sys.getrefcount``, which the compiled
kernels need anyway.) The pool holds at most :data:`MAX_ARRAYS` arrays and
:func:`budget` bytes. An array not handed out for :data:`IDLE_SECONDS` is dropped when
the pool next makes a new one; ``fftconv``'s ``clear_caches`` drops them all.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

__all__ = ["IDLE_SECONDS", "MAX_ARRAYS", "MIN_BYTES", "budget", "clear", "empty", "held"]

#: Smaller outputs come from numpy as usual (the C library reuses memory of that size).
MIN_BYTES = 8 << 20
#: Arrays the pool keeps (a loop holding one result while making the next needs two).
MAX_ARRAYS = 4
#: An array not handed out for this long is dropped when the pool next makes room.
IDLE_SECONDS = 30.0

_lock = threading.Lock()
#: [array, last time handed out]; the list's reference is the pool's only one.
_pool: list[list] = []
_budget: int | None = None


def budget() -> int:
    """Bytes the pool may keep: 256 MiB, or a 32nd of the memory available at first use."""
    global _budget
    if _budget is None:
        from .resources import available_memory

        _budget = min(256 << 20, available_memory() // 32)
    return _budget


def empty(shape: tuple[int, ...], dtype: np.dtype, nbytes: int) -> np.ndarray:
    """A C-contiguous array of ``nbytes`` (at least :data:`MIN_BYTES`; smaller outputs
    are the caller's to take from numpy): a recycled one no result refers to any more,
    else a new one, kept."""
    now = time.monotonic()
    with _lock:
        for i in range(len(_pool)):
            # two references: the pool's entry and getrefcount's own argument
            entry = _pool[i]
            if sys.getrefcount(entry[0]) == 2 and entry[0].shape == shape \
                    and entry[0].dtype == dtype:
                entry[1] = now
                return entry[0]
        array = np.empty(shape, dtype)
        _keep(array, nbytes, now)
        return array


def _keep(array: np.ndarray, nbytes: int, now: float) -> None:
    """Add ``array`` to the pool, making room: idle arrays go first, then the oldest."""
    _pool[:] = [e for e in _pool if now - e[1] <= IDLE_SECONDS]
    limit = budget()
    if nbytes > limit:
        return
    while _pool and (len(_pool) >= MAX_ARRAYS or held() + nbytes > limit):
        _pool.pop(min(range(len(_pool)), key=lambda i: _pool[i][1]))
    _pool.append([array, now])


def held() -> int:
    """Bytes of the arrays the pool refers to (in use or free)."""
    return sum(e[0].nbytes for e in _pool)


def clear() -> None:
    """Drop the pool's references (results in use are untouched)."""
    global _budget
    with _lock:
        _pool.clear()
        _budget = None
