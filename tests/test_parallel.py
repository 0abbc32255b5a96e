"""fftconv's own parallelism: the shared queue, the slab passes, the default workers."""

from __future__ import annotations

import itertools
import os
import threading
import time

import numpy as np
import pytest

import fftconv
from fftconv._machine import threads, workers
from fftconv._machine.slabs import _ranges


def test_every_item_runs_once_and_a_slow_thread_holds_back_only_its_piece():
    seen: list[int] = []
    lock = threading.Lock()
    names: dict[int, str] = {}

    def work(i: int) -> None:
        if i == 0:
            time.sleep(0.2)  # a descheduled thread: its piece is late, nobody waits on it
        with lock:
            seen.append(i)
            names[i] = threading.current_thread().name
    threads.parallel_map(work, range(40), 2)
    assert sorted(seen) == list(range(40))
    # the other thread took the remaining pieces instead of a fixed half of them
    slow = names[0]
    assert sum(1 for n in names.values() if n == slow) < 20


def test_the_first_error_is_raised_and_the_rest_cancelled():
    done: list[int] = []

    def work(i: int) -> None:
        if i == 3:
            raise KeyError("piece 3")
        time.sleep(0.001)
        done.append(i)
    with pytest.raises(KeyError, match="piece 3"):
        threads.parallel_map(work, range(200), 2)
    assert len(done) < 199
    threads.parallel_map(lambda i: None, range(8), 2)  # the pool still works


def test_an_interrupt_in_the_caller_cancels_and_propagates():
    started: list[int] = []
    main = threading.get_ident()

    def work(i: int) -> None:
        started.append(i)
        if threading.get_ident() == main and len(started) > 4:
            raise KeyboardInterrupt
        time.sleep(0.002)
    with pytest.raises(KeyboardInterrupt):
        threads.parallel_map(work, range(500), 2)
    assert len(started) < 100
    out: list[int] = []
    threads.parallel_map(out.append, range(10), 2)
    assert sorted(out) == list(range(10))


def test_nested_calls_run_inline():
    inner: list[str] = []

    def work(i: int) -> None:
        threads.parallel_map(lambda j: inner.append(threading.current_thread().name),
                             range(3), 2)
    threads.parallel_map(work, range(4), 2)
    assert len(inner) == 12


def test_more_workers_than_the_pool_has():
    out: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        with lock:
            out.append(i)
    threads.parallel_map(work, range(50), 8)
    assert sorted(out) == list(range(50))


@pytest.mark.parametrize(("seconds", "workers", "expected"), [
    (1e-4, 1, 1), (1e-4, 2, 8), (1.0, 1, 20), (1.0, 2, 20), (10.0, 2, 64),
])
def test_piece_count(seconds, workers, expected):
    assert threads.piece_count(seconds, workers, 64) == expected


def test_ranges_cover_and_align():
    for n, pieces, align in [(289, 8, 8), (512, 3, 1), (5, 8, 8), (1, 1, 1)]:
        rs = _ranges(n, pieces, align)
        assert rs[0][0] == 0 and rs[-1][1] == n and len(rs) <= pieces
        assert all(a == b for (_, a), (b, _) in itertools.pairwise(rs))
        assert all(r0 % align == 0 for r0, _ in rs)


@pytest.mark.parametrize(("text", "period", "expected"), [
    ("max 100000", None, None), ("150000 100000", None, 1.5), ("50000 100000", None, 0.5),
    ("-1", "100000", None), ("200000", "100000", 2.0),
])
def test_cgroup_quota(tmp_path, text, period, expected):
    name = "cpu.max" if period is None else "cpu.cfs_quota_us"
    (tmp_path / name).write_text(text + "\n")
    if period is not None:
        (tmp_path / "cpu.cfs_period_us").write_text(period + "\n")
    assert workers._read_quota(str(tmp_path), name) == expected


def test_default_workers_follow_the_quota(monkeypatch):
    workers._cpu_count.cache_clear()
    monkeypatch.setattr(workers, "_cgroup_quota", lambda: 1.5)
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    try:
        assert workers._cpu_count() == 2
        monkeypatch.setattr(workers, "_cgroup_quota", lambda: 0.2)
        workers._cpu_count.cache_clear()
        assert workers._cpu_count() == 1
        monkeypatch.setattr(workers, "_cgroup_quota", lambda: None)
        workers._cpu_count.cache_clear()
        assert workers._cpu_count() == 4
    finally:
        monkeypatch.undo()
        workers._cpu_count.cache_clear()


@pytest.mark.parametrize(("shape", "kshape", "mode", "boundary", "dtype"), [
    ((300, 700), (31, 17), "same", "constant", "float64"),
    ((257, 129), (9, 8), "full", "reflect", "float32"),
    ((40, 50, 30), (3, 5, 4), "valid", "wrap", "complex128"),
    ((3, 64, 96), (5, 7), "same", "constant", "float64"),
])
def test_slab_passes_match_the_direct_sum(monkeypatch, shape, kshape, mode, boundary, dtype):
    """Pieces of a few microseconds force every strategy to split (and slabs to be used)."""
    from fftconv.strategies import fft as fft_strategy
    from fftconv.strategies import overlap as overlap_strategy

    monkeypatch.setattr(threads, "PIECE_SECONDS", 1e-7)
    monkeypatch.setattr(fft_strategy, "PIECE_SECONDS", 1e-7)
    monkeypatch.setattr(overlap_strategy, "PIECE_SECONDS", 1e-7)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    k = rng.standard_normal(kshape).astype(dtype)
    if x.dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    axes = tuple(range(-len(kshape), 0))
    ref = fftconv.correlate(x, k, mode, axes=axes, boundary=boundary, method="direct")
    tol = 1e-4 if dtype == "float32" else 1e-9
    for method in ("fft", "overlap"):
        for w in (1, 2):
            fftconv._engine.clear_caches()
            y = fftconv.correlate(x, k, mode, axes=axes, boundary=boundary, method=method,
                                  workers=w)
            np.testing.assert_allclose(y, ref, atol=tol * np.abs(ref).max())


@pytest.fixture
def machine():
    """Set how many other threads are runnable (None: unknown); restored afterwards."""
    def set_others(n):
        threads.set_probe(lambda: n)
    yield set_others
    threads.set_probe(lambda: 0)


def _names(n_items: int, workers: int) -> set[str]:
    names: set[str] = set()
    lock = threading.Lock()

    def work(i: int) -> None:
        time.sleep(0.002)
        with lock:
            names.add(threading.current_thread().name)
    threads.parallel_map(work, range(n_items), workers)
    return names


def test_a_busy_machine_runs_a_job_on_fewer_threads(machine, monkeypatch):
    monkeypatch.setattr(threads, "_cpus", 2)
    machine(0)  # idle: both threads
    assert len(_names(20, 2)) == 2
    assert not threads.reduced()
    machine(1)  # one neighbour holds a core: the caller alone, and the call is marked
    assert _names(20, 2) == {threading.current_thread().name}
    assert threads.reduced()
    assert not threads.reduced()  # asking clears it
    machine(5)  # never fewer than one
    assert threads.free_threads(2) == 1
    machine(None)  # unknown (no /proc/loadavg): the workers asked for
    assert threads.free_threads(2) == 2


def test_free_threads_on_a_larger_machine(machine, monkeypatch):
    monkeypatch.setattr(threads, "_cpus", 8)
    machine(3)
    assert threads.free_threads(8) == 5
    assert threads.free_threads(4) == 4
    assert threads.free_threads(1) == 1


def test_the_real_reading_counts_other_runnable_threads():
    threads.set_probe(None)
    try:
        others = threads._runnable_others()
    finally:
        threads.set_probe(lambda: 0)
    if not os.path.exists("/proc/loadavg"):
        assert others is None
    else:
        assert isinstance(others, int) and 0 <= others < 10_000


def test_a_contended_call_is_not_learned_from(machine, monkeypatch):
    from fftconv._machine import learning

    monkeypatch.setenv("FFTCONV_LEARN", "on")
    learning.reset()
    seen = []
    monkeypatch.setattr(learning, "observe", lambda *a: seen.append(a))
    x = np.ones((512, 512))
    plan = fftconv.plan_correlate(x.shape, np.ones((31, 31)), "same", method="overlap",
                                  workers=2)
    plan(x)  # the first call is never counted
    plan(x)
    assert len(seen) == 1
    machine(4)  # busy: the blocks ran on one thread, so the timing measures the load
    plan(x)
    assert len(seen) == 1
    machine(0)
    plan(x)
    assert len(seen) == 2
    learning.reset()


def test_a_loaded_machine_teaches_its_own_corrections(machine, monkeypatch):
    """A call beside work that holds a CPU teaches the corrections under load (its
    subject ends in ``:busy``), not the idle ones; beside work seen only in passing (a
    reading now, not the held mean), it teaches neither."""
    from fftconv._machine import learning

    monkeypatch.setattr(threads, "_cpus", 2)
    monkeypatch.setenv("FFTCONV_LEARN", "on")
    learning.reset()
    seen = []
    monkeypatch.setattr(learning, "observe", lambda *a: seen.append(a))
    x = np.ones((64, 64))
    plan = fftconv.plan_correlate(x.shape, np.ones((3, 3)), "same", workers=1)
    plan(x)
    machine(1)  # a neighbour on one of the two CPUs: a one-thread call may share with it
    plan(x)
    assert threads.crowded() and threads.loaded()
    assert len(seen) == 1 and seen[0][0].endswith(":busy")
    held = threads.loaded
    monkeypatch.setattr(threads, "loaded", lambda: False)  # crowded now, not held
    plan(x)
    assert len(seen) == 1
    monkeypatch.setattr(threads, "loaded", held)
    machine(0)  # idle
    plan(x)
    assert len(seen) == 2 and not seen[1][0].endswith(":busy") and not threads.crowded()
    monkeypatch.setattr(threads, "_cpus", 8)
    machine(3)  # most of a larger machine is free
    assert not threads.crowded() and not threads.loaded()
    machine(4)
    assert threads.crowded() and threads.loaded()
    learning.reset()


def test_loaded_is_the_held_mean_not_the_reading_now(monkeypatch):
    """One reading of a runnable thread makes the machine crowded for that moment; it
    is loaded only when such threads have held the CPUs over the last moments."""
    monkeypatch.setattr(threads, "_cpus", 2)
    monkeypatch.setattr(threads, "_probe", None)
    monkeypatch.setattr(threads, "_runnable_others", lambda: 1)
    monkeypatch.setattr(threads._occupancy, "mean", 0.2)
    assert threads.crowded() and not threads.loaded()
    monkeypatch.setattr(threads._occupancy, "mean", 0.9)
    assert threads.loaded()
    monkeypatch.setattr(threads, "_runnable_others", lambda: None)  # no /proc: unknown
    assert not threads.loaded()


def test_a_job_on_one_thread_runs_its_serial_form(machine, monkeypatch):
    monkeypatch.setattr(threads, "_cpus", 2)
    pieces: list[int] = []
    whole: list[str] = []
    machine(1)  # busy: one thread, so the whole job in one call
    threads.parallel_map(pieces.append, range(8), 2, serial=lambda: whole.append("all"))
    assert whole == ["all"] and pieces == []
    machine(0)  # idle: the pieces, on both threads
    threads.parallel_map(pieces.append, range(8), 2, serial=lambda: whole.append("all"))
    assert whole == ["all"] and sorted(pieces) == list(range(8))


def test_a_whole_array_fft_on_a_busy_machine_uses_the_one_thread_plan(machine, monkeypatch):
    """Planned as slabs on two threads; given one (busy machine), FFTW's own 2-d plan: the
    same result either way, against scipy."""
    from scipy import signal

    monkeypatch.setattr(threads, "_cpus", 2)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 260))
    k = rng.standard_normal((31, 17))
    plan = fftconv.plan_correlate(x.shape, k, "same", method="fft", workers=2)
    want = signal.correlate(x, k, "same", method="direct")
    machine(0)
    np.testing.assert_allclose(plan(x), want, rtol=1e-9, atol=1e-9)
    machine(1)
    np.testing.assert_allclose(plan(x), want, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(plan(x), want, rtol=1e-9, atol=1e-9)


def test_a_thread_seen_in_passing_does_not_make_an_idle_machine_busy():
    """A kernel worker runnable now and then on an idle box: only the call that sees it
    runs on fewer threads; the calls after it use every CPU again."""
    occ = threads.Occupancy(tau=0.1)
    t, seen = 0.0, []
    for i in range(400):  # a reading every 2 ms; a stray thread in 1 reading out of 25
        t += 0.002
        seen.append(occ.update(t, 1 if i % 25 == 0 else 0))
    assert seen.count(1) == 16 and set(seen) == {0, 1}
    assert all(seen[i + 1] == 0 for i in range(len(seen) - 1) if seen[i] == 1)


def test_a_thread_pool_sleeping_between_jobs_still_counts():
    """A neighbour's two BLAS threads hold both CPUs but for short gaps between products:
    a reading in a gap (0) still counts them."""
    occ = threads.Occupancy(tau=0.1)
    t, seen = 0.0, []
    for i in range(400):
        t += 0.002
        seen.append(occ.update(t, 0 if i % 6 == 5 else 2))
    assert min(seen[20:]) >= 1  # never taken for an idle machine after its first 40 ms
    assert min(seen[200:]) == 2  # and, once its mean is known, counted in full
    occ = threads.Occupancy(tau=0.1)  # one busy loop, seen at every reading
    assert [occ.update(0.002 * i, 1) for i in range(1, 50)][-1] == 1


def test_a_reading_above_the_mean_is_confirmed_before_it_counts():
    """Readings far apart (one per long call) each carry the mean with them: a thread
    seen in passing (a helper on its way back, another library's pool spinning after its
    job) is read again before it counts, and a neighbour holding a CPU is in every
    reading; a reading the mean already holds is not read again."""
    from fftconv._machine import occupancy

    occ = threads.Occupancy(tau=0.1)
    reads = []

    def passing():
        reads.append(0)
        return 0

    assert [occ.update(0.05 * i, 1, passing) for i in range(1, 20)] == [0] * 19
    assert len(reads) == 19 and occ.mean == 0.0  # one more reading each, then no more
    held, reads = threads.Occupancy(tau=0.1), []

    def holding():
        reads.append(1)
        return 1

    assert [held.update(0.05 * i, 1, holding) for i in range(1, 10)] == [1] * 9
    assert occupancy.CONFIRM_READS <= len(reads) <= 3 * occupancy.CONFIRM_READS
    confirmed = len(reads)  # read again until the mean holds it, then no more
    assert [held.update(0.05 * i, 1, holding) for i in range(10, 20)] == [1] * 10
    assert len(reads) == confirmed
    assert held.update(1.0, 2, lambda: None) == 2  # no fresh reading: the first stands


def test_a_neighbour_that_stops_is_forgotten_within_a_few_time_constants():
    occ = threads.Occupancy(tau=0.1)
    for i in range(1, 100):
        occ.update(0.002 * i, 2)
    assert occ.update(0.2, 0) == 2  # a gap
    assert occ.update(0.2 + 0.3, 0) == 0  # gone for 3 time constants: idle again


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs procfs")
def test_own_pool_threads_are_never_counted_as_other_work(monkeypatch):
    """A helper on its way back to the pool is this process's, not a neighbour's: the
    count of other runnable threads subtracts exactly those of the pool that are
    runnable, read from their own stat files."""
    monkeypatch.setattr(threads, "_cpus", 2)
    threads.parallel_map(lambda i: sum(range(20_000)), range(8), 2)  # start the pool
    deadline = time.perf_counter() + 5  # a new pool's helper enrols as it starts, which
    while not threads._own and time.perf_counter() < deadline:  # may be after the map
        time.sleep(0.001)
    assert threads._own and all(fd >= 0 for fd in threads._own.values())
    assert len(threads._own_running()) in range(len(threads._own) + 1)
    release, left = threading.Event(), threading.Event()
    pool = threads._get_pool(1)
    pool.queue.put(lambda: (threads._enrol(), [0 for _ in iter(release.is_set, True)], left.set()))
    try:
        deadline = time.perf_counter() + 5
        while not threads._own_running() and time.perf_counter() < deadline:
            time.sleep(0.001)
        assert len(threads._own_running()) >= 1  # a pool thread spinning: runnable, and ours
    finally:
        release.set()
        assert left.wait(10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_pool(monkeypatch):
    """The parent's pool threads do not exist in a forked child: the child starts a pool
    of its own, and its jobs run on two threads again."""
    import multiprocessing

    monkeypatch.setattr(threads, "_cpus", 2)
    threads.parallel_map(lambda i: None, range(4), 2)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_names_in_child, args=(queue,))
    child.start()
    names = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert len(names) == 2, names


def _names_in_child(queue) -> None:
    threads.set_probe(lambda: 0)
    seen = set()

    def piece(i: int) -> None:
        seen.add(threading.current_thread().name)
        time.sleep(0.02)

    threads.parallel_map(piece, range(16), 2)
    queue.put(sorted(seen))


def test_a_one_shot_call_is_planned_for_the_cpus_it_is_left(machine, monkeypatch):
    """Beside a neighbour holding a CPU, a one-shot call is planned (and remembered) for
    one thread, so its strategy is priced for the threads it runs on; idle, for two.
    The results agree with scipy either way."""
    from scipy import signal

    from fftconv import _engine

    monkeypatch.setattr(threads, "_cpus", 2)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((96, 80))
    k = rng.standard_normal((9, 7))
    want = signal.correlate(x, k, "same", method="direct")
    _engine.clear_caches()

    def workers_planned() -> set[int]:
        return {p.workers for p, _ in _engine.calls._data.values() if hasattr(p, "workers")}

    machine(0)
    np.testing.assert_allclose(fftconv.correlate(x, k, "same", workers=2), want, rtol=1e-10,
                               atol=1e-12)
    assert workers_planned() == {2}
    machine(1)
    np.testing.assert_allclose(fftconv.correlate(x, k, "same", workers=2), want, rtol=1e-10,
                               atol=1e-12)
    assert workers_planned() == {1, 2}
    fftconv.correlate(np.ones((8, 8)), np.ones((3, 3)), "same", workers=2)
    tiny = [p for p, _ in _engine.calls._data.values() if getattr(p, "out_shape", 0) == (8, 8)]
    assert [p.workers for p in tiny] == [2]  # never split: planned without a reading
    machine(None)  # unknown: the workers asked for
    assert threads.free_threads(2) == 2
    _engine.clear_caches()
