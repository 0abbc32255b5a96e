"""FFT back end: FFTW through pyfftw, or scipy.fft when pyfftw is missing.

A :class:`TransformPair` owns aligned scratch buffers for one batch shape and the
forward/inverse transforms between them. Transforms are unnormalised both ways (the
caller folds ``1/prod(fft_shape)`` into the kernel spectrum). A pair is not thread-safe:
executors keep one per thread.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from .._numerics.dtypes import fft_dtypes
from .._numerics.scaling import exponent, peak, scale

__all__ = ["TransformPair", "backend_name", "fft_dtypes", "kernel_spectrum", "save_wisdom"]

_FLAGS = {"estimate": "FFTW_ESTIMATE", "measure": "FFTW_MEASURE"}
_plan_lock = threading.Lock()
#: Spectra of this many entries and more have their first axis's pass split among the
#: workers (smaller ones cost less than the dispatch), in this many slabs per worker.
_SPLIT_SPECTRUM = 1 << 18
_SLABS_PER_WORKER = 2


#: Optional modules ``pyfftw.interfaces`` imports at ``import pyfftw`` only to offer
#: drop-in wrappers for them (dask and xarray alone take over a second); fftconv uses
#: ``pyfftw.FFTW``. They stay importable: ``import pyfftw.interfaces.dask_fft`` works.
_PYFFTW_EXTRAS = ("dask.array.fft", "scipy.fftpack")


def _import_pyfftw() -> Any:
    """``import pyfftw`` without the interfaces' optional imports (unless already loaded)."""
    import sys

    loaded = sys.modules.get("pyfftw")
    if loaded is not None:  # None there means "blocked": the import below then fails
        return loaded
    blocked = [m for m in _PYFFTW_EXTRAS if m not in sys.modules]
    modules: dict[str, Any] = sys.modules  # a None entry makes its import fail
    for name in blocked:
        modules[name] = None
    try:
        import pyfftw
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return pyfftw


@lru_cache(maxsize=1)
def _pyfftw() -> Any:
    """The pyfftw module, or None (with a warning) when it cannot be imported."""
    try:
        pyfftw = _import_pyfftw()
    except ImportError:
        from .._errors import FFTConvWarning

        warnings.warn("pyfftw is not installed; fftconv falls back to scipy.fft, which is "
                      "slower. Install it with `pip install pyfftw`.", FFTConvWarning,
                      stacklevel=4)
        return None
    _load_wisdom(pyfftw)
    return pyfftw


_WISDOM_FILE = "fftw_wisdom.json"
#: (cache directory, wisdom) as last read or written there (to skip no-op writes).
_stored_wisdom: tuple[str, tuple[bytes, ...]] | None = None


def _load_wisdom(pyfftw: Any) -> None:
    """Import the FFTW wisdom saved by earlier processes (same versions and CPU)."""
    import base64

    from .cache import cache_dir, read_json
    from .schema import WISDOM

    global _stored_wisdom
    saved = read_json(_WISDOM_FILE, WISDOM)
    if saved:
        try:
            wisdom = tuple(base64.b64decode(w, validate=True) for w in saved["wisdom"])
            pyfftw.import_wisdom(wisdom)
            _stored_wisdom = (str(cache_dir()), wisdom)
        except (TypeError, ValueError) as exc:
            from .._errors import FFTConvWarning

            warnings.warn(f"ignoring {cache_dir() / _WISDOM_FILE}: its FFTW wisdom is "
                          f"malformed ({exc})", FFTConvWarning, stacklevel=5)


def save_wisdom() -> None:
    """Export FFTW's accumulated wisdom to the cache directory (atomically), if FFTW has
    learnt anything since it was last read or written."""
    import base64

    from .cache import cache_dir, write_json

    global _stored_wisdom
    fftw = _pyfftw()
    if fftw is None:
        return
    with _plan_lock:
        current = (str(cache_dir()), tuple(fftw.export_wisdom()))
        if current == _stored_wisdom:
            return
        _stored_wisdom = current
        wisdom = current[1]
    write_json(_WISDOM_FILE, {"wisdom": [base64.b64encode(w).decode() for w in wisdom]})


def _ranges(n: int, pieces: int, align: int = 1) -> list[tuple[int, int]]:
    """``[0, n)`` in at most ``pieces`` equal ranges (multiples of ``align`` but the last)."""
    step = -(-n // max(pieces, 1))
    step = -(-step // align) * align
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def backend_name() -> str:
    """``'pyfftw'`` or ``'scipy.fft'``."""
    return "pyfftw" if _pyfftw() is not None else "scipy.fft"


class TransformPair:
    """Forward and inverse FFT over the trailing ``len(fft_shape)`` axes of a batch.

    Parameters
    ----------
    batch : int
        Leading batch length of the buffers.
    fft_shape : tuple of int
        Transform size along the trailing axes.
    compute : numpy.dtype
        Compute dtype of the job (integers transform in float64).
    threads : int
        FFTW threads.
    effort : str
        ``'estimate'`` or ``'measure'`` (FFTW planner rigour).

    Attributes
    ----------
    inbuf : ndarray
        Real-space input ``(batch, *fft_shape)``, zero-initialised. Forward transforms
        preserve it, so a caller that always writes the same region leaves the rest zero.
    spec : ndarray
        Spectrum after :meth:`forward`.
    outbuf : ndarray
        Real-space result of :meth:`inverse` (unnormalised).
    """

    def __init__(self, batch: int, fft_shape: tuple[int, ...], compute: np.dtype,
                 threads: int = 1, effort: str = "estimate") -> None:
        rdt, cdt, real = fft_dtypes(compute)
        shape = (batch, *fft_shape)
        spec_shape = (batch, *fft_shape[:-1], fft_shape[-1] // 2 + 1) if real else shape
        axes = tuple(range(1, len(shape)))
        self.fft_shape, self.real, self._axes = fft_shape, real, axes
        self._threads = threads
        fftw = _pyfftw()
        if fftw is None:
            self.inbuf = np.zeros(shape, rdt)
            self.spec = np.zeros(spec_shape, cdt)
            self.outbuf = np.zeros(shape, rdt)
            self._fwd = self._inv = None
            return
        self.inbuf = fftw.empty_aligned(shape, rdt)
        self.spec = fftw.empty_aligned(spec_shape, cdt)
        self.outbuf = fftw.empty_aligned(shape, rdt)
        flag = _FLAGS[effort]
        with _plan_lock:  # FFTW's planner is not re-entrant
            self._fwd = fftw.FFTW(self.inbuf, self.spec, axes=axes, direction="FFTW_FORWARD",
                                  flags=(flag,), threads=threads)
            self._inv = fftw.FFTW(self.spec, self.outbuf, axes=axes,
                                  direction="FFTW_BACKWARD",
                                  flags=(flag, "FFTW_DESTROY_INPUT"), threads=threads)
        self.inbuf[...] = 0  # MEASURE planning scribbles on the buffers

    def forward(self) -> np.ndarray:
        """Transform :attr:`inbuf` into :attr:`spec` and return it."""
        if self._fwd is not None:
            self._fwd.execute()
            return self.spec
        import scipy.fft as sfft

        f = sfft.rfftn if self.real else sfft.fftn
        self.spec[...] = f(self.inbuf, axes=self._axes, workers=self._threads)
        return self.spec

    def inverse(self) -> np.ndarray:
        """Transform :attr:`spec` into :attr:`outbuf` (unnormalised) and return it."""
        if self._inv is not None:
            self._inv.execute()
            return self.outbuf
        import scipy.fft as sfft

        if self.real:
            self.outbuf[...] = sfft.irfftn(self.spec, s=self.fft_shape, axes=self._axes,
                                           norm="forward", workers=self._threads)
        else:
            self.outbuf[...] = sfft.ifftn(self.spec, axes=self._axes, norm="forward",
                                          workers=self._threads)
        return self.outbuf


def kernel_spectrum(kernel: np.ndarray, fft_shape: tuple[int, ...], compute: np.dtype,
                    threads: int, effort: str = "estimate", workers: int = 1) -> np.ndarray:
    """Spectrum of the *reversed* kernel ``(Bk, *K)`` at ``fft_shape``, scaled by 1/size.

    Multiplying an input spectrum by it and inverting gives the convolution with the
    reversed kernel, i.e. the correlation with ``kernel``, offset by ``K - 1``.

    The transform runs axis by axis, last axis first, each over the part that is not
    zero yet: the last axis over the kernel's rows alone, every other axis over what the
    axes after it filled. A kernel much smaller than the transform (the usual case) costs
    about half a whole transform, and one-dimensional plans avoid FFTW's slow estimates
    of some 2-d sizes (1088² float32: 8 ms staged against 13 ms whole). With
    ``workers`` > 1 and a large spectrum, the first axis's pass (the largest) is split
    into slabs of columns taken by fftconv's threads (:func:`.threads.parallel_map`).
    """
    rdt, cdt, real = fft_dtypes(compute)
    nk, ks = kernel.shape[0], kernel.shape[1:]
    d = len(fft_shape)
    last = fft_shape[-1] // 2 + 1 if real else fft_shape[-1]
    spec_shape = (nk, *fft_shape[:-1], last)
    rows = (nk, *ks[:-1], fft_shape[-1])  # what the last axis's transform reads
    rev = (slice(None),) + (slice(None, None, -1),) * d
    taps = (slice(None),) + tuple(slice(0, k) for k in ks)
    # Transformed at a peak of about 1 (exact: a power of two), so huge taps cannot
    # overflow the spectrum, whose entries are at most sum|k| / size once scaled.
    e = exponent(peak(kernel))
    fftw = _pyfftw()
    if fftw is None:
        import scipy.fft as sfft

        padded = np.zeros((nk, *fft_shape), rdt)
        padded[taps] = kernel[rev]
        scale(padded, -e)
        spec = (sfft.rfftn if real else sfft.fftn)(padded, axes=tuple(range(1, d + 1)),
                                                    workers=threads)
    else:
        inbuf = fftw.empty_aligned(rows, rdt)
        spec = fftw.empty_aligned(spec_shape, cdt)
        box: list[slice] = [slice(None)] + [slice(0, k) for k in ks[:-1]] + [slice(None)]
        flags = (_FLAGS[effort],)
        # (what to zero before it, the transform) per axis, last axis first
        runs: list[tuple[tuple[slice, ...] | None, Callable[[], None]]] = []
        with _plan_lock:  # FFTW's planner is not re-entrant
            runs.append((None, fftw.FFTW(inbuf, spec[tuple(box)], axes=(d,),
                                         direction="FFTW_FORWARD", flags=flags,
                                         threads=threads).execute))
            for ax in range(d - 1, 0, -1):
                zero = tuple(box[:ax]) + (slice(ks[ax - 1], None),) + tuple(box[ax + 1:])
                box[ax] = slice(None)
                view = spec[tuple(box)]
                runs.append((zero, fftw.FFTW(view, view, axes=(ax,), direction="FFTW_FORWARD",
                                             flags=flags, threads=threads).execute))
            if d >= 2 and workers > 1 and spec.size >= _SPLIT_SPECTRUM:
                # the first axis's pass (the last stage) in slabs of columns, on the
                # threads the machine leaves; complex64 is 8 bytes: slabs of 8 columns
                # start on 64-byte boundaries
                slabs = [fftw.FFTW(spec[..., c0:c1], spec[..., c0:c1], axes=(1,),
                                   direction="FFTW_FORWARD", flags=flags, threads=1)
                         for c0, c1 in _ranges(last, _SLABS_PER_WORKER * workers, 8)]
                whole = runs[-1][1]

                def split() -> None:
                    from .threads import parallel_map

                    parallel_map(lambda plan: plan.execute(), slabs, workers, serial=whole)

                runs[-1] = (runs[-1][0], split)
        inbuf[...] = 0  # after planning: MEASURE planning scribbles on the buffers
        inbuf[taps] = kernel[rev]
        scale(inbuf[taps], -e)
        for cleared, run in runs:
            if cleared is not None:
                spec[cleared] = 0
            run()
    spec *= 1.0 / math.prod(fft_shape)
    scale(spec, e)
    return spec
