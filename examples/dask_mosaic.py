"""Convolve a survey mosaic larger than you would hold in memory with a PSF, on dask.

The mosaic is built lazily, tile by tile (a sky of point sources and a smooth
background, like a stitched survey or whole-slide scan), so no process ever holds it
whole. ``fftconv.dask.convolve`` blurs it with a Gaussian point-spread function; every
task convolves one chunk plus a halo with the core's plan for its shape, and the result
is written to a zarr store chunk by chunk (or reduced to a few statistics when zarr is
not installed), with a progress bar. The script then checks a tile of the result against
in-memory ``fftconv.convolve`` on the same tile's neighbourhood.

    python examples/dask_mosaic.py [--size 16384] [--chunk 2048] [--sigma 6]
                                   [--out mosaic.zarr] [--scheduler tcp://host:8786]
                                   [--local-cluster]

Without ``--scheduler`` it runs on dask's threaded scheduler in this process.
``--local-cluster`` starts a ``dask.distributed.LocalCluster`` (worker processes on this
machine); ``--scheduler tcp://host:8786`` connects to a running cluster. The code that
builds and convolves the mosaic is the same in all three cases: only the ``Client`` line
differs.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile

import dask
import dask.array as da
import numpy as np

import fftconv
import fftconv.dask
from fftconv.kernels import gaussian


def tile(block_id: tuple[int, int], chunk: int) -> np.ndarray:
    """One tile of the mosaic: a background gradient plus sparse point sources."""
    rng = np.random.default_rng(block_id[0] * 100_003 + block_id[1])
    yy, xx = np.mgrid[0:chunk, 0:chunk].astype(np.float32)
    sky = 0.01 * (yy + xx) / chunk + 0.1
    stars = rng.random((chunk, chunk), dtype=np.float32)
    sky += np.where(stars > 0.9995, 50.0 * stars, 0.0).astype(np.float32)
    return sky.astype(np.float32)


def mosaic(size: int, chunk: int) -> da.Array:
    """A lazy ``size x size`` float32 mosaic of ``chunk x chunk`` tiles."""
    blank = da.zeros((size, size), dtype=np.float32, chunks=chunk)
    return blank.map_blocks(lambda b, block_id=None: tile(block_id, chunk)[:b.shape[0],
                                                                         :b.shape[1]],
                            dtype=np.float32, meta=np.empty((0, 0), np.float32))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=16384, help="mosaic side (default 16384)")
    ap.add_argument("--chunk", type=int, default=2048, help="tile side (default 2048)")
    ap.add_argument("--sigma", type=float, default=6.0, help="PSF sigma in pixels")
    ap.add_argument("--out", help="zarr store to write (default: a temporary directory)")
    ap.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    ap.add_argument("--local-cluster", action="store_true",
                    help="start a LocalCluster with worker processes on this machine")
    args = ap.parse_args()

    psf = gaussian(args.sigma).astype(np.float32)  # (6*sigma+1)^2 taps, sums to 1
    sky = mosaic(args.size, args.chunk)
    blurred = fftconv.dask.convolve(sky, psf, "same", boundary="reflect")
    print(fftconv.dask.explain(sky, psf, "same", boundary="reflect"))

    with contextlib.ExitStack() as stack:
        if args.scheduler or args.local_cluster:
            from distributed import Client, LocalCluster, progress

            if args.scheduler:  # a cluster somewhere: Client("tcp://host:8786")
                client = stack.enter_context(Client(args.scheduler))
            else:
                cluster = stack.enter_context(LocalCluster(processes=True))
                client = stack.enter_context(Client(cluster))
            print("dashboard:", client.dashboard_link)

            def run(collection):
                future = client.compute(collection)
                progress(future)
                print()
                return future.result()
        else:
            from dask.diagnostics import ProgressBar

            def run(collection):
                with ProgressBar():
                    return dask.compute(collection)[0]

        try:
            import zarr  # noqa: F401
        except ImportError:
            print("zarr is not installed: computing statistics instead of writing")
            total, peak = run(da.stack([blurred.sum(), blurred.max()]))
            print(f"sum {total:.6g}, max {peak:.6g}")
        else:
            out = args.out or stack.enter_context(tempfile.TemporaryDirectory()) + "/m.zarr"
            run(blurred.to_zarr(out, overwrite=True, compute=False))
            print(f"wrote {blurred.shape} {blurred.dtype} to {out}")
            blurred = da.from_zarr(out)

        # Check one tile against in-memory fftconv on its neighbourhood.
        r = psf.shape[0] // 2
        c = min(args.chunk, args.size // 2)
        lo, hi = max(c - 2 * r, 0), min(2 * c + 2 * r, args.size)
        patch = sky[lo:hi, lo:hi].compute()
        want = fftconv.convolve(patch, psf, "same", boundary="reflect")[c - lo:2 * c - lo,
                                                                         c - lo:2 * c - lo]
        got = run(blurred[c:2 * c, c:2 * c])
        err = float(np.max(np.abs(got - want)))
        print(f"tile check: max |difference| = {err:.3g}")
        return 0 if err < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
