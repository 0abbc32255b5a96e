"""The helper threads of :func:`~fftconv._machine.threads.parallel_map`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["Pool"]


class Pool:
    """Helper threads, each running the callables put on :attr:`queue` (``None`` makes one
    leave). Lighter than a ``ThreadPoolExecutor``: a job hands each helper over with one
    ``pool.queue.put(fn)`` and waits for them itself (``threads._Job``), so no futures."""

    def __init__(self, size: int) -> None:
        self.queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.size = size
        for i in range(size):
            threading.Thread(target=self._serve, name=f"fftconv_{i}", daemon=True).start()

    def _serve(self) -> None:
        take = self.queue.get
        while (fn := take()) is not None:
            try:
                fn()  # _Job.helper: it keeps what its pieces raise for the job's caller
            except Exception:  # anything else must not cost the pool a thread
                continue

    def shutdown(self) -> None:
        """Each thread leaves once it has done what was queued before."""
        for _ in range(self.size):
            self.queue.put(None)
