"""Task functions: assemble one extended block and run the core's plan on it.

Tasks are plain module-level functions of picklable arguments, so they run on any dask
scheduler, including process pools and ``dask.distributed`` workers. The kernel reaches
them as one graph key (shipped once per worker, not once per task). Each worker process
keeps the plans it built, keyed by the job and the block shape, so the kernel spectrum
and the FFTW plans are made once per chunk shape and reused across chunks.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

import fftconv

from ._core import planner_stamp
from ._halo import BlockSpec

__all__ = ["ChunkJob", "compute_block", "chunk_plan", "joined_view", "plan_cache_info",
           "task_scratch"]

_PLANS_SIZE = 32
_plans: OrderedDict[tuple, fftconv.Plan] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


@dataclass(frozen=True)
class ChunkJob:
    """What every task of one call shares (small and hashable; the kernel travels apart).

    ``token`` identifies the kernel's values; the chunk plans compute a *valid*
    convolution/correlation of the assembled extended block.
    """

    token: str
    flip: bool
    conjugate: bool
    axes: tuple[int, ...]
    block_dtype: str
    result_dtype: str
    cval: complex | float | int
    method: str
    effort: str
    workers: int
    dtype: str | None
    nan_policy: str
    max_memory: int
    mode: str = "valid"
    boundary: str = "constant"
    anchor: int | tuple[int, ...] | None = None


#: Scratch memory a task's plan may always use, whatever its block size.
MIN_SCRATCH = 4 << 20


def task_scratch(shape: tuple[int, ...], itemsize: int, budget: int) -> int:
    """Scratch bytes a task's plan may use: about its block's size (so a task holds at most
    ~3x its chunk plus halo: the block, the output and the scratch), within ``budget``."""
    return max(min(budget, max(math.prod(shape) * itemsize, MIN_SCRATCH)), 1)


def chunk_plan(job: ChunkJob, shape: tuple[int, ...], kernel: np.ndarray,
               kernel_index: tuple[tuple[int, int] | None, ...] | None = None) -> fftconv.Plan:
    """The plan for blocks of ``shape``, built once per process and reused while the
    planner's choices stand (its stamp: learned corrections moved, load came or went, or
    compiled code stopped having its loading to pay)."""
    key = (job, shape, kernel_index, planner_stamp())
    with _lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            _stats["hits"] += 1
            return plan
        _stats["misses"] += 1
    if kernel_index is not None:
        kernel = kernel[tuple(slice(None) if r is None else slice(*r) for r in kernel_index)]
    options: dict[str, Any] = dict(
        mode=job.mode, x_dtype=job.block_dtype, axes=job.axes, method=job.method,
        effort=job.effort, workers=job.workers, dtype=job.dtype, nan_policy=job.nan_policy,
        max_memory=task_scratch(shape, np.dtype(job.block_dtype).itemsize, job.max_memory))
    if job.mode != "valid":  # whole convolved axes: the job's own edges, as in memory
        options.update(boundary=job.boundary, anchor=job.anchor)
        if job.boundary == "constant":
            options["cval"] = job.cval
    if job.flip:
        plan = fftconv.plan_convolve(shape, kernel, **options)
    else:
        plan = fftconv.plan_correlate(shape, kernel, conjugate=job.conjugate, **options)
    with _lock:
        _plans[key] = plan
        while len(_plans) > _PLANS_SIZE:
            _plans.popitem(last=False)
    return plan


def plan_cache_info() -> dict[str, int]:
    """Hits, misses and size of this process's chunk-plan cache (for tests and reports)."""
    with _lock:
        return {**_stats, "size": len(_plans)}


def _root(a: np.ndarray) -> np.ndarray:
    """The array owning ``a``'s memory (``a`` itself if it owns it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def joined_view(views: list[np.ndarray], starts: list[tuple[int, ...]],
                shape: tuple[int, ...], dt: np.dtype) -> np.ndarray | None:
    """One read-only view of ``shape``, of the ``views`` placed at ``starts`` (they tile
    it), when they are adjacent views of one array; else ``None``.

    Chunks sliced from one numpy array (``dask.array.from_array`` does so) tile it: a
    block read from them is a strided view of that array, and needs no copy. Separate
    buffers, mirrored or repeated samples give ``None``.
    """
    if not views:
        return None
    first = views[0]
    root = _root(first)
    origin = None
    for v, at in zip(views, starts):
        if not isinstance(v, np.ndarray) or v.dtype != dt or v.strides != first.strides or \
                _root(v) is not root or any(s < 0 for s in v.strides):
            return None
        ptr = v.__array_interface__["data"][0] - sum(i * s for i, s in zip(at, v.strides))
        if origin is None:
            origin = ptr
        elif ptr != origin:
            return None
    start = next((v for v, at in zip(views, starts) if not any(at)), None)
    if start is None:
        return None
    return np.lib.stride_tricks.as_strided(start, shape=shape, strides=first.strides,
                                           writeable=False)


def _assemble(job: ChunkJob, spec: BlockSpec, chunks: list[np.ndarray]) -> np.ndarray:
    """The extended input block ``x~`` of one task, gathered from its input chunks."""
    dt = np.dtype(job.block_dtype)
    views = [chunks[dep][sel] for dep, sel, _ in spec.pieces]
    if len(views) == 1 and not spec.fill and views[0].shape == spec.shape and \
            views[0].dtype == dt:
        return views[0]
    if not spec.fill and all(v.shape == tuple(d.stop - d.start for d in dst)
                             for v, (_, _, dst) in zip(views, spec.pieces)):
        joined = joined_view(views, [tuple(d.start for d in dst) for _, _, dst in spec.pieces],
                             spec.shape, dt)
        if joined is not None:
            return joined
    block = np.full(spec.shape, job.cval, dt) if spec.fill else np.empty(spec.shape, dt)
    for view, (_, _, dst) in zip(views, spec.pieces):
        block[dst] = view  # length-1 slices broadcast
    return block


def compute_block(job: ChunkJob, spec: BlockSpec, kernel: np.ndarray,
                  chunks: list[np.ndarray]) -> np.ndarray:
    """One output block: assemble ``x~`` for it, then the chunk plan's valid correlation."""
    block = _assemble(job, spec, [np.asarray(c) for c in chunks])
    plan = chunk_plan(job, spec.shape, kernel, spec.kernel_index)
    out = plan(block)
    if out.dtype != job.result_dtype:
        out = out.astype(job.result_dtype)
    return out
