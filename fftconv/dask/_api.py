"""``fftconv.dask`` convolve/correlate/explain: validate -> plan the chunks -> build the graph."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Union

import numpy as np

from ._chunks import READ_LIMIT, ChunkReport, normalise_chunks, plan_chunks
from ._core import EFFORTS, Problem, check_option, make_problem, planner_stamp, \
    resolve_max_memory, resolve_workers, strategy_names
from ._halo import Axis, bounds, block_spec, out_bounds, whole_axes
from ._tasks import ChunkJob, chunk_plan, compute_block, joined_view

__all__ = ["build", "run", "explain_job", "is_dask"]

Chunks = Union[Literal["auto"], int, Sequence[Any], dict]


def is_dask(a: object) -> bool:
    """Whether ``a`` is a dask collection (checked without importing dask)."""
    return type(a).__module__.split(".", 1)[0] == "dask" and hasattr(a, "__dask_graph__")


def _inputs(x: object, kernel: object) -> tuple[Any, np.ndarray]:
    import dask.array as da

    if is_dask(kernel):
        raise TypeError("kernel is a dask array; expected an in-memory array (numpy or "
                        "array_like): call kernel.compute() first (the kernel is shipped "
                        "to every worker once)")
    if not isinstance(x, da.Array):
        if is_dask(x):
            raise TypeError(f"x is a {type(x).__name__}; expected a dask.array.Array")
        x = da.asarray(x)
    try:
        k = np.asarray(kernel)
    except Exception as exc:
        raise ValueError(f"kernel could not be converted to an array: {exc}") from None
    return x, k


def _problem(x: Any, k: np.ndarray, flip: bool, conjugate: bool, o: dict) -> Problem:
    return make_problem(x.shape, x.dtype, k.shape, k.dtype, mode=o["mode"], axes=o["axes"],
                        boundary=o["boundary"], cval=o["cval"], anchor=o["anchor"], flip=flip,
                        conjugate=conjugate, dtype=o["dtype"], nan_policy=o["nan_policy"],
                        max_memory=o["max_memory"])


def _block_dtype(problem: Problem) -> np.dtype:
    """The dtype of assembled blocks: ``x``'s, unless ``cval`` does not fit it exactly."""
    xdt = problem.x_dtype
    if problem.boundary != "constant" or problem.pad_is_zero:
        return xdt
    try:
        with np.errstate(all="ignore"):
            fits = bool(np.array(problem.cval).astype(xdt) == problem.cval)
    except (TypeError, ValueError, OverflowError):
        fits = False
    if fits or (isinstance(problem.cval, float) and math.isnan(problem.cval) and xdt.kind in "fc"):
        return xdt
    return problem.compute_dtype


#: Recent chunk plans and task layouts, so a repeated call on the same chunking (a loop
#: over tiles, a benchmark) neither re-plans nor re-lays its tasks.
_MEMO_SIZE = 32
_memo: OrderedDict[tuple, Any] = OrderedDict()
_memo_lock = threading.Lock()


def _memoised(key: tuple | None, make: Callable[[], Any]) -> Any:
    if key is None:
        return make()
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _memo[key]
    value = make()
    with _memo_lock:
        _memo[key] = value
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def views_of_one_array(x: Any) -> bool:
    """Whether ``x``'s chunks are in its graph as views of one numpy array, tiling it as
    ``dask.array.from_array`` slices them (blocks joining them are views, not copies)."""
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    graph = x.__dask_graph__()
    layer = graph.layers.get(x.name) if isinstance(graph, HighLevelGraph) else graph
    if not isinstance(layer, (MaterializedLayer, dict)) or not 1 < x.npartitions <= READ_LIMIT:
        return False
    try:
        arrays = [layer[(x.name, *idx)] for idx in np.ndindex(*x.numblocks)]
    except KeyError:
        return False
    edges = [bounds(c) for c in x.chunks]
    starts = [tuple(e[i] for e, i in zip(edges, idx)) for idx in np.ndindex(*x.numblocks)]
    if not all(isinstance(a, np.ndarray) and a.shape == tuple(e[i + 1] - e[i] for e, i in
                                                               zip(edges, idx))
               for a, idx in zip(arrays, np.ndindex(*x.numblocks))):
        return False
    return joined_view(arrays, starts, tuple(x.shape), x.dtype) is not None


def _plan_key(x: Any, k: np.ndarray, flip: bool, conjugate: bool, o: dict,
              views: bool) -> tuple | None:
    """What a chunk plan depends on, or ``None`` when it cannot be keyed safely."""
    import dask

    try:
        budget = resolve_max_memory(o["max_memory"])
        key = ("plan", views, tuple(x.shape), tuple(x.chunks), x.dtype.str, k.shape, k.dtype.str,
               flip, bool(conjugate), repr(sorted(o.items(), key=lambda kv: kv[0])), budget,
               resolve_workers(None), str(dask.config.get("array.chunk-size", "128MiB")),
               planner_stamp())  # the planner's choices stand only while its stamp does
        hash(key)
    except Exception:  # unhashable or invalid options: plan (and fail) without the memo
        return None
    return key


def _plan(x: Any, k: np.ndarray, flip: bool, conjugate: bool,
          o: dict) -> tuple[Problem, ChunkReport, dict]:
    """Validate everything and choose the chunking (memoised); no graph, no array work."""
    o.setdefault("chunks", "auto")
    views = views_of_one_array(x)
    return _memoised(_plan_key(x, k, flip, conjugate, o, views),
                     lambda: _plan_now(x, k, flip, conjugate, o, views))


def _plan_now(x: Any, k: np.ndarray, flip: bool, conjugate: bool,
              o: dict, views: bool) -> tuple[Problem, ChunkReport, dict]:
    problem = _problem(x, k, flip, conjugate, o)
    method = check_option("method", o["method"], ("auto", *strategy_names()))
    effort = check_option("effort", o["effort"], EFFORTS)
    explicit = normalise_chunks(o.setdefault("chunks", "auto"), x)
    cores = resolve_workers(None)
    per_task = resolve_workers(o["workers"]) if o["workers"] is not None else None
    budget = resolve_max_memory(o["max_memory"])
    import dask
    from dask.utils import parse_bytes

    chunk_bytes = parse_bytes(dask.config.get("array.chunk-size", "128MiB"))
    bdt = _block_dtype(problem)
    options = dict(x_dtype=bdt, kernel_dtype=k.dtype,
                   operation="convolve" if flip else "correlate", axes=problem.axes,
                   method=method, workers=per_task, dtype=o["dtype"],
                   nan_policy=problem.nan_policy, max_memory=budget)
    report = plan_chunks(tuple(x.chunks), problem, explicit=explicit, requested=o["chunks"],
                         block_itemsize=bdt.itemsize, options=options, cores=cores,
                         budget=max(budget // cores, 1), chunk_bytes=chunk_bytes,
                         views=views)
    return problem, report, dict(method=method, effort=effort, block_dtype=bdt, budget=budget)


def explain_job(x: object, kernel: object, *, flip: bool, conjugate: bool,
                **o: Any) -> ChunkReport:
    """The chunk planner's report for a job, building nothing."""
    xa, k = _inputs(x, kernel)
    return _plan(xa, k, flip, conjugate, o)[1]


def build(x: object, kernel: object, *, flip: bool, conjugate: bool,
          **o: Any) -> tuple[Problem, ChunkReport, ChunkJob, Any, np.ndarray, dict]:
    """Validate, plan the chunks and describe every task: ``(problem, report, job, x, kernel,
    {block index: BlockSpec})`` (``x`` rechunked only if its tasks cannot read their blocks
    straight from its chunks). No array work."""
    from dask.base import tokenize

    xa, k = _inputs(x, kernel)
    problem, report, extra = _plan(xa, k, flip, conjugate, o)
    if report.rechunk_layer:
        xa = xa.rechunk(report.chunks)
    anchor = _whole_anchor(problem, report, o["anchor"])
    whole = anchor is not False
    job = ChunkJob(token=tokenize(k), flip=flip, conjugate=bool(conjugate), axes=problem.axes,
                   block_dtype=(problem.x_dtype if whole else extra["block_dtype"]).str,
                   result_dtype=problem.result_dtype.str,
                   cval=problem.cval, method=extra["method"], effort=extra["effort"],
                   workers=report.workers, dtype=None if o["dtype"] is None
                   else np.dtype(o["dtype"]).str,
                   nan_policy=problem.nan_policy, max_memory=extra["budget"],
                   mode=problem.mode if whole else "valid",
                   boundary=problem.boundary if whole else "constant",
                   anchor=None if anchor is False else anchor)
    if math.prod(problem.out_shape) == 0:
        return problem, report, job, xa, k, {}
    key = ("specs", tuple(xa.chunks), report.chunks, repr(problem), k.shape, whole)
    specs = _memoised(key, lambda: _specs(problem, report, tuple(xa.chunks), k.shape, whole))
    return problem, report, job, xa, k, specs


def _whole_anchor(problem: Problem, report: ChunkReport,
                  anchor: object) -> int | tuple[int, ...] | None | bool:
    """The job's anchor when every task holds whole convolved axes, else ``False``.

    A task whose block spans every convolved axis needs no halo: it runs the job's own
    mode, boundary and anchor on its block (the in-memory call, on a slice of the batch
    axes), so neither the boundary extension nor the halo is copied.
    """
    if not whole_axes(report.chunks, problem):
        return False
    if anchor is None or isinstance(anchor, (int, np.integer)):
        return None if anchor is None else int(anchor)
    if not isinstance(anchor, Iterable):  # an anchor only the core's own rules read: keep halos
        return False
    try:
        return tuple(int(v) for v in anchor)
    except (TypeError, ValueError):
        return False


def _specs(problem: Problem, report: ChunkReport, x_chunks: tuple[tuple[int, ...], ...],
           kshape: tuple[int, ...], whole: bool) -> dict:
    """Every task's :class:`BlockSpec`, by output block index (``whole``: every convolved
    axis is read whole, without a halo or boundary extension)."""
    axes = []
    pads = dict(zip(problem.axes, problem.pad))
    for a, n in enumerate(problem.x_shape):
        ib, jb = bounds(x_chunks[a]), bounds(report.chunks[a])  # read from ib, blocks on jb
        if a in pads and whole:
            axes.append(Axis(n, 1, 0, 0, "constant", ib, (0, n)))
        elif a in pads:
            kk = problem.kernel_shape[a]
            lo, hi = pads[a]
            ob = out_bounds(n, kk, lo, problem.out_shape[a], problem.mode, jb)
            axes.append(Axis(n, kk, lo, hi, problem.boundary, ib, ob))
        else:
            axes.append(Axis(n, 1, 0, 0, "constant", ib, jb))
    ndim = len(x_chunks)
    kernel_batched = tuple(problem.kernel_batched and a not in pads and len(kshape) == ndim
                           and kshape[a] != 1 for a in range(ndim))
    nblocks = [len(ax.out_bounds) - 1 for ax in axes]
    return {idx: block_spec(axes, idx, kernel_batched) for idx in np.ndindex(*nblocks)}


def run(x: Any, kernel: Any, *, flip: bool, conjugate: bool, **o: Any) -> Any:
    """The lazy result of a convolution/correlation of a dask array (``x``: a dask array or
    array_like; ``kernel``: an in-memory array_like, a dask one is refused)."""
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    if getattr(x, "ndim", None) == 0 and np.ndim(kernel) == 0:
        return run(x.reshape(1), np.reshape(kernel, 1), flip=flip, conjugate=conjugate,
                   **o).reshape(())
    problem, report, job, xa, k, specs = build(x, kernel, flip=flip, conjugate=conjugate, **o)
    if not specs:
        return da.zeros(problem.out_shape, dtype=problem.result_dtype)
    # Validate the kernel's values (and warm this process's cache) on the commonest shape.
    shapes: dict[tuple, int] = {}
    for spec in specs.values():
        shapes[spec.shape] = shapes.get(spec.shape, 0) + 1
    main = max(specs.values(), key=lambda s: shapes[s.shape])
    chunk_plan(job, main.shape, k, main.kernel_index)
    op = "convolve" if flip else "correlate"
    name = f"fftconv-{op}-" + tokenize(xa.name, job, report.chunks, repr(problem))
    kname = f"fftconv-kernel-{job.token}"
    layer: dict = {kname: k}
    for idx, spec in specs.items():
        deps = [(xa.name, *d) for d in spec.deps]
        layer[(name,) + tuple(idx)] = (compute_block, job, spec, kname, deps)
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[xa])
    out_chunks = report.out_chunks
    meta = np.empty((0,) * xa.ndim, dtype=problem.result_dtype)
    from ._result import Result  # one block: computed without dask's defensive copy

    return Result(graph, name, chunks=out_chunks, dtype=problem.result_dtype, meta=meta)
