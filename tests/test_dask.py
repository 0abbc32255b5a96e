"""fftconv.dask against in-memory fftconv and scipy.ndimage, on dask's local schedulers."""

from __future__ import annotations

import os
import subprocess
import sys

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.ndimage

import fftconv
import fftconv.dask as fd

BOUNDARIES = ("constant", "reflect", "symmetric", "edge", "wrap")
rng = np.random.default_rng(12)


@pytest.fixture(params=["sync", "threads"])
def scheduler(request):
    with dask.config.set(scheduler=request.param):
        yield request.param


def close(got, want, dtype=np.float64):
    assert got.shape == want.shape and got.dtype == want.dtype
    tol = 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10
    scale = max(float(np.nanmax(np.abs(want), initial=0)), 1.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)


#: 'auto' (a small array: one task holding whole axes) and explicit chunks (halo tasks).
TASK_CHUNKS = ["auto", "explicit"]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("tasks", TASK_CHUNKS)
def test_every_mode_and_boundary_2d(scheduler, mode, boundary, tasks):
    x = rng.standard_normal((23, 30))
    k = rng.standard_normal((6, 5))  # even length on one axis
    d = da.from_array(x, chunks=((4, 9, 10), (1, 2, 27)))
    cval = 1.5 if boundary == "constant" else 0.0  # cval serves only 'constant'
    chunks = "auto" if tasks == "auto" else ((8, 8, 7), (10, 10, 10))
    for op, ref in ((fd.convolve, fftconv.convolve), (fd.correlate, fftconv.correlate)):
        got = op(d, k, mode, boundary=boundary, cval=cval, chunks=chunks)
        assert isinstance(got, da.Array)
        want = ref(x, k, mode, boundary=boundary, cval=cval)
        assert got.shape == want.shape
        close(got.compute(), want)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_halo_wider_than_the_array_repeats_the_rule(scheduler, boundary):
    """A kernel longer than the array: numpy.pad's repeated extension, on every chunking."""
    x = rng.standard_normal(7)
    k = rng.standard_normal(19)
    for chunks in (1, 3, 7):
        got = fd.correlate(da.from_array(x, chunks=chunks), k, "same", boundary=boundary)
        close(got.compute(), fftconv.correlate(x, k, "same", boundary=boundary))


@pytest.mark.parametrize("tasks", TASK_CHUNKS)
def test_anchor_even_kernel_and_scipy_ndimage_oracle(scheduler, tasks):
    x = rng.standard_normal((17, 19))
    w = rng.standard_normal((4, 6))
    d = da.from_array(x, chunks=(5, 4))
    if tasks == "explicit":
        d = d.rechunk(6)  # every chunk holds the halo: the tasks keep them
    for mode, bnd in (("reflect", "symmetric"), ("mirror", "reflect"), ("nearest", "edge"),
                      ("wrap", "wrap"), ("constant", "constant")):
        for origin in ((0, 0), (-2, 2), (1, -3)):
            anchor = tuple(s // 2 + o for s, o in zip(w.shape, origin))
            cval = 0.5 if bnd == "constant" else 0.0  # cval serves only 'constant'
            got = fd.correlate(d, w, "same", boundary=bnd, anchor=anchor, cval=cval)
            want = scipy.ndimage.correlate(x, w, mode=mode, origin=origin, cval=cval)
            close(got.compute(), want)


def test_3d_uneven_chunks(scheduler):
    x = rng.standard_normal((9, 10, 11))
    k = rng.standard_normal((3, 4, 2))
    d = da.from_array(x, chunks=(4, 3, 5))
    got = fd.convolve(d, k, "same", boundary="wrap")
    close(got.compute(), fftconv.convolve(x, k, "same", boundary="wrap"))


def test_batch_axes_stack_chunked_on_t(scheduler):
    """A (T, Y, X) stack convolved along (Y, X), chunked on T: no halo along T."""
    x = rng.standard_normal((6, 20, 21))
    k = rng.standard_normal((5, 5))
    d = da.from_array(x, chunks=(1, 20, 21))
    got = fd.correlate(d, k, "same", axes=(1, 2), boundary="reflect")
    assert got.chunks[0] == (1,) * 6
    close(got.compute(), fftconv.correlate(x, k, "same", axes=(1, 2), boundary="reflect"))
    kb = rng.standard_normal((6, 3, 3))  # one kernel per frame
    d2 = da.from_array(x, chunks=(4, 7, 21))
    got = fd.convolve(d2, kb, "full", axes=(1, 2))
    close(got.compute(), fftconv.convolve(x, kb, "full", axes=(1, 2)))


@pytest.mark.parametrize("tasks", TASK_CHUNKS)
def test_integers_exact(scheduler, tasks):
    x = rng.integers(-2**40, 2**40, size=(40, 33), dtype=np.int64)
    k = rng.integers(-1000, 1000, size=(9, 9), dtype=np.int64)
    d = da.from_array(x, chunks=(7, 11))
    chunks = "auto" if tasks == "auto" else (10, 11)
    got = fd.correlate(d, k, "same", boundary="symmetric", chunks=chunks).compute()
    want = fftconv.correlate(x, k, "same", boundary="symmetric")
    assert got.dtype == want.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    u = rng.integers(0, 255, size=(30, 30), dtype=np.uint8)
    got = fd.convolve(da.from_array(u, chunks=8), np.ones((3, 3), np.uint8), "full", cval=300)
    np.testing.assert_array_equal(got.compute(),
                                  fftconv.convolve(u, np.ones((3, 3), np.uint8), "full",
                                                   cval=300))


@pytest.mark.parametrize("nan_policy", ["propagate", "omit"])
@pytest.mark.parametrize("tasks", TASK_CHUNKS)
def test_nan_footprint_equals_in_memory(scheduler, nan_policy, tasks):
    x = rng.standard_normal((64, 64))
    x[rng.random(x.shape) < 0.01] = np.nan
    x[10, 40] = np.inf
    k = rng.random((15, 15)) + 0.1
    d = da.from_array(x, chunks=(20, 13))
    chunks = "auto" if tasks == "auto" else 16
    for method in ("auto", "fft", "direct"):
        got = fd.correlate(d, k, "same", boundary="edge", method=method,
                           nan_policy=nan_policy, chunks=chunks).compute()
        want = fftconv.correlate(x, k, "same", boundary="edge", method=method,
                                 nan_policy=nan_policy)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        close(np.nan_to_num(got, posinf=0, neginf=0), np.nan_to_num(want, posinf=0, neginf=0))


def test_complex_and_float32(scheduler):
    x = rng.standard_normal((25, 26)) + 1j * rng.standard_normal((25, 26))
    k = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    d = da.from_array(x, chunks=6)
    for conj in (True, False):
        got = fd.correlate(d, k, "same", conjugate=conj, boundary="reflect")
        close(got.compute(), fftconv.correlate(x, k, "same", conjugate=conj,
                                               boundary="reflect"))
    x32 = rng.standard_normal((50, 40)).astype(np.float32)
    k32 = rng.standard_normal((11, 11)).astype(np.float32)
    got = fd.convolve(da.from_array(x32, chunks=16), k32, "valid")
    assert got.dtype == np.float32
    close(got.compute(), fftconv.convolve(x32, k32, "valid"), np.float32)


def test_explicit_chunks_are_honoured():
    x = rng.standard_normal((40, 40))
    d = da.from_array(x, chunks=5)
    got = fd.correlate(d, np.ones((3, 3)), "same", chunks=(10, 20))
    assert got.chunks == ((10,) * 4, (20, 20))
    close(got.compute(), fftconv.correlate(x, np.ones((3, 3)), "same"))


def test_auto_rechunks_chunks_smaller_than_the_halo():
    x = rng.standard_normal((50, 50))
    d = da.from_array(x, chunks=2)
    k = np.ones((9, 9))
    report = fd.explain(d, k, "same")
    assert report.rechunk and all(c >= 4 for c in report.chunks[0][:-1])
    assert "cannot hold the halo" in str(report)
    got = fd.convolve(d, k, "same")
    assert got.chunks == report.out_chunks
    close(got.compute(), fftconv.convolve(x, k, "same"))


def test_explain_report_table():
    x = da.zeros((4096, 4096), dtype=np.float32, chunks=256)
    report = fd.explain(x, np.ones((63, 63), np.float32), "same", operation="correlate")
    text = str(report)
    assert "halo axis 0: 31+31" in text and "(256 x16, 256 x16)" in text
    chosen = [c for c in report.candidates if c.chosen]
    assert len(chosen) == 1 and chosen[0].chunks == report.chunks
    assert report.rechunk and report.method in {"fft", "overlap"}
    assert all(c.overhead >= 1 for c in report.candidates)


def test_plans_are_built_once_per_block_shape():
    x = da.from_array(rng.standard_normal((64, 64)), chunks=16)
    k = rng.standard_normal((5, 5))
    before = fd.plan_cache_info()
    y = fd.correlate(x, k, "same", chunks=16)
    with dask.config.set(scheduler="threads"):
        y.compute()
    after = fd.plan_cache_info()
    # 16 tasks; every block has the same extended shape (20 x 20): one plan, built once.
    assert after["misses"] - before["misses"] == 1
    assert after["hits"] - before["hits"] >= 16


def _tasks_of(y):
    """The (job, spec) of every convolution task in ``y``'s graph."""
    from fftconv.dask._tasks import compute_block

    return [(v[1], v[2]) for v in dict(y.__dask_graph__()).values()
            if isinstance(v, tuple) and v and v[0] is compute_block]


def test_auto_runs_chunks_of_one_array_as_one_task(scheduler):
    """Chunks sliced from one array: one task of whole axes reads them as a view (the
    in-memory call, on the threads of the machine), beating halo tasks that copy."""
    x = rng.standard_normal((256, 256)).astype(np.float32)
    k = rng.standard_normal((7, 7)).astype(np.float32)
    d = da.from_array(x, chunks=64)
    y = fd.correlate(d, k, "same", boundary="symmetric")
    assert y.chunks == ((256,), (256,)) and fd.explain(d, k, "same").tasks == 1
    (job, spec), = _tasks_of(y)
    assert (job.mode, job.boundary, spec.shape, spec.fill) == ("same", "symmetric",
                                                               (256, 256), False)
    close(y.compute(), fftconv.correlate(x, k, "same", boundary="symmetric"), np.float32)
    with dask.config.set({"array.chunk-size": "64KiB"}):  # too big a chunk for dask
        report = fd.explain(d, k, "same", boundary="symmetric")
    assert report.tasks > 1 and all(len(c) > 1 for c in report.out_chunks)


def test_planner_knows_chunks_that_are_views_of_one_array():
    from fftconv.dask._api import views_of_one_array

    x = rng.standard_normal((64, 64))
    d = da.from_array(x, chunks=16)
    own = d.map_blocks(np.array, dtype=d.dtype).persist(scheduler="sync")
    assert views_of_one_array(d) and views_of_one_array(d.persist(scheduler="sync"))
    assert not views_of_one_array(own)
    assert not views_of_one_array(d[:, 8:])  # a slicing layer: not chunks in the graph
    assert not views_of_one_array(da.from_array(x, chunks=64))  # one chunk: nothing to join
    whole = {}
    for name, arr in (("views", d), ("own", own)):
        report = fd.explain(arr, np.ones((5, 5)), "same")
        whole[name] = next(c for c in report.candidates if c.chunks == ((64,), (64,)))
    assert whole["views"].seconds < whole["own"].seconds  # the join of 16 chunks, copied
    got = fd.correlate(own, np.ones((5, 5)), "same").compute(scheduler="sync")
    close(got, fftconv.correlate(x, np.ones((5, 5)), "same"))


def test_stack_chunked_on_batch_axis_needs_no_halo(scheduler):
    x = rng.standard_normal((6, 20, 21))
    k = rng.standard_normal((4, 5))
    d = da.from_array(x, chunks=(2, 20, 21))
    for mode in ("full", "same", "valid"):
        y = fd.convolve(d, k, mode, axes=(1, 2), boundary="wrap", chunks=(2, 20, 21))
        tasks = _tasks_of(y)
        assert len(tasks) == 3 and all(j.mode == mode and s.shape == (2, 20, 21)
                                       for j, s in tasks)
        close(y.compute(), fftconv.convolve(x, k, mode, axes=(1, 2), boundary="wrap"))


def test_blocks_of_views_of_one_array_are_not_copied():
    """Chunks sliced from one array (from_array) give a task its block as a view; chunks
    in buffers of their own, and mirrored edges, are copied."""
    from fftconv.dask._api import build
    from fftconv.dask._tasks import _assemble

    x = rng.standard_normal((40, 40))
    k = np.ones((5, 5))
    for separate in (False, True):
        d = da.from_array(x, chunks=10)
        if separate:
            d = d.map_blocks(np.array, dtype=d.dtype).persist(scheduler="sync")
        opts = dict(flip=False, conjugate=True, mode="same", axes=None, cval=0, anchor=None,
                    method="auto", effort="estimate", workers=None, dtype=None,
                    nan_policy="propagate", max_memory=None)
        graph = dict(d.__dask_graph__())
        for chunks, boundary, idx, view in ((None, "reflect", (0, 0), True),
                                            (10, "reflect", (1, 2), True),
                                            (10, "reflect", (0, 1), False)):
            _, _, job, xa, _, specs = build(d, k, boundary=boundary,
                                            chunks="auto" if chunks is None else chunks,
                                            **opts)
            spec = specs[idx]
            block = _assemble(job, spec, [graph[(xa.name, *dep)] for dep in spec.deps])
            assert (block.base is not None and not block.flags.owndata) == \
                (view and not separate)
            rows = [slice(None)] * 2
            if chunks is None:  # whole axes: the block is x itself
                np.testing.assert_array_equal(block, x)
            else:  # rows and columns read from x~ (reflect: mirrored about the edge)
                rows = [np.abs(np.arange(b * 10 - 2, b * 10 + 12)) for b in idx]
                np.testing.assert_array_equal(block, x[np.ix_(*rows)])


def test_kernel_is_one_graph_key():
    k = rng.standard_normal((7, 7))
    y = fd.correlate(da.zeros((64, 64), chunks=16), k, "same", chunks=16)
    graph = dict(y.__dask_graph__())
    holders = [key for key, v in graph.items() if isinstance(v, np.ndarray) and v.shape == k.shape]
    assert len(holders) == 1
    assert all(k.ctypes.data != getattr(v, "ctypes", None) for v in graph.values()
               if not isinstance(v, np.ndarray))


def test_core_entry_point_returns_lazy_and_never_computes():
    calls = []

    def boom(block):
        calls.append(1)
        raise AssertionError("computed")

    x = da.zeros((32, 32), chunks=8).map_blocks(boom, dtype=float, meta=np.empty((0, 0)))
    assert calls == []
    y = fftconv.convolve(x, np.ones((3, 3)), "same")
    z = fftconv.correlate(x, np.ones((3, 3)), "full", boundary="wrap")
    assert isinstance(y, da.Array) and isinstance(z, da.Array)
    assert y.shape == (32, 32) and z.shape == (34, 34) and calls == []
    ok = da.from_array(np.arange(20.0), chunks=6)
    np.testing.assert_allclose(fftconv.convolve(ok, [1.0, 2.0]).compute(),
                               fftconv.convolve(np.arange(20.0), [1.0, 2.0]))


def test_import_fftconv_does_not_import_dask():
    code = "import sys, fftconv; fftconv.convolve([1, 2], [1]); print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ errors
def test_error_valid_kernel_larger_than_array():
    with pytest.raises(ValueError, match=r"mode='valid' needs the kernel .* 9 > 8"):
        fd.convolve(da.zeros((8, 8), chunks=4), np.ones((9, 3)), "valid")


def test_error_explicit_chunks_cannot_hold_the_halo():
    with pytest.raises(ValueError, match=r"chunks=\(3, 3\) cannot hold the halo: along axis "
                                         r"0 the halo reaches 4 samples .*chunks='auto'"):
        fd.correlate(da.zeros((20, 20), chunks=10), np.ones((9, 3)), "same", chunks=(3, 3))


def test_error_dask_kernel():
    with pytest.raises(TypeError, match="kernel is a dask array; expected an in-memory"):
        fd.convolve(da.zeros((8, 8), chunks=4), da.ones((3, 3), chunks=3))
    with pytest.raises(TypeError, match="kernel is a dask array"):
        fftconv.convolve(np.zeros((8, 8)), da.ones((3, 3), chunks=3))


@pytest.mark.parametrize("chunks, match", [
    ("big", r"chunks='big' is invalid; expected one of 'auto', or an explicit chunk spec: an "
            r"int, a tuple with an int"),
    (None, r"chunks=None is invalid; expected one of 'auto'"),
    ((3, 3, 3), r"chunks=\(3, 3, 3\) is invalid for an array of shape \(8, 8\)"),
    (((4, 5), 4), r"chunks=\(\(4, 5\), 4\) is invalid for an array of shape \(8, 8\)"),
])
def test_error_bad_chunks(chunks, match):
    with pytest.raises(ValueError, match=match):
        fd.convolve(da.zeros((8, 8), chunks=4), np.ones((3, 3)), chunks=chunks)


def test_error_bad_option_before_any_graph():
    with pytest.raises(ValueError, match=r"boundary='wrapp' is invalid; expected one of"):
        fd.convolve(da.zeros((8, 8), chunks=4), np.ones((3, 3)), "same", boundary="wrapp")
    with pytest.raises(ValueError, match=r"method='fast' is invalid; expected one of 'auto'"):
        fd.convolve(da.zeros((8, 8), chunks=4), np.ones((3, 3)), method="fast")
    with pytest.raises(ValueError, match=r"operation='conv' is invalid"):
        fd.explain(da.zeros((8, 8), chunks=4), np.ones((3, 3)), operation="conv")
    with pytest.raises(ValueError, match="nan_policy='omit' needs a kernel that does not sum"):
        fd.convolve(da.zeros((8, 8), chunks=4), np.array([[1.0, -1.0]]), nan_policy="omit")


def test_docstring_examples():
    import doctest

    result = doctest.testmod(fd, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("shape", [(0, 5), (5, 0)])
@pytest.mark.parametrize("mode", ["full", "same"])
def test_empty_arrays(shape, mode):
    y = fd.convolve(da.zeros(shape, chunks=2), np.ones((3, 3)), mode)
    want = fftconv.convolve(np.zeros(shape), np.ones((3, 3)), mode)
    assert y.shape == want.shape and y.compute().shape == want.shape
    assert fd.explain(da.zeros(shape, chunks=2), np.ones((3, 3)), mode).tasks == 0


def test_scalars_and_numpy_input():
    y = fd.convolve(da.from_array(np.array(3.0)), np.array(2.0))
    assert y.shape == () and y.compute() == 6.0
    got = fd.convolve(np.arange(10.0), [1.0, 2.0, 3.0], "same")
    assert isinstance(got, da.Array)
    close(got.compute(), fftconv.convolve(np.arange(10.0), [1.0, 2.0, 3.0], "same"))


def test_full_and_valid_output_chunks_follow_the_input():
    y = fd.convolve(da.ones((20, 20), chunks=5), np.ones((3, 3)), "full", chunks=5)
    assert y.chunks == ((6, 5, 5, 6),) * 2
    y = fd.convolve(da.ones((20, 20), chunks=5), np.ones((3, 3)), "valid", chunks=5)
    assert y.chunks == ((4, 5, 5, 4),) * 2
    np.testing.assert_array_equal(y.compute(), np.full((18, 18), 9.0))


def test_nan_policy_raise_at_compute_time():
    y = fd.convolve(da.from_array(np.full((8, 8), np.nan), chunks=4), np.ones((3, 3)),
                    nan_policy="raise")
    with pytest.raises(ValueError, match="non-finite values"):
        y.compute()


def test_mosaic_example_runs(tmp_path):
    """examples/dask_mosaic.py writes the blurred mosaic and its tile check passes."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "dask_mosaic.py"
    out = subprocess.run([sys.executable, str(script), "--size", "512", "--chunk", "128",
                          "--sigma", "2", "--out", str(tmp_path / "m.zarr")],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
                         env={**os.environ, "PYTHONPATH": str(script.parents[1])}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "tile check: max |difference|" in out.stdout and "wrote (512, 512)" in out.stdout
