"""The lazy result of :mod:`fftconv.dask`: a ``dask.array.Array`` that skips one copy.

dask's ``compute()`` copies a result held in one block (``dask.array.core.finalize``),
because the block may be a buffer the graph or a worker of a cluster still holds. A block
of :mod:`fftconv.dask` is an array its task has just made, which nothing else refers to
once a local scheduler (synchronous, threads, processes) returns it. So where no
``dask.distributed`` client is in use and the block is writeable, all of its buffer and
not already handed to another result of the same computation, it is returned as it is:
for a 4096² float32 image that copy is 18 ms against 13–25 ms for a 7×7 correlation.
Everywhere else (several blocks, a client, a read-only block, a block handed over
already), dask's own ``finalize`` runs. Any operation on the result gives a plain ``dask.array.Array``.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

import dask.array as da
import numpy as np
from dask.array.core import finalize

__all__ = ["Result"]

#: Blocks already handed over, by ``id``, while they live: one computation returning the
#: same block for two results (``dask.compute(y, y)``) hands it over once, copies after.
_handed: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()
_lock = threading.Lock()


class Result(da.Array):
    """A ``dask.array.Array`` whose one-block ``compute()`` returns the block uncopied."""

    __slots__ = ()

    def __dask_postcompute__(self) -> tuple[Any, tuple]:
        return _finalize, ()


def _finalize(results: Any) -> Any:
    one = results
    while isinstance(one, (list, tuple)) and len(one) == 1:
        one = one[0]
    if (isinstance(one, np.ndarray) and one.flags.writeable and _owns_its_memory(one)
            and not _client_in_use()):
        with _lock:
            first = _handed.get(id(one)) is not one
            if first:
                _handed[id(one)] = one
        if first:
            return one
    return finalize(results)


def _owns_its_memory(a: np.ndarray) -> bool:
    """Whether ``a`` is all of the buffer it views (not a part pinning a larger one)."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root.base is None and root.nbytes == a.nbytes


def _client_in_use() -> bool:
    """Whether a ``dask.distributed`` client may have computed this (its workers may hold
    the block): dask's copy is kept then."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_client()
    except ValueError:  # no client in this process
        return False
    except Exception:  # anything unexpected: keep dask's copy
        return True
    return True
