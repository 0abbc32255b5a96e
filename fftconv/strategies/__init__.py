"""The strategy registry.

A strategy is a module-level object with a ``name``, ``applicable(problem)`` returning
``None`` or the reason it cannot serve, ``estimate(problem, costs, workers)`` returning an
:class:`Estimate`, and ``build(problem, kernel, estimate, workers, effort)`` returning an
:class:`Executor` (``effort`` is FFTW's planner rigour, ``'estimate'`` or ``'measure'``).
Adding a strategy is adding a module that calls :func:`register`, and one line in
``_BUILTIN`` below; the planner iterates the registry and never names one.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from dataclasses import dataclass
from typing import Callable, ClassVar, Protocol

import numpy as np

from .._problem import Problem

__all__ = ["Estimate", "Executor", "Strategy", "offer", "register", "registry", "names"]

#: Modules providing the built-in strategies, in the order reports list them.
_BUILTIN = ("direct", "separable", "fft", "overlap")

#: ``executor(xb, out)`` computes the valid correlation of the extended input
#: ``x~`` of the raw ``(B, *spatial)`` input ``xb`` into ``out`` ``(B, *out_len)``, extending
#: ``xb`` itself (explicitly, implicitly or per block); it must be thread-safe.
Executor = Callable[[np.ndarray, np.ndarray], None]


def offer(execute: Executor, *, with_kernel: Callable[[np.ndarray], Executor] | None = None,
          exact_inputs: tuple[np.dtype, ...] | None = None) -> Executor:
    """Attach to ``execute`` what a plan may ask of it besides a call, and return it.

    ``with_kernel(k)`` returns the executor for a new kernel ``k`` of the same facts (shape,
    dtype, rank, finiteness), reusing this one's layout and scratch: the one-shot path
    rebinds a plan with it instead of building one. ``exact_inputs`` lists the integer
    input dtypes the executor reads uncast and sums exactly.
    """
    if with_kernel is not None:
        vars(execute)["with_kernel"] = with_kernel
    if exact_inputs is not None:
        vars(execute)["exact_inputs"] = exact_inputs
    return execute


@dataclass(frozen=True)
class Estimate:
    """A strategy's prediction for one problem.

    Attributes
    ----------
    seconds : float
        Predicted time of one call (kernel preparation included).
    memory : int
        Predicted peak scratch memory in bytes (input and output excluded).
    fft_shape, block_shape : tuple of int or None
        Transform size and output block size, for FFT strategies.
    note : str
        A short description for reports.
    batch : int
        Signals (``fft``) or blocks (``overlap``) transformed together, for FFT strategies.
    variant : str
        The branch of the strategy's cost model the estimate comes from, where it has
        several with their own constants (the direct sum's ``'axpy'``, ``'dense'`` and
        ``'sparse'`` sums); the planner learns a correction for each separately.
    once : float
        Seconds of ``seconds`` that this process pays once, on the plan's first call
        (loading compiled code); the planner learns from the rest.
    loaded : float or None
        Seconds of a call once compiled code is loaded, where that is not ``seconds -
        once``: a numpy stand-in's estimate gives the compiled code's here. The planner
        counts what a plan spends over the cheapest such figure towards the loading
        (:func:`fftconv._machine.jit.rent`).
    """

    seconds: float
    memory: int
    fft_shape: tuple[int, ...] | None = None
    block_shape: tuple[int, ...] | None = None
    note: str = ""
    batch: int = 1
    variant: str = ""
    once: float = 0.0
    loaded: float | None = None


class Strategy(Protocol):
    """What the planner needs from a strategy.

    A strategy may also set ``conditional = True`` when it serves only some problems of
    every kind (``separable``: low-rank kernels); the test suite then skips, rather than
    fails, the cases it declines.
    """

    name: ClassVar[str]

    def applicable(self, problem: Problem) -> str | None: ...

    def estimate(self, problem: Problem, costs: dict, workers: int) -> Estimate: ...

    def build(self, problem: Problem, kernel: np.ndarray, estimate: Estimate,
              workers: int, effort: str = "estimate") -> Executor: ...


_REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add ``strategy`` to the registry under ``strategy.name``.

    Raises ``ValueError`` if another strategy already has that name (registering one of
    the same class again, as a reloaded module does, is allowed).
    """
    name = strategy.name
    if not isinstance(name, str) or not name.isidentifier() or name == "auto":
        raise ValueError(f"strategy name {name!r} is invalid; expected an identifier other "
                         "than 'auto'")
    old = _REGISTRY.get(name)
    if old is not None and _kind(old) != _kind(strategy):
        raise ValueError(f"a strategy named {name!r} is already registered ({old!r}); "
                         "choose another name")
    _REGISTRY[name] = strategy
    return strategy


_ordered: dict[str, Strategy] = {}
_view = MappingProxyType(_ordered)


def _kind(strategy: object) -> tuple[str, str]:
    return type(strategy).__module__, type(strategy).__qualname__


def registry() -> Mapping[str, Strategy]:
    """All registered strategies, by name (imports the built-in modules on first use)."""
    if len(_ordered) != len(_REGISTRY) or not _ordered:
        for mod in _BUILTIN:
            importlib.import_module(f"{__name__}.{mod}")
        _ordered.clear()
        _ordered.update({n: _REGISTRY[n] for n in _BUILTIN})
        _ordered.update(_REGISTRY)
    return _view


def names() -> tuple[str, ...]:
    """Names of the registered strategies (without importing their compiled parts)."""
    return tuple(dict.fromkeys((*_BUILTIN, *_REGISTRY)))
