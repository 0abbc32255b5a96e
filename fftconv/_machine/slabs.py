"""A whole-array transform convolution done as slabs of row and column passes.

For a transform of ``d >= 2`` axes, the forward transform is a *row pass* (1-d
transforms along the last axis) then a *column pass* (the other axes, over slabs of the
spectrum's last axis). Each pass is split into slabs, and each slab is one FFTW
many-transform plan executed by one thread, taken from fftconv's shared queue
(:mod:`.threads`), never by FFTW's own threads, whose barriers stall when the OS
deschedules one of them. The phases of one convolution are:

1. rows: copy the input rows in, transform them (only the rows that hold data: the
   others transform to zeros);
2. columns: transform a slab of columns, multiply it by the kernel spectrum, transform it
   back (all three in cache, one piece);
3. rows: the inverse row transforms of the rows the output keeps, cropped into the
   output.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .fft import _FLAGS, _plan_lock, _pyfftw, _ranges, fft_dtypes
from .threads import parallel_map

__all__ = ["SlabConvolution", "available"]


def available() -> bool:
    """Whether the slab passes can run (they need FFTW through pyfftw). Planning asks
    this for every problem, so it does not import pyfftw."""
    if "pyfftw" in sys.modules:  # imported, or made unimportable (None)
        return sys.modules["pyfftw"] is not None and _pyfftw() is not None
    return _installed()


@functools.cache
def _installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyfftw") is not None


class SlabConvolution:
    """Scratch buffers and slab plans for one signal at a time (``(1, *fft_shape)``).

    Parameters
    ----------
    fft_shape : tuple of int
        Transform size (at least 2 axes).
    compute : numpy.dtype
        Compute dtype (real inputs use real transforms).
    data_rows : int
        Rows (along the first transform axis) that hold data; the rest are zero.
    keep_rows : tuple of int
        ``(start, stop)`` of the rows the output keeps.
    pieces : int
        Slabs per pass.
    effort : str
        FFTW planner rigour.
    """

    def __init__(self, fft_shape: tuple[int, ...], compute: np.dtype, data_rows: int,
                 keep_rows: tuple[int, int], pieces: int, effort: str = "estimate") -> None:
        fftw = _pyfftw()
        rdt, cdt, real = fft_dtypes(compute)
        shape = tuple(fft_shape)
        last = shape[-1] // 2 + 1 if real else shape[-1]
        spec_shape = (*shape[:-1], last)
        self.real, self.fft_shape = real, shape
        self.inbuf = fftw.zeros_aligned(shape, rdt)
        self.spec = fftw.zeros_aligned(spec_shape, cdt)
        self.outbuf = fftw.zeros_aligned(shape, rdt)
        self.data_rows, self.keep = data_rows, keep_rows
        flag = _FLAGS[effort]
        col_axes = tuple(range(len(shape) - 1))
        # complex64 is 8 bytes: slabs of 8 columns start on 64-byte boundaries
        self.row_fwd = _ranges(data_rows, pieces)
        self.cols = _ranges(last, pieces, 8)
        self.row_inv = _ranges(keep_rows[1] - keep_rows[0], pieces)
        with _plan_lock:  # FFTW's planner is not re-entrant
            def plan(a: np.ndarray, b: np.ndarray, axes: tuple[int, ...], direction: str,
                     *extra: str) -> Any:
                return fftw.FFTW(a, b, axes=axes, direction=direction, flags=(flag, *extra),
                                 threads=1)

            self._fwd_rows = [plan(self.inbuf[r0:r1], self.spec[r0:r1], (-1,), "FFTW_FORWARD")
                              for r0, r1 in self.row_fwd]
            self._cols = [(plan(self.spec[..., c0:c1], self.spec[..., c0:c1], col_axes,
                                "FFTW_FORWARD"),
                           plan(self.spec[..., c0:c1], self.spec[..., c0:c1], col_axes,
                                "FFTW_BACKWARD"))
                          for c0, c1 in self.cols]
            s0 = keep_rows[0]
            self._inv_rows = [plan(self.spec[s0 + r0:s0 + r1], self.outbuf[s0 + r0:s0 + r1],
                                   (-1,), "FFTW_BACKWARD", "FFTW_DESTROY_INPUT")
                              for r0, r1 in self.row_inv]
        self.inbuf[...] = 0  # MEASURE planning scribbles on the buffers
        self.spec[...] = 0

    def run(self, fill: Callable[[int, int, np.ndarray], None] | None, kspec: np.ndarray,
            emit: Callable[[int, int, np.ndarray], None], threads: int) -> None:
        """One convolution: ``fill(r0, r1, rows)`` writes input rows ``r0:r1`` into
        ``rows`` (None: :attr:`inbuf` is filled already); ``kspec`` is the kernel spectrum
        ``spec``-shaped; ``emit(r0, r1, rows)`` takes the result rows ``keep[0] + r0 ..``."""
        inbuf, spec, outbuf = self.inbuf, self.spec, self.outbuf
        data_rows = self.data_rows

        def rows_forward(i: int) -> None:
            r0, r1 = self.row_fwd[i]
            if fill is not None:
                fill(r0, r1, inbuf[r0:r1])
            self._fwd_rows[i].execute()

        def columns(i: int) -> None:
            c0, c1 = self.cols[i]
            spec[data_rows:, ..., c0:c1] = 0  # rows of zeros transform to zeros
            fwd, inv = self._cols[i]
            fwd.execute()
            view = spec[..., c0:c1]
            np.multiply(view, kspec[..., c0:c1], out=view)
            inv.execute()

        s0 = self.keep[0]

        def rows_inverse(i: int) -> None:
            r0, r1 = self.row_inv[i]
            self._inv_rows[i].execute()
            emit(r0, r1, outbuf[s0 + r0:s0 + r1])

        parallel_map(rows_forward, range(len(self.row_fwd)), threads)
        parallel_map(columns, range(len(self.cols)), threads)
        parallel_map(rows_inverse, range(len(self.row_inv)), threads)


class SlabScratch:
    """One :class:`SlabConvolution` per calling thread (a plan may be called from many)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args, self._kwargs = args, kwargs
        self._local = threading.local()

    def get(self) -> SlabConvolution:
        conv = getattr(self._local, "conv", None)
        if conv is None:
            conv = self._local.conv = SlabConvolution(*self._args, **self._kwargs)
        return conv
