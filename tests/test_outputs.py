"""Recycled output arrays: a large result's memory is given again only once nothing
refers to it, never while a result or any view of one is alive."""

import threading

import numpy as np
import pytest

import fftconv
from fftconv._engine import clear_caches
from fftconv._machine import outputs
from reference import assert_close, naive


@pytest.fixture(autouse=True)
def small_pool(monkeypatch):
    """Pool outputs from 1 KiB, so that small problems exercise it."""
    clear_caches()
    monkeypatch.setattr(outputs, "MIN_BYTES", 1 << 10)
    yield
    clear_caches()


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((64, 60)), rng.standard_normal((3, 3))


def _address(a):
    return a.__array_interface__["data"][0]


def test_a_dropped_result_is_recycled():
    x, k = _problem()
    first = fftconv.correlate(x, k, "same")
    where = _address(first)
    del first
    again = fftconv.correlate(x, k, "same")
    assert _address(again) == where
    assert_close(again, naive(x, k, "same", operation="correlate"), x, k)


@pytest.mark.parametrize("keep", ["result", "view", "slice", "memoryview", "base"])
def test_memory_anything_refers_to_is_never_written(keep):
    x, k = _problem(1)
    first = fftconv.correlate(x, k, "same")
    snapshot = first.copy()
    held = {"result": lambda a: a, "view": lambda a: a.view(), "slice": lambda a: a[3:9, 2:],
            "memoryview": memoryview, "base": lambda a: a.base}[keep](first)
    del first
    other = np.random.default_rng(2).standard_normal(x.shape)
    second = fftconv.correlate(other, k, "same")
    assert_close(second, naive(other, k, "same", operation="correlate"), other, k)
    kept = np.asarray(held)
    if keep == "slice":
        np.testing.assert_array_equal(kept, snapshot[3:9, 2:])
    elif keep == "base":
        np.testing.assert_array_equal(kept.reshape(snapshot.shape), snapshot)
    else:
        np.testing.assert_array_equal(kept, snapshot)


def test_two_results_held_in_a_loop_stay_apart():
    x, k = _problem(3)
    results = [fftconv.correlate(x * i, k, "same") for i in range(1, 7)]
    assert len({_address(r) for r in results}) == len(results)
    for i, r in enumerate(results, 1):
        assert_close(r, naive(x * i, k, "same", operation="correlate"), x * i, k)


def test_the_pool_is_bounded_by_arrays_and_bytes(monkeypatch):
    x, k = _problem(4)
    kept = [fftconv.correlate(x, k, "same") for _ in range(outputs.MAX_ARRAYS + 3)]
    assert len(outputs._pool) <= outputs.MAX_ARRAYS
    monkeypatch.setattr(outputs, "_budget", 2 * kept[0].nbytes)
    fftconv.correlate(x, k, "same")
    assert outputs.held() <= 2 * kept[0].nbytes
    monkeypatch.setattr(outputs, "_budget", kept[0].nbytes // 2)  # too large to keep
    before = outputs.held()
    fftconv.correlate(x, k, "same")
    assert outputs.held() <= before


def test_idle_arrays_are_dropped_and_clear_caches_drops_all(monkeypatch):
    x, k = _problem(5)
    fftconv.correlate(x, k, "same")
    assert outputs.held() > 0
    monkeypatch.setattr(outputs, "IDLE_SECONDS", -1.0)  # every array is idle now
    y = fftconv.correlate(x[:, :50], k, "same")  # another shape: the pool makes room
    assert [e[0].shape for e in outputs._pool] == [(1, *y.shape)]
    clear_caches()
    assert outputs.held() == 0


def test_small_outputs_come_from_numpy(monkeypatch):
    monkeypatch.setattr(outputs, "MIN_BYTES", 8 << 20)
    x, k = _problem(6)
    fftconv.correlate(x, k, "same")
    assert outputs.held() == 0


def test_calls_from_several_threads_each_get_their_own_memory():
    x, k = _problem(7)
    inputs = [x + i for i in range(8)]
    got: dict[int, np.ndarray] = {}

    def work(i):
        for _ in range(20):
            got[i] = fftconv.correlate(inputs[i], k, "same")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, r in got.items():
        assert_close(r, naive(inputs[i], k, "same", operation="correlate"), inputs[i], k)
