"""fftconv.dask on a real dask.distributed LocalCluster with worker processes."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

import fftconv
import fftconv.dask as fd

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_worker_processes_compute_the_in_memory_result(client):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((96, 80))
    x[5, 7] = np.nan
    k = rng.standard_normal((9, 8))
    d = da.from_array(x, chunks=(20, 32))
    for mode, boundary in (("same", "reflect"), ("full", "wrap"), ("valid", "constant")):
        got = client.compute(fd.convolve(d, k, mode, boundary=boundary)).result()
        want = fftconv.convolve(x, k, mode, boundary=boundary)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(want), rtol=0,
                                   atol=1e-10 * np.nanmax(np.abs(want)))
    xi = rng.integers(-2**35, 2**35, (64, 64))
    got = client.compute(fftconv.correlate(da.from_array(xi, chunks=16), np.ones((5, 5), int),
                                           "same", boundary="edge")).result()
    np.testing.assert_array_equal(got, fftconv.correlate(xi, np.ones((5, 5), int), "same",
                                                         boundary="edge"))


def test_workers_reuse_one_plan_per_block_shape(client):
    """16 tasks of one block shape on 2 worker processes: at most one plan build each."""
    k = np.random.default_rng(4).standard_normal((7, 7))
    before = client.run(fd.plan_cache_info)
    y = fd.correlate(da.ones((128, 128), chunks=32), k, "same", boundary="symmetric",
                     chunks=32)
    y.compute()  # the client is the default scheduler inside the fixture
    after = client.run(fd.plan_cache_info)
    misses = sum(after[w]["misses"] - before[w]["misses"] for w in after)
    hits = sum(after[w]["hits"] - before[w]["hits"] for w in after)
    assert 1 <= misses <= len(after) and misses + hits == 16
