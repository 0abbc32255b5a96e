"""The engine behind the public functions: validate -> plan -> execute, and the call memo.

A one-shot call is looked up in *one* memo, keyed by what the caller passed: the
shapes and dtypes, the kernel's bytes, the thread count and every option, each option
tagged with its type (so ``True`` never stands for ``1``). A hit is the plan that call
used, which owns a copy of its kernel; a miss validates everything, builds the complete
:class:`~fftconv._problem.Problem` (kernel facts included) and asks the planner, whose
decision memo serves a new kernel of the same kind without planning again.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _masked
from ._machine import outputs
from ._machine.learning import clock
from ._machine.resources import available_memory, default_budget
from ._machine.threads import free_threads
from ._machine.workers import resolve_workers
from ._plan import Plan, PlanReport
from ._problem import Problem
from ._planner import (build_plan, clear_decisions, decide, rebound, report_for, stamp,
                       still_chosen)
from ._validate import (EFFORTS, Kind, as_array, as_dtype, as_shape, check_option, make_kind,
                        make_problem, with_kernel)
from .strategies import names

__all__ = ["Memo", "Options", "clear_caches", "explain", "plan", "run"]


class Options(NamedTuple):
    """The options of one call, as the caller gave them (validated by the engine)."""

    mode: object = "full"
    axes: object = None
    boundary: object = "constant"
    cval: object = 0
    anchor: object = None
    method: object = "auto"
    effort: object = "estimate"
    workers: object = None
    dtype: object = None
    nan_policy: object = "propagate"
    max_memory: object = None
    conjugate: object = True

    def key(self) -> Hashable:
        """A hashable stand-in tagged with every value's type, so that ``True``, ``1`` and
        ``1.0`` never share a memo entry (raises ``TypeError`` for an unhashable value)."""
        types = tuple(map(type, self))
        key: tuple = (types, self)
        if list in types or tuple in types:  # lists and tuples alike, element by element
            key = tuple([_tagged(v) for v in self])
        hash(key)
        return key


def _tagged(value: object) -> Hashable:
    """``value`` with its type, element by element for sequences."""
    if isinstance(value, (list, tuple)):
        return ("seq", tuple([_tagged(v) for v in value]))
    return (type(value), value)


class _Entry(NamedTuple):
    """A remembered value and the bytes it holds."""

    value: object
    nbytes: int


class Memo:
    """A thread-safe LRU map, bounded by entries and by the bytes its values hold."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self._data: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._entries, self._max_bytes, self._bytes = entries, max_bytes, 0
        self._newest: _Entry | None = None  # the most recently used entry

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item is not self._newest:  # a loop repeating one call moves nothing
                self._data.move_to_end(key)
                self._newest = item
            return item.value

    def keeps(self, nbytes: int) -> bool:
        """Whether :meth:`put` remembers a value holding ``nbytes``: not over a quarter of
        the byte budget."""
        return nbytes <= self._max_bytes // 4

    def put(self, key: Hashable, value: object, nbytes: int) -> None:
        """Remember ``value`` (holding ``nbytes``) unless it alone is over a quarter of the
        byte budget; evict the least recently used entries to stay within bounds."""
        if not self.keeps(nbytes):
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._data[key] = self._newest = _Entry(value, nbytes)
            self._bytes += nbytes
            while len(self._data) > self._entries or self._bytes > self._max_bytes:
                self._bytes -= self._data.popitem(last=False)[1].nbytes

    def resize(self, key: Hashable, nbytes: int) -> None:
        """Account ``nbytes`` for the entry of ``key`` (its value came to hold more or
        less since it was stored), dropping it if it is now too large to keep."""
        with self._lock:
            item = self._data.get(key)
            if item is None or item.nbytes == nbytes:
                return
            if nbytes > self._max_bytes // 4:  # as put() would refuse it
                self._bytes -= self._data.pop(key).nbytes
                return
        self.put(key, item.value, nbytes)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes, self._newest = 0, None

    def __len__(self) -> int:
        return len(self._data)


#: Plans of recent one-shot calls (core and fftconv.nn), by the call's memo key: at most
#: 64, holding at most a 16th of the memory available at first import (256 MiB to 1 GiB).
#: One plan may hold a quarter of that, so that on a machine with 4 GiB free a one-shot
#: FFT of a 2048² image with a large kernel (a 162 MiB plan) is remembered instead of
#: transforming the kernel and planning FFTW again on every call (2.5x its time).
calls = Memo(entries=64, max_bytes=min(1 << 30, max(256 << 20, available_memory() // 16)))
#: Validated calls, by the memo key without the kernel's bytes: a new kernel of a known
#: kind skips every option check (the planner's decision memo then serves its problem).
kinds = Memo(entries=256, max_bytes=1 << 20)
#: Kernels up to this size are remembered by their bytes; larger ones plan every call.
MEMO_MAX_KERNEL_BYTES = 16 << 20


def clear_caches() -> None:
    """Forget every remembered call, plan and decision (for tests and benchmarks), drop
    the recycled output arrays, and read the default memory budget again.

    FFTW's wisdom and the machine constants stay: they describe the machine, not calls.
    """
    calls.clear()
    kinds.clear()
    clear_decisions()
    outputs.clear()
    default_budget.cache_clear()


def _check_method(method: object) -> str:
    return check_option("method", method, ("auto", *names()))


def _call_key(flip: bool, x: np.ndarray, kernel: np.ndarray, workers: int,
              options: Options) -> tuple | None:
    """The memo key of a call, or None when it cannot be remembered. Its sixth entry is
    the kernel's bytes; without it, the key of the call's :class:`Kind`."""
    if kernel.nbytes > MEMO_MAX_KERNEL_BYTES:
        return None
    try:
        return (flip, x.shape, x.dtype, kernel.shape, kernel.dtype, kernel.tobytes(), workers,
                options.key())
    except TypeError:  # an array cval, say: validated and planned every time
        return None


@dataclass(slots=True)
class _Checked:
    """A call's validated kind with its method and effort."""

    kind: Kind
    method: str
    effort: str
    #: The last plan made for this kind whose executor takes new kernel values, weakly
    #: referenced (None until one is made): a new kernel with the same facts reuses it.
    last: weakref.ref[Plan] | None = None


def _check(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel: np.ndarray, flip: bool,
           options: Options) -> _Checked:
    """Every check that does not depend on the kernel's values."""
    method = _check_method(options.method)
    effort = check_option("effort", options.effort, EFFORTS)
    return _Checked(make_kind(x_shape, x_dtype, kernel.shape, kernel.dtype, options, flip=flip),
                    method, effort)


def _validate(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel: np.ndarray, flip: bool,
              options: Options) -> tuple[Problem, np.ndarray, str, str]:
    """Every check, then the complete problem and the prepared (owned) kernel."""
    checked = _check(x_shape, x_dtype, kernel, flip, options)
    problem, prepared = with_kernel(checked.kind, kernel)
    return problem, prepared, checked.method, checked.effort


def _is_dask(a: object) -> bool:
    """Whether ``a`` is a dask collection, checked without importing dask."""
    return type(a).__module__.split(".", 1)[0] == "dask"


#: Below this many samples times taps the planner's choice does not depend on the threads
#: (checked on 1-d, 2-d and batched 3-d problems, K = 1-63; the direct sum splits only from
#: ``PARALLEL_MIN_MACS``), so a one-shot call that small skips the load reading.
_SPLIT_MIN_WORK = 1 << 16


def run(x: object, kernel: object, flip: bool, options: Options) -> np.ndarray:
    """A one-shot convolve (``flip``) or correlate, through the call memo."""
    if type(x) is np.ndarray and type(kernel) is np.ndarray and x.ndim:  # the usual case
        xa, ka, masked = x, kernel, False
    else:
        if _is_dask(x) or _is_dask(kernel):  # lazy in, lazy out: never compute it silently
            from .dask._api import run as run_dask

            return run_dask(x, kernel, flip=flip, **options._asdict())
        masked = isinstance(x, np.ma.MaskedArray)  # the plan treats them as missing
        kernel = _masked.kernel_data(kernel)
        xa = as_array(np.ma.getdata(x) if isinstance(x, np.ma.MaskedArray) else x, "x")
        ka = as_array(kernel, "kernel")
    if xa.ndim == 0 and ka.ndim == 0:  # scalars: a length-1 signal, returned as 0-d
        return run(xa.reshape(1), ka.reshape(1), flip, options).reshape(())
    workers = resolve_workers(options.workers)
    if workers > 1 and xa.size * ka.size >= _SPLIT_MIN_WORK:
        # planned for the CPUs the machine leaves it now (a neighbour holding one: one
        # thread), so the strategy is priced for the threads it will run on; each thread
        # count has its own memo entry and plan
        workers = free_threads(workers)
    key = _call_key(flip, xa, ka, workers, options)
    checked = found = None
    if key is not None:
        found = calls.get(key)
        if isinstance(found, Plan) and (found.__dict__.get("_stamp") in (None, stamp())
                                        or still_chosen(found)):
            result = found(x) if masked else found._oneshot(xa)
            if "_nonfinite" in found.__dict__:  # its missing-data handling holds scratch
                calls.resize(key, found.nbytes)
            return result
        kind_key = key[:5] + key[6:]
        checked = kinds.get(kind_key)
    if checked is None:
        checked = _check(xa.shape, xa.dtype, ka, flip, options)
        if key is not None:
            kinds.put(kind_key, checked, 0)
    assert isinstance(checked, _Checked)
    old = checked.last() if checked.last is not None else None
    problem, prepared = with_kernel(checked.kind, ka, old.problem if old is not None else None)
    if math.prod(problem.out_shape) == 0:
        return np.zeros(problem.out_shape, problem.result_dtype)
    new = rebound(old, problem, prepared) if old is not None else None
    if new is None:
        built = clock()()
        new = build_plan(problem, prepared, method=checked.method, effort=checked.effort,
                         workers=workers, dtype=options.dtype)
        if key is not None and hasattr(new._execute, "with_kernel"):
            checked.last = weakref.ref(new)
        if key is None or not calls.keeps(new.nbytes):  # made for this call alone: the
            new.__dict__["_learn_once"] = built  # planner learns what such a call costs
    if found is not None:  # it replaces a remembered plan auto no longer chooses
        new.__dict__["_switched"] = True
    result = new(x) if masked else new._oneshot(xa)
    if key is not None:  # stored after the call: what a first call sets up is counted
        calls.put(key, new, new.nbytes)
    return result


def plan(x_shape: object, x_dtype: object, kernel: object, flip: bool,
         options: Options) -> Plan:
    """A reusable plan (never from the call memo: each call returns a new plan)."""
    shape = as_shape(x_shape, "x_shape")
    xdt = as_dtype(x_dtype, "x_dtype")
    ka = as_array(_masked.kernel_data(kernel), "kernel")
    workers = resolve_workers(options.workers)
    problem, prepared, method, effort = _validate(shape, xdt, ka, flip, options)
    return build_plan(problem, prepared, method=method, effort=effort, workers=workers,
                      dtype=options.dtype)


def explain(x_shape: object, kernel_shape: object, x_dtype: object, kernel_dtype: object,
            operation: object, options: Options) -> PlanReport:
    """The planner's report from shapes alone (kernel values unknown), building nothing."""
    op = check_option("operation", operation, ("convolve", "correlate"))
    method = _check_method(options.method)
    workers = resolve_workers(options.workers)
    xdt = as_dtype(x_dtype, "x_dtype")
    kdt = as_dtype(x_dtype if kernel_dtype is None else kernel_dtype, "kernel_dtype")
    opts = options if op == "correlate" else options._replace(conjugate=False)
    problem, _ = make_problem(as_shape(x_shape, "x_shape"), xdt,
                              as_shape(kernel_shape, "kernel_shape"), kdt, opts,
                              flip=op == "convolve")
    return report_for(problem, decide(problem, method, "estimate", workers, None), method,
                      workers)

