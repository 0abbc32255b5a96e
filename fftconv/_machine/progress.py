"""A progress hook for long jobs: strategies report work done to whoever listens.

``with reporting(callback): plan(x)`` calls ``callback(n)`` as ``n`` more units of work
(overlap-save blocks) finish, from whichever thread finished them. The hook is a context
variable, so concurrent callers each see their own.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator

__all__ = ["current", "reporting"]

_callback: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar(
    "fftconv_progress", default=None)


@contextlib.contextmanager
def reporting(callback: Callable[[int], None]) -> Iterator[None]:
    """Report units of work done to ``callback`` (serialised by a lock) in this context."""
    lock = threading.Lock()

    def safe(n: int) -> None:
        with lock:
            callback(n)

    token = _callback.set(safe)
    try:
        yield
    finally:
        _callback.reset(token)


def current() -> Callable[[int], None] | None:
    """The callback of the caller's context, or None. Capture it before handing work to
    other threads: they do not share the caller's context."""
    return _callback.get()
