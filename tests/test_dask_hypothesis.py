"""Property test: fftconv.dask equals in-memory fftconv on random chunkings.

Random 1-3-d shapes, kernels (even lengths included), chunkings (chunks of 1, chunks
smaller than the kernel, uneven chunks), every mode and boundary, anchors, batch axes,
float32/float64/complex/integer inputs and NaN. ``FFTCONV_FUZZ=deep`` runs many more
examples.
"""

from __future__ import annotations

import os

import dask
import dask.array as da
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
import fftconv.dask as fd

DEEP = os.environ.get("FFTCONV_FUZZ") == "deep"
BOUNDARIES = ("constant", "reflect", "symmetric", "edge", "wrap")
DTYPES = ("float64", "float32", "complex128", "int32")


@st.composite
def chunking(draw, n):
    """A random partition of ``n`` (ones, tiny and uneven pieces are all likely)."""
    out, left = [], n
    while left:
        c = draw(st.sampled_from([1, 2, 3, left, draw(st.integers(1, max(left, 1)))]))
        c = min(c, left)
        out.append(c)
        left -= c
    return tuple(out) or (0,)


@st.composite
def jobs(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 9 if ndim < 3 else 6)) for _ in range(ndim))
    batch = draw(st.booleans()) and ndim > 1
    axes = tuple(a for a in range(ndim) if not (batch and a == 0)) if batch else None
    conv = axes if axes is not None else tuple(range(ndim))
    mode = draw(st.sampled_from(["full", "same", "valid"]))
    kmax = [shape[a] if mode == "valid" else 7 for a in conv]
    kshape = tuple(draw(st.integers(1, m)) for m in kmax)
    anchor = None
    if mode == "same" and draw(st.booleans()):
        anchor = tuple(draw(st.integers(0, k - 1)) for k in kshape)
    chunks = tuple(draw(chunking(n)) for n in shape)
    tasks = tuple(draw(chunking(n)) for n in shape)  # an explicit chunking for the tasks
    return dict(shape=shape, kshape=kshape, axes=axes, mode=mode, anchor=anchor,
                chunks=chunks, tasks=tasks, separate=draw(st.booleans()),
                boundary=draw(st.sampled_from(BOUNDARIES)),
                dtype=draw(st.sampled_from(DTYPES)), flip=draw(st.booleans()),
                nan=draw(st.booleans()), seed=draw(st.integers(0, 2**31 - 1)))


def _data(job):
    rng = np.random.default_rng(job["seed"])
    dt = np.dtype(job["dtype"])
    if dt.kind == "i":
        x = rng.integers(-50, 50, job["shape"]).astype(dt)
        k = rng.integers(-9, 9, job["kshape"]).astype(dt)
        return x, k, 3
    x = rng.standard_normal(job["shape"])
    k = rng.standard_normal(job["kshape"])
    if dt.kind == "c":
        x = x + 1j * rng.standard_normal(job["shape"])
        k = k + 1j * rng.standard_normal(job["kshape"])
    if job["nan"]:
        x.flat[rng.integers(0, x.size)] = np.nan
    return x.astype(dt), k.astype(dt), 0.5


@settings(max_examples=1500 if DEEP else 60)
@given(jobs())
def test_random_chunkings_equal_in_memory(job):
    x, k, cval = _data(job)
    if job["boundary"] != "constant":  # cval serves only 'constant'
        cval = 0
    opts = dict(axes=job["axes"], boundary=job["boundary"], cval=cval, anchor=job["anchor"])
    ref = fftconv.convolve if job["flip"] else fftconv.correlate
    op = fd.convolve if job["flip"] else fd.correlate
    want = ref(x, k, job["mode"], **opts)
    d = da.from_array(x, chunks=job["chunks"])  # chunks are views of one array
    if job["separate"]:  # chunks in buffers of their own, as read from storage
        d = d.map_blocks(np.array, dtype=d.dtype)
    # 'auto' (small arrays: mostly one task holding whole axes) and an explicit chunking
    # (tasks reading halos from their neighbours), where it holds the halo
    for chunks in ("auto", job["tasks"]):
        try:
            lazy = op(d, k, job["mode"], chunks=chunks, **opts)
        except ValueError as exc:
            assert chunks != "auto" and "cannot hold the halo" in str(exc)
            continue
        assert lazy.shape == want.shape and lazy.dtype == want.dtype
        with dask.config.set(scheduler="sync"):
            got = lazy.compute()
        _same(got, want)


def _same(got, want):
    assert got.dtype == want.dtype
    if want.dtype.kind in "iu":
        np.testing.assert_array_equal(got, want)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    tol = 2e-4 if want.dtype in (np.float32, np.complex64) else 1e-10
    scale = max(float(np.nanmax(np.abs(want), initial=0)), 1.0)
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(want), rtol=0,
                               atol=tol * scale)


NDIMAGE_MODES = ("reflect", "mirror", "nearest", "wrap", "constant")


@st.composite
def filter_jobs(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 9 if ndim < 3 else 6)) for _ in range(ndim))
    wshape = tuple(draw(st.integers(1, 6)) for _ in range(ndim))
    origin = tuple(draw(st.integers(-(k // 2), (k - 1) // 2)) for k in wshape)
    return dict(shape=shape, wshape=wshape, origin=origin,
                chunks=tuple(draw(chunking(n)) for n in shape),
                mode=draw(st.sampled_from(NDIMAGE_MODES)), flip=draw(st.booleans()),
                integer=draw(st.booleans()), seed=draw(st.integers(0, 2**31 - 1)))


@settings(max_examples=1000 if DEEP else 40)
@given(filter_jobs())
def test_ndfilters_equal_scipy_ndimage_on_random_chunkings(job):
    """fftconv.dask.ndfilters against scipy.ndimage: modes, origins, even kernels, dtypes."""
    import scipy.ndimage

    from fftconv.dask import ndfilters

    rng = np.random.default_rng(job["seed"])
    if job["integer"]:
        x = rng.integers(-100, 100, job["shape"]).astype(np.int32)
        w = rng.integers(-5, 5, job["wshape"]).astype(np.int32)
    else:
        x = rng.standard_normal(job["shape"])
        w = rng.standard_normal(job["wshape"])
    ours = ndfilters.convolve if job["flip"] else ndfilters.correlate
    ref = scipy.ndimage.convolve if job["flip"] else scipy.ndimage.correlate
    want = ref(x, w, mode=job["mode"], origin=job["origin"], cval=1.25)
    lazy = ours(da.from_array(x, chunks=job["chunks"]), w, mode=job["mode"],
                origin=job["origin"], cval=1.25)
    with dask.config.set(scheduler="sync"):
        got = lazy.compute()
    assert got.dtype == want.dtype == x.dtype
    if job["integer"]:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * max(np.abs(want).max(), 1))
