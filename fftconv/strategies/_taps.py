"""The direct sum in numpy, tap by tap: what serves before compiled code is worth loading.

A process's first compiled sum costs loading numba and its cached machine code: about
half a second on a 2-core box (``costs['overhead']['jit_load']``), more than a short
script's whole work. This sum needs none of it. It extends the input once (in the compute
dtype), then adds ``k[j] * x~[j:j + out]`` for every non-zero tap ``j``, each a pair of
numpy calls over the whole output. Its cost is two numpy calls and five passes over the
output per tap: cheap for the small problems of short scripts, and never close to the
compiled sums on large ones.

While numba is not loaded, the planner prices the compiled sums with their loading
(:func:`fftconv._machine.jit.load_seconds`), so this sum wins the small problems. Its
estimate carries the compiled sum's too (``Estimate.loaded``): each call of a plan counts
what it spends over the cheapest strategy with compiled code loaded
(:func:`fftconv._machine.jit.rent`, paid by the plan, whatever its strategy). Once those
add up to the loading, the compiled code is priced without it. That is the ski-rental
rule: a process never spends more than twice what the better of always loading and
never loading would have cost.
"""

from __future__ import annotations

import math

import numpy as np

from .._numerics.boundary import extend
from .._problem import Problem
from . import Executor

__all__ = ["PASSES_PER_TAP", "prepare", "seconds"]

#: Passes over the output per tap: a multiply (read, write) and an add (two reads, write).
PASSES_PER_TAP = 5


def seconds(problem: Problem, costs: dict) -> float:
    """Estimated compute seconds of the tap-by-tap sum (one thread)."""
    outputs = problem.batch * math.prod(problem.out_len)
    item = problem.compute_dtype.itemsize
    call = costs["overhead"]["numpy_call"]
    per_tap = 2 * call + PASSES_PER_TAP * outputs * item * costs["memory_per_byte"]
    extended = problem.batch * math.prod(problem.extended) * item
    return 3 * call + problem.kernel_nonzero * per_tap + 2 * extended * costs["memory_per_byte"]


def prepare(problem: Problem, kernel: np.ndarray) -> Executor:
    """The executor for the prepared ``kernel`` ``(Bk, *K)``."""
    dtype = problem.compute_dtype
    k = np.asarray(kernel, dtype)
    batched = problem.kernel_batched
    spatial = (1,) * problem.ndim
    taps = []  # (offset, weight): one weight per kernel where batched, else a scalar
    for j in np.ndindex(*problem.k):
        w = k[(slice(None), *j)]
        if w.any():
            taps.append((j, w.reshape(-1, *spatial) if batched else w[0]))
    pad, boundary, cval, out_len = problem.pad, problem.boundary, problem.cval, problem.out_len

    def run(xb: np.ndarray, out: np.ndarray) -> None:
        xt = extend(np.asarray(xb, dtype), pad, boundary, cval)
        acc = out if out.dtype == dtype else np.empty(out.shape, dtype)
        if not taps:
            acc.fill(0)
        scratch = np.empty(acc.shape, dtype) if len(taps) > 1 else acc
        for i, (j, w) in enumerate(taps):
            view = xt[(slice(None), *(slice(s, s + n) for s, n in zip(j, out_len)))]
            np.multiply(view, w, out=acc if i == 0 else scratch)
            if i:
                np.add(acc, scratch, out=acc)
        if acc is not out:
            np.copyto(out, acc, casting="unsafe")

    return run
