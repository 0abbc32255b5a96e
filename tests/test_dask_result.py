"""The lazy result of fftconv.dask: one block computed without dask's defensive copy, and
chunk plans that follow the planner's stamp."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

import fftconv
import fftconv.dask as fd
from fftconv.dask import _result, _tasks


@pytest.fixture(params=["sync", "threads"])
def scheduler(request):
    with dask.config.set(scheduler=request.param):
        yield request.param


def test_one_block_is_returned_without_a_copy_and_stays_the_callers(scheduler, monkeypatch):
    made = []
    compute_block = _tasks.compute_block

    def spy(*args):  # the block the task made
        out = compute_block(*args)
        made.append(out)
        return out

    monkeypatch.setattr("fftconv.dask._api.compute_block", spy)
    x = np.random.default_rng(0).standard_normal((64, 48))
    y = fd.correlate(da.from_array(x, chunks=(64, 48)), np.ones((3, 3)), "same")
    assert isinstance(y, da.Array) and y.npartitions == 1
    got = y.compute()
    assert len(made) == 1 and got is made[0]  # not copied
    np.testing.assert_allclose(got, fftconv.correlate(x, np.ones((3, 3)), "same"), atol=1e-12)
    got[:] = 0  # the caller's array: a second compute is not affected
    again = np.asarray(y)
    assert again is not got and np.abs(again).max() > 0


def test_two_results_of_one_job_share_an_array_only_as_plain_dask_does(scheduler):
    """Two results of one job share their block's key; dask computes and finalizes it
    once for both, and gives both the same array. So does fftconv.dask, no more."""
    x = da.from_array(np.ones((8, 8)), chunks=8)
    y, z = (fd.correlate(x, np.ones((3, 3)), "same") for _ in range(2))
    p, q = x + 1, x + 1
    assert y.name == z.name and p.name == q.name
    a, b = dask.compute(y, z)
    pa, pb = dask.compute(p, q)
    assert (a is b) == (pa is pb)
    np.testing.assert_array_equal(a, b)
    c, d = dask.compute(y, y + 1)  # another result reading the block: still ours
    np.testing.assert_array_equal(c + 1, d)
    assert not np.shares_memory(c, d)


def test_anything_else_gets_dasks_own_finalize(scheduler):
    x = da.from_array(np.arange(64.0 * 48).reshape(64, 48), chunks=(16, 48))
    y = fd.correlate(x, np.ones((3, 3)), "same", chunks=(16, 48))
    assert y.npartitions == 4
    np.testing.assert_allclose(y.compute(), fftconv.correlate(x.compute(), np.ones((3, 3)),
                                                              "same"), atol=1e-9)
    for derived in (y + 1, y[1:], y.rechunk(8), y.persist()):
        assert type(derived) is da.Array  # operations give plain dask arrays


def test_finalize_copies_what_it_cannot_prove_is_the_callers():
    fresh = np.ones((4, 5))
    assert _result._finalize([fresh]) is fresh
    nested = np.ones((4, 5))
    assert _result._finalize([[nested]]) is nested
    again = _result._finalize([fresh])  # handed over already: copied now
    assert again is not fresh and not np.shares_memory(again, fresh)
    frozen = np.ones((4, 5))
    frozen.flags.writeable = False
    out = _result._finalize([frozen])
    assert out is not frozen and out.flags.writeable
    part = np.ones((8, 5))[:4]  # would pin a buffer twice its size
    out = _result._finalize([part])
    assert out is not part and np.shares_memory(out, part) is False
    np.testing.assert_array_equal(_result._finalize([np.ones(2), np.zeros(2)]),
                                  [1, 1, 0, 0])


def test_a_distributed_client_keeps_dasks_copy(monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(distributed, "get_client", lambda: object())
    fresh = np.ones(3)
    assert _result._finalize([fresh]) is not fresh
    monkeypatch.setattr(distributed, "get_client",
                        lambda: (_ for _ in ()).throw(ValueError("No global client")))
    other = np.ones(3)
    assert _result._finalize([other]) is other


def test_chunk_plans_are_made_again_when_the_planners_stamp_moves(scheduler, monkeypatch):
    """A chunk plan chosen before compiled code was worth loading (or before a learned
    correction moved) is not kept past the planner's change of mind."""
    x = da.from_array(np.ones((40, 40)), chunks=20)
    k = np.ones((5, 5))
    fd.correlate(x, k, "same", chunks=20).compute()
    before = fd.plan_cache_info()
    fd.correlate(x, k, "same", chunks=20).compute()
    assert fd.plan_cache_info()["misses"] == before["misses"]  # reused
    moved = (fftconv._planner.stamp(), object())  # a stamp never seen before
    monkeypatch.setattr(_tasks, "planner_stamp", lambda: moved)
    monkeypatch.setattr("fftconv.dask._api.planner_stamp", lambda: moved)
    fd.correlate(x, k, "same", chunks=20).compute()
    assert fd.plan_cache_info()["misses"] > before["misses"]  # planned again
