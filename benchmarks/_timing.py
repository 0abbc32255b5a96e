"""Timing side by side: contenders in interleaved, shuffled rounds.

Timed one after another, a contender inherits what the one before it left: after a long
FFT the next call can run slower for a while (the core's clock, the scheduler's
accounting), and a burst of other load falls on whichever contender is running. So every
round calls each contender once, in an order shuffled from round to round, and a short
contender runs untimed for 5 ms right before its timed call (its data in cache and the
core in the state a loop of such calls leaves it in). At least ``repeat`` rounds run, and
up to ``most`` while under the time budget: short problems get the most rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from fftconv._machine import jit

# A benchmark measures a process in its steady state, with compiled code loaded; a short
# script's first calls, which run without it, are bench_startup.py's subject.
jit.import_numba()

#: A contender whose last call took less than this is warmed before each timed call.
SHORT = 5e-3


def interleaved(fns: dict[str, Callable[[], object]], repeat: int, budget: float = 4.0,
                most: int = 31, keep: tuple[str, ...] | None = None,
                slower: float = 4.0) -> dict[str, list[float]]:
    """Seconds of each function per round (see the module docstring).

    With ``keep`` (names always timed), a contender not in it whose median after the first
    ``repeat`` rounds is ``slower`` times the fastest such contender's or more stops being
    timed: it cannot be the fastest, and the rounds it would have used go to the ones that
    can (a slow losing contender otherwise holds a problem to ``repeat`` rounds).
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up: compilation, FFTW plans, scratch buffers
    spent = 0.0
    names = list(fns)
    order = np.random.default_rng(1)
    for r in range(most):
        for name in order.permutation(names):
            fn = fns[name]
            if not times[name] or times[name][-1] < SHORT:
                until = time.perf_counter() + SHORT
                fn()
                while time.perf_counter() < until:
                    fn()
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            times[name].append(dt)
            spent += dt
        if keep is not None and r + 1 == repeat:
            med = {m: float(np.median(times[m])) for m in names if m not in keep}
            if med:
                fastest = min(med.values())
                names = [m for m in names if m not in med or med[m] < slower * fastest]
                spent = sum(sum(times[m]) for m in names)
        if r + 1 >= repeat and spent > budget * (r + 1) / most:
            break
    return times
