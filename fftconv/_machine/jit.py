"""numba, imported only when compiled code is first needed, and without scipy.linalg.

numba's ``numba.np.arraymath`` (imported on the first compilation or cache load) imports
``scipy.linalg.cython_blas`` merely to learn whether a BLAS exists for ``np.dot``; that pulls in all of
``scipy.linalg`` (about a quarter of a second) although fftconv's kernels never call a
BLAS. While numba is imported, a placeholder stands in for that one module (numba only
imports it, and scipy always ships it); it is removed right after, so a later real import
of ``scipy.linalg`` (or numba compiling ``np.dot``) gets the real module.

Once numba is loaded, the interpreter's final garbage collections walk its large graph
of type and compiler objects: about 0.3 s of a short script's wall time. An exit hook
(:func:`_freeze_at_exit`) moves the objects alive at exit to the collector's permanent
generation (``gc.freeze``), so those collections skip them; the process frees its memory
as it ends, and objects made later (other exit hooks) are collected as usual.

Loading numba and a first cached function costs a short script more than its whole work
(``costs['overhead']['jit_load']``, about half a second). So until numba is loaded, the
planner adds that to the compiled strategies' estimates (:func:`load_seconds`), small
problems run on numpy stand-ins, and every plan made meanwhile counts what its calls
spend over the compiled code (:func:`rent`). Once that adds up to the loading, the
compiled code is priced without it (the ski-rental rule; :mod:`fftconv.strategies._taps`
explains it).
"""

from __future__ import annotations

import atexit
import gc
import sys
import threading
import types
from typing import Any

__all__ = ["import_numba", "load_seconds", "njit", "pending", "rent"]

_BLAS = "scipy.linalg.cython_blas"
_lock = threading.Lock()
_rented = 0.0  # seconds the numpy stand-ins spent over the compiled code's estimates
_renting = True  # until the rent reached the loading


def pending() -> bool:
    """Whether compiled code still has its loading to pay in this process: numba is not
    imported, and the stand-ins have not yet spent as much over it as loading takes."""
    return _renting and not _numba_loaded()


def _numba_loaded() -> bool:
    return "numba" in sys.modules


def load_seconds(costs: dict[str, Any]) -> float:
    """What loading compiled code adds to a call now: ``costs['overhead']['jit_load']``
    while :func:`pending`, else 0."""
    return float(costs["overhead"]["jit_load"]) if pending() else 0.0


def rent(seconds: float, limit: float) -> None:
    """Count ``seconds`` a call spent over the compiled code's estimate; once the
    count reaches ``limit`` (the loading), compiled code is priced without its loading
    (the planner's remembered choices are checked again: :func:`pending` is part of
    their stamp)."""
    global _rented, _renting
    if not _renting:
        return
    _rented += seconds  # a lost update between threads only delays the switch
    if _rented >= limit:
        _renting = False


def import_numba() -> Any:
    """The numba module, imported as described above (for code using numba directly)."""
    return _numba()


def _numba() -> Any:
    if "numba" in sys.modules:
        return sys.modules["numba"]
    with _lock:
        placeholder = None
        if "scipy.linalg" not in sys.modules and _BLAS not in sys.modules:
            placeholder = sys.modules[_BLAS] = types.ModuleType(_BLAS)
        try:
            import numba
            import numba.np.arraymath  # the module that asks for the BLAS
        finally:
            if placeholder is not None and sys.modules.get(_BLAS) is placeholder:
                del sys.modules[_BLAS]
        atexit.register(_freeze_at_exit)
    return numba


def _freeze_at_exit() -> None:
    """Spare the interpreter's final collections the objects alive now (see above)."""
    gc.freeze()


def njit(*args: Any, **kwargs: Any) -> Any:
    """``numba.njit``, importing numba as described above.

    With ``cache=True`` and nowhere writable for numba's compiled-code cache (a
    read-only install and no writable home or ``NUMBA_CACHE_DIR``), the function is
    compiled in memory on first use instead, quietly: numba would raise at import.
    """
    numba = _numba()
    if args and callable(args[0]):
        return njit(**kwargs)(args[0])

    def decorate(fn: Any) -> Any:
        try:
            return numba.njit(*args, **kwargs)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            if not kwargs.get("cache"):
                raise
            return numba.njit(*args, **{**kwargs, "cache": False})(fn)

    return decorate
