"""The chunk-aware planner: which chunking a job runs on, and why.

Each task computes one output block from its input chunk plus a halo read from the
neighbouring chunks. With ``chunks='auto'`` the planner compares the input's own
chunking with uniform chunkings of the convolved axes, costing each with the core's cost
model (``fftconv.explain`` on the extended block shape) plus a per-task overhead, the halo
copy and, when it rechunks, the cost of moving the data; candidates whose tasks would not
fit the memory budget, or whose chunks are smaller than the halo, are rejected. An explicit
chunk spec is honoured as it is, or refused with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import fftconv

from ._core import Problem, fmt_bytes as _fmt_bytes, fmt_seconds as _fmt_seconds, invalid_option
from ._halo import bounds, depth, whole_axes
from ._tasks import task_scratch

__all__ = ["ChunkCandidate", "ChunkReport", "plan_chunks", "check_holds", "normalise_chunks",
           "reads_directly"]

#: Fixed cost of one task, seconds: dask's threaded scheduler takes about 0.25 ms per
#: output block of ``map_blocks`` on a 2-core machine (the block's task and its input's),
#: in the scheduler's own thread, so it adds up over the tasks rather than the cores.
TASK_OVERHEAD = 3e-4
#: Bandwidth of copying and rechunking data between tasks, bytes per second.
COPY_BANDWIDTH = 1.5e9
#: A task reads its block straight from at most this many input chunks (a chunking other
#: than the input's costs no extra pass over the data); beyond that the input is rechunked
#: first, in a dask rechunk layer.
READ_LIMIT = 64


def normalise_chunks(chunks: object, x: Any) -> tuple[tuple[int, ...], ...] | None:
    """``None`` for ``'auto'``, else dask's normal form of an explicit chunk spec for ``x``."""
    if isinstance(chunks, str) and chunks == "auto":
        return None
    from dask.array.core import normalize_chunks

    note = (", or an explicit chunk spec: an int, a tuple with an int or a tuple of ints per "
            "axis, or a dict {axis: int}")
    if isinstance(chunks, str) or isinstance(chunks, (bool, np.bool_)) or chunks is None:
        raise invalid_option("chunks", chunks, ("auto",), note)
    try:
        out = normalize_chunks(chunks, x.shape, dtype=x.dtype, previous_chunks=x.chunks)
    except Exception as exc:  # dask's own messages vary; name the parameter
        raise ValueError(f"chunks={chunks!r} is invalid for an array of shape "
                         f"{x.shape}: {exc}") from None
    if any(c <= 0 for axis, n in zip(out, x.shape) if n for c in axis):
        raise ValueError(f"chunks={chunks!r} is invalid: chunk lengths must be positive")
    return tuple(tuple(int(c) for c in axis) for axis in out)


def _depths(problem: Problem) -> dict[int, tuple[int, int]]:
    return {a: depth(k, lo, problem.mode)
            for a, k, (lo, _) in zip(problem.axes, problem.k, problem.pad)}


def holds(chunks: tuple[tuple[int, ...], ...], problem: Problem) -> str | None:
    """``None`` if every task's halo lies in its neighbouring chunks, else why not."""
    for a, (before, after) in _depths(problem).items():
        c = chunks[a]
        if len(c) < 2:
            continue
        if min(c[:-1]) < before or min(c[1:]) < after:
            return (f"along axis {a} the halo reaches {before} samples before and {after} "
                    f"after each chunk, but the chunks are {_fmt_chunks(c)}")
    return None


def _spans(x_bounds: tuple[int, ...], c: tuple[int, ...], before: int, after: int) -> int:
    """Most input chunks (boundaries ``x_bounds``) one chunk of ``c`` reads with its halo."""
    edges = np.asarray(x_bounds)
    starts = np.asarray(bounds(c)[:-1])
    lo = np.clip(starts - before, 0, edges[-1] - 1)
    hi = np.clip(starts + np.asarray(c) + after, 1, edges[-1])
    first = np.searchsorted(edges, lo, side="right") - 1
    last = np.searchsorted(edges, hi - 1, side="right") - 1
    return int((last - first).max(initial=0)) + 1


def reads_directly(x_chunks: tuple[tuple[int, ...], ...], chunks: tuple[tuple[int, ...], ...],
                   problem: Problem) -> bool:
    """Whether tasks of ``chunks`` read their blocks straight from the input's chunks
    (at most :data:`READ_LIMIT` each), so the input needs no rechunk layer."""
    if chunks == x_chunks:
        return True
    depths = _depths(problem)
    total = 1
    for a, (xc, c) in enumerate(zip(x_chunks, chunks)):
        if xc == c or not sum(c):
            continue
        total *= _spans(bounds(xc), c, *depths.get(a, (0, 0)))
        if total > READ_LIMIT:
            return False
    return True


def check_holds(chunks: tuple[tuple[int, ...], ...], problem: Problem, spec: object) -> None:
    """Raise for explicit chunks that cannot hold the halo (they may not be rechunked)."""
    why = holds(chunks, problem)
    if why is not None:
        raise ValueError(f"chunks={spec!r} cannot hold the halo: {why}; pass larger chunks, "
                         "or chunks='auto' to let the planner rechunk")


def _fmt_chunks(c: tuple[int, ...]) -> str:
    if len(set(c[:-1])) <= 1:
        return f"{c[0]}" + ("" if len(c) == 1 else f" x{len(c) - 1} + {c[-1]}" if c[-1] != c[0]
                            else f" x{len(c)}")
    return f"{min(c)}..{max(c)} ({len(c)} chunks)"


def _uniform(n: int, c: int, before: int, after: int) -> tuple[int, ...]:
    """``n`` in chunks of ``c``; a last chunk too small for the halo joins its neighbour."""
    if n <= c:
        return (n,)
    q, r = divmod(n, c)
    out = [c] * q + ([r] if r else [])
    if len(out) > 1 and out[-1] < max(before, after):
        last = out.pop()
        out[-1] += last
    return tuple(out)


@dataclass(frozen=True)
class ChunkCandidate:
    """One chunking as the planner saw it."""

    label: str
    chunks: tuple[tuple[int, ...], ...]
    tasks: int
    overhead: float
    task_memory: int
    seconds: float | None
    method: str | None
    rejected: str | None = None
    chosen: bool = False


@dataclass(frozen=True)
class ChunkReport:
    """The dask planner's decision; ``str()`` is a table of every chunking it weighed.

    Attributes
    ----------
    problem : Problem
        The whole job (as the in-memory call would see it).
    input_chunks, chunks, out_chunks : tuple of tuple of int
        The array's chunks, the chunks the job runs on, and the result's chunks.
    rechunk : bool
        Whether the job runs on chunks other than the input's.
    rechunk_layer : bool
        Whether that needs a dask rechunk first; otherwise each task reads its block
        straight from the input chunks it overlaps (no extra pass over the data).
    candidates : tuple of ChunkCandidate
        Every chunking weighed (``chunks='auto'``), or the one given.
    blocks : tuple of (tuple of int, int, str, float)
        Per distinct extended block shape: the shape, how many tasks have it, the
        strategy the core planner picks for it, and its estimated seconds.
    workers : int
        Threads per task.
    """

    problem: Problem
    requested: str
    input_chunks: tuple[tuple[int, ...], ...]
    chunks: tuple[tuple[int, ...], ...]
    out_chunks: tuple[tuple[int, ...], ...]
    rechunk: bool
    candidates: tuple[ChunkCandidate, ...]
    blocks: tuple[tuple[tuple[int, ...], int, str, float], ...] = field(default=())
    workers: int = 1
    rechunk_layer: bool = False

    @property
    def tasks(self) -> int:
        """Number of output blocks (convolution tasks)."""
        if math.prod(self.problem.out_shape) == 0:
            return 0
        return math.prod(len(c) for c in self.out_chunks)

    @property
    def method(self) -> str:
        """The strategy of the most common block shape."""
        return max(self.blocks, key=lambda b: b[1])[2] if self.blocks else "none"

    def __str__(self) -> str:
        p = self.problem
        depths = _depths(p)
        halo = ", ".join(f"axis {a}: {b}+{f}" for a, (b, f) in depths.items())
        if whole_axes(self.chunks, p):
            halo += " (none read: every task holds whole convolved axes)"
        head = [f"fftconv.dask plan: {p.describe()}",
                f"input chunks {_shape(self.input_chunks)} -> "
                f"{_moved(self)}{_shape(self.chunks)}; "
                f"chunks={self.requested!r}",
                f"halo {halo}; {self.tasks} tasks, {self.workers} thread(s) per task; "
                f"output chunks {_shape(self.out_chunks)}"]
        rows = [("", "chunking", "tasks", "halo x", "task memory", "estimate", "strategy",
                 "detail")]
        for c in self.candidates:
            rows.append(("*" if c.chosen else "", _shape(c.chunks), str(c.tasks),
                         f"{c.overhead:.2f}", _fmt_bytes(c.task_memory),
                         _fmt_seconds(c.seconds), c.method or "-", c.rejected or c.label))
        lines = _table(rows)
        blocks = [("block shape", "tasks", "strategy", "estimate")]
        for shape, count, method, secs in self.blocks:
            blocks.append(("x".join(map(str, shape)), str(count), method, _fmt_seconds(secs)))
        return "\n".join(head + ["", *lines, "", *_table(blocks)])


def _moved(report: ChunkReport) -> str:
    if not report.rechunk:
        return "kept, "
    return "rechunked to " if report.rechunk_layer else "read by the tasks as "


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]


def _shape(chunks: tuple[tuple[int, ...], ...]) -> str:
    """A chunking as ``(1024 x4, 1024 x4)``."""
    return "(" + ", ".join(_fmt_chunks(c) if c else "0" for c in chunks) + ")"


def out_chunks_of(chunks: tuple[tuple[int, ...], ...],
                  problem: Problem) -> tuple[tuple[int, ...], ...]:
    """The result's chunks when the job runs on ``chunks``."""
    from ._halo import out_bounds

    out = list(chunks)
    for a, k, (lo, _), length in zip(problem.axes, problem.k, problem.pad, problem.out_len):
        b = out_bounds(problem.x_shape[a], k, lo, length, problem.mode, bounds(chunks[a]))
        out[a] = tuple(int(e - s) for s, e in zip(b[:-1], b[1:])) if length else (0,)
    return tuple(out)


def block_shapes(chunks: tuple[tuple[int, ...], ...],
                 problem: Problem) -> dict[tuple[int, ...], int]:
    """Distinct block shapes of a chunking and how many tasks have each: extended blocks
    (chunk plus halo), or the input blocks themselves when the tasks hold whole axes."""
    whole = whole_axes(chunks, problem)
    out = chunks if whole else out_chunks_of(chunks, problem)
    per_axis: list[dict[int, int]] = []
    for a, c in enumerate(out):
        k = problem.kernel_shape[a] if a in problem.axes and not whole else 1
        counts: dict[int, int] = {}
        for length in c:
            counts[length + k - 1] = counts.get(length + k - 1, 0) + 1
        per_axis.append(counts)
    shapes: dict[tuple[int, ...], int] = {(): 1}
    for counts in per_axis:
        shapes = {s + (length,): n * m for s, n in shapes.items() for length, m in counts.items()}
    return shapes


def _estimate(problem: Problem, shape: tuple[int, ...], options: dict,
              whole: bool) -> tuple[str, float, int]:
    """The core planner's strategy, seconds and scratch bytes for one block shape (a
    ``valid`` job on an extended block, or the job's own on a block of whole axes)."""
    kshape = tuple(z if problem.kernel_batched and a not in problem.axes and k != 1 else k
                   for a, (z, k) in enumerate(zip(shape, problem.kernel_shape)))
    itemsize = np.dtype(options["x_dtype"]).itemsize
    scratch = task_scratch(shape, itemsize, options["max_memory"])
    edges: dict = {"mode": "valid"}
    if whole:  # the job's own edges, on blocks of x's dtype
        edges = {"mode": problem.mode, "boundary": problem.boundary, "x_dtype": problem.x_dtype}
    rep = fftconv.explain(shape, kshape, **{**options, **edges, "max_memory": scratch})
    chosen = next(c for c in rep.candidates if c.chosen)
    est = chosen.estimate
    return rep.method, float(est.seconds if est else 0.0), int(est.memory if est else 0)


def _weigh(label: str, chunks: tuple[tuple[int, ...], ...], problem: Problem,
           block_itemsize: int, options: dict, cores: int, budget: int,
           x_chunks: tuple[tuple[int, ...], ...], rejected: str | None,
           views: bool = False) -> ChunkCandidate:
    shapes = block_shapes(chunks, problem)
    tasks = sum(shapes.values())
    main = max(shapes, key=lambda s: (shapes[s], math.prod(s)))
    ext = sum(math.prod(s) * n for s, n in shapes.items())
    overhead = ext / max(math.prod(problem.x_shape), 1)
    whole = whole_axes(chunks, problem)
    out_bytes = problem.result_dtype.itemsize * math.prod(
        problem.out_shape[a] if whole and a in problem.axes else z - k + 1
        for a, (z, k) in enumerate(zip(main, problem.kernel_shape)))
    workers = task_workers(options["workers"], tasks, cores)
    method, secs, scratch = None, None, 0
    if rejected is None:
        try:
            method, per_task, scratch = _estimate(problem, main, {**options, "workers": workers},
                                                  whole)
        except ValueError as exc:  # an explicit method that cannot serve these blocks
            rejected, per_task = str(exc), 0.0
    if rejected is None:
        concurrent = max(min(tasks, cores // workers), 1)
        secs = (per_task * math.ceil(tasks / concurrent) + TASK_OVERHEAD * tasks
                + _copied(chunks, x_chunks, problem, ext, views) * block_itemsize
                / COPY_BANDWIDTH / concurrent)
        if not reads_directly(x_chunks, chunks, problem):  # a rechunk layer moves the data
            secs += math.prod(problem.x_shape) * problem.x_dtype.itemsize / COPY_BANDWIDTH
    memory = math.prod(main) * block_itemsize + out_bytes + scratch
    if rejected is None and memory > budget:
        rejected = f"a task needs {memory} bytes, over the per-task budget of {budget}"
    return ChunkCandidate(label=label, chunks=chunks, tasks=tasks, overhead=overhead,
                          task_memory=memory, seconds=secs, method=method, rejected=rejected)


def _copied(chunks: tuple[tuple[int, ...], ...], x_chunks: tuple[tuple[int, ...], ...],
            problem: Problem, ext: int, views: bool) -> int:
    """Elements the tasks copy to assemble their blocks: every extended block, or, for
    whole convolved axes, the input where a block joins several input chunks, unless
    those are ``views`` of one array (then a block is a view too)."""
    if not whole_axes(chunks, problem):
        return ext
    joins = any(len(xc) > 1 and len(c) < len(xc) for xc, c in zip(x_chunks, chunks))
    return math.prod(problem.x_shape) if joins and not views else 0


def task_workers(given: int | None, tasks: int, cores: int) -> int:
    """Threads per task: as given, else the cores divided among the tasks that run at once."""
    return given if given is not None else max(cores // max(tasks, 1), 1)


def plan_chunks(x_chunks: tuple[tuple[int, ...], ...], problem: Problem, *,
                explicit: tuple[tuple[int, ...], ...] | None, requested: object,
                block_itemsize: int, options: dict, cores: int, budget: int,
                chunk_bytes: int, views: bool = False) -> ChunkReport:
    """Choose the chunking (``explicit`` is honoured) and report the decision (``views``:
    the input's chunks are views of one array, so blocks joining them are not copied)."""
    if math.prod(problem.out_shape) == 0:  # nothing to compute: no tasks
        return ChunkReport(problem=problem, requested=str(requested), input_chunks=x_chunks,
                           chunks=x_chunks, out_chunks=tuple((n,) for n in problem.out_shape),
                           rechunk=False, candidates=(), workers=options["workers"] or 1)
    cands: list[ChunkCandidate] = []
    if explicit is not None:
        check_holds(explicit, problem, requested)
        cands.append(_weigh("given", explicit, problem, block_itemsize, options, cores,
                            1 << 62, x_chunks, None, views))
    else:
        why = holds(x_chunks, problem)
        cands.append(_weigh("the input's chunks", x_chunks, problem, block_itemsize,
                            options, cores, budget, x_chunks,
                            None if why is None else "cannot hold the halo: " + why, views))
        depths = _depths(problem)
        kmax = max(problem.k, default=1)
        sizes = {1 << p for p in range(6, 16) if (1 << p) >= 2 * kmax}
        sizes |= {problem.x_shape[a] for a in problem.axes}
        seen = {x_chunks}
        for c in sorted(sizes):
            chunks = list(x_chunks)
            for a in problem.axes:
                n = problem.x_shape[a]
                chunks[a] = _uniform(n, min(c, n), *depths[a]) if n else x_chunks[a]
            key = tuple(chunks)
            if key in seen:
                continue
            seen.add(key)
            big = max(math.prod(len(ch) and max(ch) for ch in key), 1) * problem.x_dtype.itemsize
            rejected = holds(key, problem)
            if rejected is None and big > chunk_bytes and c != min(sizes):
                rejected = f"chunks over dask's array.chunk-size ({chunk_bytes} bytes)"
            cands.append(_weigh(f"{c} per convolved axis", key, problem, block_itemsize,
                                options, cores, budget, x_chunks, rejected, views))
    ok = [c for c in cands if c.rejected is None]
    if not ok:  # nothing fits the budget: take the smallest tasks anyway (never a crash)
        ok = [min(cands, key=lambda c: c.task_memory)]
    best = min(ok, key=lambda c: c.seconds if c.seconds is not None else math.inf)
    keep = cands[0]
    if explicit is None and keep.rejected is None and keep.seconds is not None and \
            best.seconds is not None and keep.seconds <= 1.1 * best.seconds:
        best = keep  # within 10%: not worth moving the data
    cands = [ChunkCandidate(**{**c.__dict__, "chosen": c is best}) for c in cands]
    shapes = block_shapes(best.chunks, problem)
    workers = task_workers(options["workers"], best.tasks, cores)
    blocks = []
    for shape, count in sorted(shapes.items(), key=lambda kv: -kv[1])[:6]:
        try:
            method, secs, _ = _estimate(problem, shape, {**options, "workers": workers},
                                        whole_axes(best.chunks, problem))
        except ValueError:
            method, secs = "-", 0.0
        blocks.append((shape, count, method, secs))
    return ChunkReport(problem=problem, requested=str(requested) if explicit is None
                       else "explicit", input_chunks=x_chunks, chunks=best.chunks,
                       out_chunks=out_chunks_of(best.chunks, problem),
                       rechunk=best.chunks != x_chunks, candidates=tuple(cands),
                       blocks=tuple(blocks), workers=workers,
                       rechunk_layer=not reads_directly(x_chunks, best.chunks, problem))
