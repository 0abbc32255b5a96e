"""``separable``: a low-rank kernel as a sum of 1-d passes along each axis."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._numerics.boundary import extend
from .._machine import jit
from .._machine.costs import direct_rate, threads_speedup
from .._numerics.lowrank import factorize
from .._problem import Problem
from . import Estimate, Executor, register

__all__ = ["Separable"]


def _pass_shapes(problem: Problem) -> list[tuple[int, ...]]:
    """Spatial shape after each 1-d pass (axis by axis, extended -> output length)."""
    shape = list(problem.extended)
    shapes = [tuple(shape)]
    for axis, length in enumerate(problem.out_len):
        shape[axis] = length
        shapes.append(tuple(shape))
    return shapes


class Separable:
    """For a kernel equal to ``sum_t outer(v_t0, v_t1, ...)`` (found by SVD for 2-d, a rank-1
    test for n-d), correlate the extended input with each vector along its axis in turn,
    and sum the ``r`` terms: ``r * sum(K)`` multiply-adds per output instead of
    ``prod(K)``. Each pass is the direct strategy's compiled sum with a 1-d kernel.
    """

    name: ClassVar[str] = "separable"
    #: Serves low-rank kernels only.
    conditional: ClassVar[bool] = True

    def applicable(self, problem: Problem) -> str | None:
        if problem.is_exact_integer:
            return "integer results must be exact; a factorised kernel is rounded"
        if problem.kernel_batched:
            return "one kernel per batch element"
        if problem.ndim < 2:
            return "a 1-d kernel has nothing to separate"
        if problem.kernel is None:
            return "the kernel's values are unknown (explain() without a kernel)"
        if problem.kernel_rank is None:
            return "the kernel is not low-rank enough: the passes would cost more than the full sum"
        return None

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate:
        rank = problem.kernel_rank
        assert rank is not None
        shapes = _pass_shapes(problem)
        macs = sum(problem.batch * math.prod(shapes[a + 1]) * k for a, k in enumerate(problem.k))
        macs *= rank
        item = problem.compute_dtype.itemsize
        traffic = rank * sum(problem.batch * math.prod(s) for s in shapes) * item
        once = jit.load_seconds(costs)  # its passes are the compiled sum
        seconds = (once + costs["overhead"]["direct"] * problem.ndim * rank
                   + macs * direct_rate(costs, problem.compute_dtype)
                   / threads_speedup(costs, "direct", workers)
                   + traffic * costs["memory_per_byte"])
        memory = 2 * problem.batch * math.prod(shapes[0]) * item
        note = f"rank {rank}: {macs:.3g} multiply-adds"
        return Estimate(seconds=seconds, memory=memory, once=once,
                        note=note + (f", +{once:.2g} s to load compiled code" if once else ""))

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor:
        from ._direct_kernel import prepare

        terms = factorize(kernel[0], problem.compute_dtype)
        assert terms is not None
        shapes = _pass_shapes(problem)
        batch, ndim = problem.batch, problem.ndim
        passes = []  # per term: [(runner, output shape), ...] axis by axis
        for term in terms:
            steps = []
            for axis, vec in enumerate(term):
                kshape = [1] * ndim
                kshape[axis] = vec.size
                k1 = np.ascontiguousarray(vec.reshape((1, *kshape)))
                out_shape = (batch, *shapes[axis + 1])
                steps.append((prepare((batch, *shapes[axis]), k1, out_shape, workers), out_shape))
            passes.append(steps)
        pad, boundary, cval = problem.pad, problem.boundary, problem.cval
        dtype = problem.compute_dtype

        def execute(xb: np.ndarray, out: np.ndarray) -> None:
            xt = extend(xb, pad, boundary, cval)
            for i, steps in enumerate(passes):
                cur = xt
                for j, (run, shape) in enumerate(steps):
                    last = j == len(steps) - 1
                    nxt = out if last and i == 0 else np.empty(shape, dtype)
                    run(cur, nxt)
                    cur = nxt
                if i:
                    out += cur

        return execute


register(Separable())
