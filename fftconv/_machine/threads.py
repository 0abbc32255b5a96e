"""fftconv's own parallelism: a shared queue of bounded pieces of work.

A job is a list of *pieces* (batch items, overlap-save blocks, slabs of rows or columns
of a transform, ranges of output rows of the direct sum), many more than there are
threads. The calling thread and up to ``workers - 1`` pool threads take pieces from the
job's queue one at a time until none is left. A thread that the OS deschedules therefore
holds back only the piece it is running, never the others, unlike a fixed split or
FFTW's and OpenMP's internal barriers, which stall on a busy machine.

Threads are only woken where a CPU is free for them. Before a job is split, the number
of runnable threads on the machine is read (``/proc/loadavg``, about two microseconds);
when other processes already hold the CPUs, the job runs on fewer threads (on a
2-core box with one busy neighbour: one), since a second thread would only share a core
with the neighbour and stall the job whenever the OS takes the core away from it.
``workers`` is therefore an upper bound. :func:`set_probe` replaces the reading (tests).

The calling thread checks for interrupts between its pieces: ``KeyboardInterrupt`` (or
any error) cancels the pieces not yet started, waits for the ones running (each is
short), and propagates, leaving the library usable. Pieces should last at most about
:data:`PIECE_SECONDS`, so that Ctrl-C stops a long call within a fraction of a second.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from .occupancy import Occupancy
from .pool import Pool
from .workers import _cpu_count

__all__ = ["PARALLEL_MIN_MACS", "PIECE_SECONDS", "crowded", "free_threads", "loaded",
           "parallel_map", "piece_count", "reduced", "run_ranges", "set_probe", "threads_for"]

#: Below this much work one thread is faster: waking pool threads costs more. Work is
#: multiply-adds plus :data:`ELEMENT_MACS` per element read or written, so that long,
#: memory-bound jobs with few taps are split too.
PARALLEL_MIN_MACS = 8_000_000
ELEMENT_MACS = 4
#: Target duration of one piece: short enough for a prompt Ctrl-C and a fair share of
#: a busy machine, long enough that taking a piece (a few microseconds) is negligible.
PIECE_SECONDS = 0.05
#: Pieces per thread when a job is split for parallelism.
PIECES_PER_THREAD = 4


def threads_for(macs: int, elements: int, workers: int) -> int:
    """Threads worth waking for a direct sum of ``macs`` over ``elements`` in and out."""
    return workers if macs + ELEMENT_MACS * elements >= PARALLEL_MIN_MACS else 1


def piece_count(seconds: float, threads: int, limit: int) -> int:
    """Pieces to split a job of about ``seconds`` into (at most ``limit``).

    Enough for every thread to take several (so a descheduled thread holds back little),
    and enough that no piece runs much longer than :data:`PIECE_SECONDS`.
    """
    spread = PIECES_PER_THREAD * threads if threads > 1 else 1
    bounded = math.ceil(seconds / PIECE_SECONDS) if seconds > PIECE_SECONDS else 1
    return max(1, min(limit, max(spread, bounded)))


_LOADAVG = "/proc/loadavg"
_probe_fd: int | None = None
_probe_failed = False
_probe: Callable[[], int | None] | None = None  # a replacement reading (tests)
_cpus = os.cpu_count() or 1
#: A reading is reused for this long: a call both splits its work and times itself, and a
#: loop of millisecond calls reads the files every few calls, not on each (a reading costs
#: 10-50 us). Short beside the running mean's ``occupancy.HOLD_SECONDS``.
_PROBE_SECONDS = 5e-3
_last: tuple[float, int] = (-1.0, 0)
_helpers_out = 0  # pool threads handed a job and not yet back (see _Job.helper)


_occupancy = Occupancy()


#: This process's pool threads: native thread id -> a descriptor of its
#: ``/proc/self/task/<id>/stat`` (-1 where there is none).
_own: dict[int, int] = {}


def _enrol() -> None:
    """Called in a pool thread: keep a descriptor of its stat file (once per thread)."""
    tid = threading.get_native_id()
    if tid not in _own:
        try:
            _own[tid] = os.open(f"/proc/self/task/{tid}/stat", os.O_RDONLY)
        except OSError:
            _own[tid] = -1


def _own_running() -> set[int] | None:
    """The ids of this process's pool threads runnable now, or None where unknown.

    A helper that has just finished its piece is still runnable for a moment on its way
    back to the pool: counted as another process's, it would make every call right after
    a two-thread call run on one thread (and go unlearned, as if the machine were busy).
    """
    running = set()
    for tid, fd in list(_own.items()):
        if fd < 0:
            return None
        try:
            text = os.pread(fd, 512, 0)
        except OSError:  # the thread has exited (a pool that grew replaced it)
            text = b""
        if not text:
            with _lock:
                if _own.get(tid) == fd:
                    del _own[tid]
                    os.close(fd)
            continue
        end = text.rfind(b")")
        if text[end + 2:end + 3] == b"R":
            running.add(tid)
    return running


def _runnable_others() -> int | None:
    """Threads runnable on the machine besides the caller, or None where unknown.

    The fourth field of ``/proc/loadavg`` is the instantaneous count of runnable
    scheduling entities, the caller included (read with ``pread`` on a kept descriptor:
    the kernel regenerates the text on every read).
    """
    global _probe_failed, _last
    if _probe is not None:
        return _probe()
    if _probe_failed:
        return None
    now = time.perf_counter()
    if now - _last[0] < _PROBE_SECONDS:
        return _last[1]
    others = _count()
    if others is None:
        _probe_failed = True
        return None
    _last = (now, _occupancy.update(now, others, _count))  # reused within _PROBE_SECONDS
    return _last[1]


def _count() -> int | None:
    """One reading: runnable threads besides the caller and this process's pool threads
    (running, or just leaving a job), or None without procfs (macOS, Windows)."""
    global _probe_fd
    known = len(_own) >= _pool_size  # read before and after the count: a helper can be
    before = _own_running() if known else None  # runnable in it, asleep a moment later
    try:
        if _probe_fd is None:
            _probe_fd = os.open(_LOADAVG, os.O_RDONLY)
        text = os.pread(_probe_fd, 128, 0)
        others = max(int(text.split()[3].split(b"/")[0]) - 1, 0)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    after = _own_running() if known else None
    own = None if before is None or after is None else len(before | after)
    return max(others - (_helpers_out if own is None else own), 0)


def set_probe(fn: Callable[[], int | None] | None) -> Callable[[], int | None] | None:
    """Replace the count of other runnable threads (``fn() -> int | None``); None restores
    the ``/proc/loadavg`` reading. Returns the replacement in force before (to restore).
    Tests use it to make a machine idle or busy; calibration to time the threads."""
    global _probe
    previous, _probe = _probe, fn
    return previous


def free_threads(workers: int) -> int:
    """Threads worth using now for a job allowed ``workers``: fewer when other runnable
    threads already hold the CPUs (never fewer than one)."""
    if workers <= 1:
        return 1
    others = _runnable_others()
    if others is None:
        return workers
    return max(1, min(workers, _cpus - others))


def crowded() -> bool:
    """Whether other runnable threads hold half the CPUs or more now (then even a
    one-thread job may share its core, or a hyperthread sibling, or the memory bus with
    them, and its timing measures the load rather than the machine)."""
    others = _runnable_others()
    return others is not None and others >= max(1, _cpus // 2)


def loaded() -> bool:
    """Whether other runnable threads have held half the CPUs or more over the last
    ``occupancy.HOLD_SECONDS`` (their running mean, not the reading now, so that work seen in
    passing does not count): then timings measure the machine under load, and the
    planner prices plans by what such timings taught it."""
    others = _runnable_others()
    if others is None:
        return False
    mean = others if _probe is not None else int(_occupancy.mean + 0.5)
    return mean >= max(1, _cpus // 2)


def reduced() -> bool:
    """Whether a job of this thread ran on fewer threads than allowed since the last ask
    (the machine was busy); asking clears it. The planner does not learn from such calls:
    they measure the load, not the cost model."""
    was = getattr(_inside, "reduced", False)
    _inside.reduced = False
    return was


_T = TypeVar("_T")
_pool: Pool | None = None
_pool_size = 0
_lock = threading.Lock()
_inside = threading.local()


def _after_fork() -> None:
    """In a forked child: the parent's pool threads and their stat files are not this
    process's; start afresh (a new pool on first need)."""
    global _pool, _pool_size, _lock, _helpers_out, _occupancy, _last
    for fd in _own.values():
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    _own.clear()
    _pool, _pool_size, _lock, _helpers_out = None, 0, threading.Lock(), 0
    _occupancy, _last = Occupancy(), (-1.0, 0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _get_pool(helpers: int) -> Pool:
    """The shared pool, grown to at least ``helpers`` threads."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < helpers:
            # an old pool's threads finish their work and exit once idle
            old = _pool
            _pool_size = max(helpers, _cpu_count() - 1, 1)
            _pool = Pool(_pool_size)
            if old is not None:
                old.shutdown()
        return _pool


class _Job:
    """The queue of one :func:`parallel_map` call, shared by its threads."""

    def __init__(self, fn: Callable[[_T], None], items: Sequence[_T]) -> None:
        self.fn, self.items = fn, items
        # The next piece's index: ``next`` on an itertools counter is one step under the
        # GIL, so threads take pieces without a lock.
        self.next = itertools.count()
        self.closed = False  # no piece will be handed out any more
        self.running = 0  # helper threads inside the job
        self.error: BaseException | None = None
        self.lock = threading.Lock()  # guards closed (when set from outside), running, waiting
        # Held until the last running helper leaves a job whose caller waits (finish).
        self.done = threading.Lock()
        self.done.acquire()
        self.waiting = False

    def work(self) -> None:
        """Run pieces until none is left (or the job is cancelled)."""
        fn, items, pieces, count = self.fn, self.items, self.next, len(self.items)
        while not self.closed:
            i = next(pieces)
            if i >= count:
                self.closed = True
                return
            fn(items[i])

    def helper(self) -> None:
        global _helpers_out
        _enrol()
        try:
            self._help()
        finally:
            with _lock:
                _helpers_out -= 1

    def _help(self) -> None:
        with self.lock:
            if self.closed:  # started too late (the pool was busy): nothing to do
                return
            self.running += 1
        _inside.active = True
        try:
            self.work()
        except BaseException as exc:
            with self.lock:
                self.error = self.error or exc
                self.closed = True
        finally:
            _inside.active = False
            with self.lock:
                self.running -= 1
                if not self.running and self.waiting:  # once: none enters a closed job
                    self.done.release()

    def finish(self) -> None:
        """Close the queue and wait for the helpers' running pieces."""
        with self.lock:
            self.closed = True
            self.waiting = self.running > 0
        if self.waiting:
            while not self.done.acquire(timeout=0.05):  # (interruptible, in slices)
                pass


def parallel_map(fn: Callable[[_T], None], items: Sequence[_T], workers: int,
                 serial: Callable[[], None] | None = None) -> None:
    """Call ``fn`` on every item, taken from a shared queue by up to ``workers`` threads.

    The caller is one of the threads; the call returns when every item is done and
    re-raises the first exception. An interrupt in the caller cancels the items not yet
    started. ``serial``, when given, does all the items at once; it is called instead when
    the job runs on one thread (a piece costs a dispatch, which a short job feels).
    Nested calls (from inside an item) run inline in their thread. Fewer threads run
    when the machine's CPUs are taken by other work (:func:`free_threads`).
    """
    n = min(workers, len(items))
    if n > 1 and not getattr(_inside, "active", False):
        free = free_threads(n)
        if free < n:
            _inside.reduced = True
            n = free
    if n <= 1 or getattr(_inside, "active", False):
        if serial is not None:
            serial()
            return
        for item in items:  # the interpreter checks for interrupts between items
            fn(item)
        return
    global _helpers_out
    job = _Job(fn, items)
    pool = _get_pool(n - 1)
    with _lock:
        _helpers_out += n - 1
    for _ in range(n - 1):
        pool.queue.put(job.helper)
    _inside.active = True
    try:
        job.work()
    except BaseException:
        with job.lock:
            job.closed = True
        try:
            job.finish()
        finally:
            _inside.active = False
        raise
    _inside.active = False
    job.finish()
    if job.error is not None:
        raise job.error


def run_ranges(fn: Callable[..., None], args: tuple, bounds: Sequence[int], workers: int,
               seconds: float) -> None:
    """``fn(*args, start, stop)`` over the ranges between consecutive ``bounds``: one call
    over all of them when there is one range, else the ranges as pieces on up to
    ``workers`` threads (one call over all when the machine leaves one thread and the job,
    predicted at ``seconds``, is shorter than a piece)."""
    nparts = len(bounds) - 1
    if nparts == 1:
        fn(*args, bounds[0], bounds[-1])
        return
    whole = (lambda: fn(*args, bounds[0], bounds[-1])) if seconds < PIECE_SECONDS else None
    parallel_map(lambda i: fn(*args, bounds[i], bounds[i + 1]), range(nparts), workers,
                 serial=whole)
