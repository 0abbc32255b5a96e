"""The one docfiller: parameter text written once, filled into every public docstring.

:func:`docfiller` makes a decorator from a table of ``name -> text``; a docstring names
the entries it wants with ``%(name)s`` markers. :func:`fill` is the core's decorator;
the façades (``signal``, ``ndimage``, ``nn``) make their own from their own tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Callable, TypeVar

from .strategies import names

__all__ = ["docfiller", "fill", "fill_text"]

_F = TypeVar("_F", bound=Callable)

_PARAMS = {
    "mode": """mode : {'full', 'same', 'valid'}, optional
        Output size along each convolved axis, with ``N`` the input and ``K`` the kernel
        length: ``'full'`` gives ``N + K - 1``, ``'same'`` gives ``N`` (aligned by
        ``anchor``), ``'valid'`` gives ``N - K + 1`` (only outputs that never read
        outside ``x``; requires ``K <= N``).""",
    "axes": """axes : int or sequence of int, optional
        The convolved axes (default: all). The other axes of ``x`` are batch axes: the
        kernel has either ``len(axes)`` dimensions, or ``x.ndim`` dimensions of length 1
        (shared kernel) or equal to ``x``'s (one kernel per batch element) on them.""",
    "boundary": """boundary : {'constant', 'reflect', 'symmetric', 'edge', 'wrap'}, optional
        How ``x`` is extended beyond its edges (numpy.pad's names), for ``'same'`` and
        ``'full'``: ``'constant'`` ``k k | a b c d | k k`` (``k = cval``),
        ``'reflect'`` ``c b | a b c d | c b``, ``'symmetric'`` ``b a | a b c d | d c``,
        ``'edge'`` ``a a | a b c d | d d``, ``'wrap'`` ``c d | a b c d | a b``.
        Aliases: ``fill``/``zeros`` (constant), ``mirror`` (reflect), ``symm``
        (symmetric), ``nearest``/``replicate`` (edge), ``circular``/``periodic`` (wrap).
        Beware: scipy.ndimage's ``'reflect'`` is numpy's ``'symmetric'``.""",
    "cval": """cval : scalar, optional
        Fill value for ``boundary='constant'`` (default 0). A non-zero ``cval`` with any
        other boundary, which would never read it, raises ``ValueError``.""",
    "anchor": """anchor : int or sequence of int, optional
        ``mode='same'`` only: the kernel index that multiplies ``x[i]`` when computing
        ``y[i]``. Defaults reproduce scipy.signal: ``K // 2`` for ``correlate`` and
        ``(K - 1) // 2`` for ``convolve`` (they differ only for even ``K``).""",
    "method": f"""method : {{{", ".join(repr(m) for m in ("auto", *names()))}}}, optional
        Strategy; ``'auto'`` lets the planner pick the cheapest by its cost model:
        ``'direct'`` the sum itself, ``'separable'`` one 1-d pass per axis and term of a
        low-rank kernel, ``'fft'`` one whole-array transform, ``'overlap'`` blocked
        overlap-save transforms. A named method that cannot serve the problem raises
        ``ValueError`` saying why.""",
    "effort": """effort : {'estimate', 'measure'}, optional
        ``'estimate'`` plans from the cost model; ``'measure'`` times the best candidates
        on the real shapes once and remembers the decision.""",
    "workers": """workers : int, optional
        Threads to use (default: :func:`fftconv.get_workers`, all cores unless changed by
        :func:`fftconv.set_workers`); negative values count back from the core count.""",
    "dtype": """dtype : {'float32', 'float64', 'complex64', 'complex128'}, optional
        Override the computation precision (e.g. ``'float32'`` for speed). By default:
        float32 stays float32, float64 and complex likewise, float16 computes in float32,
        integers and bools give exact ``int64`` results (``uint64`` when both are
        unsigned), integers with floats give float64.""",
    "nan_policy": """nan_policy : {'propagate', 'omit', 'raise'}, optional
        ``'propagate'``: an output is non-finite exactly where the direct sum's window
        covers a non-finite sample, on every method. ``'omit'``: normalised convolution,
        ``y = sum(k) * corr(x~ v, k) / corr(v, k)`` with ``v`` the finite mask of the
        extended input; ``nan`` where no valid sample falls under a non-zero tap; the
        kernel must not sum to 0. ``'raise'``: ``ValueError`` on non-finite input.""",
    "conjugate": """conjugate : bool, optional
        Conjugate a complex kernel (scipy's rule, default). ``False`` gives the
        neural-network rule (no conjugation).""",
    "max_memory": """max_memory : int or float, optional
        Bytes of scratch memory the plan may use (default: half the available memory;
        ``float('inf')``: no limit). Strategies predicted to need more are rejected;
        overlap-save shrinks its blocks.""",
    "x_dtype": """x_dtype : dtype, optional
        The dtype of the arrays the plan will be called with (default float64).""",
}


_MARKER = re.compile(r"%\((\w+)\)s")


def fill_text(text: str, table: Mapping[str, str]) -> str:
    """``text`` with every ``%(name)s`` marker replaced by ``table[name]`` (a marker
    without an entry is an error: a docstring must not ship with one)."""
    return _MARKER.sub(lambda m: table[m.group(1)], text)


def docfiller(table: Mapping[str, str]) -> Callable[[_F], _F]:
    """A decorator filling ``%(name)s`` markers of a docstring from ``table``."""
    def decorate(func: _F) -> _F:
        if func.__doc__:
            func.__doc__ = fill_text(func.__doc__, table)
        return func

    return decorate


#: The core functions' docfiller.
fill = docfiller(_PARAMS)
