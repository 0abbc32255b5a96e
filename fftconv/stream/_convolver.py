"""``StreamConvolver``: exact convolution of a signal that arrives in blocks."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from ._checks import as_axis, as_count, as_kernel, as_latency, as_method
from ._core import compute_and_result_dtype, fill, resolve_workers
from ._cost import candidates
from ._engine import Engine
from ._partition import Partitioning
from ._report import StreamReport

__all__ = ["StreamConvolver"]


def _view2d(a: np.ndarray, channels: int) -> np.ndarray | None:
    """``a`` (``(*channels, m)``) as a ``(channels, m)`` view, or None if that needs a copy."""
    v = a.reshape(channels, a.shape[-1])
    return None if v.flags.owndata and a.size else v


@fill
class StreamConvolver:
    """Convolve a stream, block by block, exactly as one whole-signal convolution.

    The concatenated outputs of :meth:`process` and :meth:`flush` equal
    ``fftconv.convolve(whole_signal, kernel, mode='full')`` along ``axis``, delayed by
    :attr:`latency` samples (leading zeros), for any lengths of the blocks handed in.

    Parameters
    ----------
    kernel : array_like
        The impulse response. 1-D: one kernel for every channel. n-D: the same number of
        dimensions as the blocks, taps along ``axis``, and on every other axis length 1
        (shared) or the blocks' length (one kernel per channel).
    block_size : int
        The block length the convolver is tuned for. :meth:`process` accepts any
        length; work is done in blocks of this size.
    axis : int, optional
        The stream (time) axis of the blocks; other axes are channels.
    latency : int, optional
        Delay of the output in samples (default: ``block_size``). With a latency
        shorter than a block, a direct-form head partition computes the first taps as
        samples arrive; ``latency=0`` gives zero-delay output.
    dtype : {'float32', 'float64', 'complex64', 'complex128'}, optional
        Computation and result dtype. By default the core's rule on the first block and
        the kernel: float32 stays float32, float64 and complex likewise, mixed inputs
        take ``numpy.result_type``; integer inputs compute in float64 (as lfilter).
    method : {'auto', 'uniform', 'nonuniform', 'direct'}, optional
        The partitioning: ``'uniform'`` (UPOLS, block-sized partitions, frequency-domain
        delay line), ``'nonuniform'`` (partitions doubling in size after the first,
        for long kernels), ``'direct'`` (time-domain sum, for short kernels); ``'auto'``
        takes the cheapest by the cost model. See :meth:`report`.
    %(workers)s
        Only FFT partitions of 8192 taps or more use several threads.

    Notes
    -----
    Buffers are allocated by the first :meth:`process` call (when the channel layout and
    dtype are known); after it, ``process(block, out=...)`` allocates nothing. A
    convolver holds the state of one stream: use one per stream (separate convolvers
    may run in separate threads at once).

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> from fftconv.stream import StreamConvolver
    >>> rng = np.random.default_rng(0)
    >>> x, h = rng.standard_normal(1000), rng.standard_normal(300)
    >>> sc = StreamConvolver(h, 64, latency=0)
    >>> y = np.concatenate([sc.process(b) for b in np.array_split(x, 7)] + [sc.flush()])
    >>> bool(np.allclose(y, fftconv.convolve(x, h)))
    True
    """

    def __init__(self, kernel: object, block_size: int, *, axis: int = -1,
                 latency: int | None = None, dtype: DTypeLike | None = None, method: str = "auto",
                 workers: int | None = None) -> None:
        k = as_kernel(kernel)
        self._axis_arg = axis
        self._block = as_count(block_size, "block_size")
        self._latency = as_latency(latency, self._block)
        self._method = as_method(method)
        self._workers = resolve_workers(workers)
        self._dtype_arg = dtype
        if dtype is not None:  # validate now, before any block
            compute_and_result_dtype(np.dtype(np.float64), k.dtype, dtype)
        tap_axis = 0 if k.ndim == 1 else as_axis(axis, k.ndim)
        self._kernel = k
        self._k = k.shape[tap_axis]
        guess = np.dtype(dtype) if dtype is not None else (
            k.dtype if k.dtype.kind in "fc" else np.dtype(np.float64))
        self._plan(None, guess)
        self._engine: Engine | None = None
        self._fade: list[int] | None = None  # [first emitted sample of the fade, length]

    # -- planning ----------------------------------------------------------------------
    def _plan(self, channels: int | None, dtype: np.dtype) -> None:
        cands = candidates(self._k, self._block, self._latency, channels or 1, dtype)
        if self._method == "auto":
            chosen = min(cands, key=lambda c: c[1].mean)[0]
        else:
            chosen = next(p for p, _ in cands if p.method == self._method)
        self._part: Partitioning = chosen
        self._report = StreamReport(chosen, tuple(cands), self._method, channels, dtype)

    def _prepare(self, kernel: np.ndarray, name: str) -> np.ndarray:
        """``kernel`` as ``(kc, K')`` in the compute dtype, checked against the layout."""
        if kernel.ndim == 1:
            return kernel.astype(self._dtype, copy=False).reshape(1, -1)
        if kernel.ndim != self._ndim:
            raise ValueError(f"{name} has {kernel.ndim} dimensions but the blocks have "
                             f"{self._ndim}; expected 1 (shared) or {self._ndim}")
        moved = np.moveaxis(kernel, self._axis, -1)
        for got, want in zip(moved.shape[:-1], self._chan):
            if got not in (1, want):
                raise ValueError(
                    f"{name} has shape {kernel.shape}, which does not fit blocks of channel "
                    f"shape {self._chan} (axis={self._axis_arg}): each non-tap axis needs "
                    "length 1 or the blocks' length")
        if all(s == 1 for s in moved.shape[:-1]):
            return moved.reshape(1, -1).astype(self._dtype)
        full = np.broadcast_to(moved, (*self._chan, moved.shape[-1]))
        return np.ascontiguousarray(full.reshape(-1, moved.shape[-1]), dtype=self._dtype)

    def _bind_first_block(self, x: np.ndarray) -> None:
        if x.ndim == 0:
            raise ValueError("block is a scalar; expected an array with a stream axis")
        self._ndim = x.ndim
        self._axis = as_axis(self._axis_arg, x.ndim)
        chan = tuple(s for i, s in enumerate(x.shape) if i != self._axis)
        compute = compute_and_result_dtype(x.dtype, self._kernel.dtype, self._dtype_arg)[0]
        if compute.kind in "iu":
            compute = np.dtype(np.float64)
        self._chan, self._dtype, self._x_dtype = chan, compute, x.dtype
        h = self._prepare(self._kernel, "kernel")
        channels = math.prod(chan)
        self._channels = channels
        self._plan(channels, compute)
        self._engine = Engine(self._part, channels, h.shape[0], compute, self._workers)
        self._engine.load(h)
        self._h = h
        self._scratch = np.zeros((channels, self._block), compute)
        self._scratch_out = np.zeros((channels, self._block), compute)

    def _check_block(self, x: np.ndarray) -> None:
        if x.dtype != self._x_dtype:
            got = compute_and_result_dtype(x.dtype, self._kernel.dtype, self._dtype_arg)[0]
            ok = got == self._dtype or (got.kind in "iu" and self._dtype == np.float64)
            if not ok:
                raise ValueError(
                    f"block has dtype {x.dtype}, which would compute in {got}, but this "
                    f"convolver computes {self._dtype} (fixed by the first block); convert "
                    "the block, or make the convolver with dtype=")
        chan = tuple(s for i, s in enumerate(x.shape) if i != self._axis)
        if x.ndim != self._ndim or chan != self._chan:
            raise ValueError(
                f"block has shape {x.shape}; expected {self._ndim} dimensions with channel "
                f"shape {self._chan} around the stream axis {self._axis} (fixed by the "
                "first block)")

    # -- streaming ---------------------------------------------------------------------
    def process(self, block: object, out: np.ndarray | None = None) -> np.ndarray:
        """Take the next samples of the stream; return as many output samples.

        Parameters
        ----------
        block : array_like
            The next samples, stream axis ``axis``, any length (``block_size`` is the
            efficient one).
        out : ndarray, optional
            Where to write the result: the block's shape, the convolver's dtype. With it,
            no memory is allocated after the first call.

        Returns
        -------
        ndarray
            Output samples ``t - latency`` of the full convolution, for the input
            samples ``t`` of this block.
        """
        x = np.asarray(block)
        if self._engine is None:
            if x.dtype.kind not in "biufc":
                raise TypeError(f"block has dtype {x.dtype}; expected numbers")
            self._bind_first_block(x)
        else:
            self._check_block(x)
        if out is None:
            out = np.empty(x.shape, self._dtype)
        elif (not isinstance(out, np.ndarray) or out.shape != x.shape
              or out.dtype != self._dtype):
            desc = (f"shape {out.shape} and dtype {out.dtype}" if isinstance(out, np.ndarray)
                    else f"type {type(out).__name__}")
            raise ValueError(f"out has {desc}; expected an ndarray of shape {x.shape} and "
                             f"dtype {self._dtype}")
        self._push(x, out)
        return out

    def _push(self, x: np.ndarray, out: np.ndarray) -> None:
        eng = self._engine
        assert eng is not None
        xm = np.moveaxis(x, self._axis, -1)
        om = np.moveaxis(out, self._axis, -1)
        x2, o2 = _view2d(xm, self._channels), _view2d(om, self._channels)
        m, b = xm.shape[-1], self._block
        start = 0
        while start < m:
            step = min(m - start, b - eng.received % b)
            stop = start + step
            if x2 is not None:
                piece = x2[:, start:stop]
            else:
                piece = self._scratch[:, :step]
                np.copyto(piece.reshape(*self._chan, step), xm[..., start:stop],
                          casting="unsafe")
            t = eng.received
            eng.advance(piece, 2 if self._fade else 1)
            dst = o2[:, start:stop] if o2 is not None else self._scratch_out[:, :step]
            self._emit(dst, t, step)
            if o2 is None:
                np.copyto(om[..., start:stop], dst.reshape(*self._chan, step))
            start = stop

    def _emit(self, dst: np.ndarray, t: int, step: int) -> None:
        eng = self._engine
        assert eng is not None
        lat = self._latency
        if self._fade is None:
            eng.emit(dst, t - lat)
            return
        t0, length = self._fade
        mixed = min(step, t0 + length - t)
        eng.emit_mix(dst[:, :mixed], t - lat, t - t0, length)
        if t + mixed >= t0 + length:  # the fade is over: the new kernel is current
            eng.swap()
            self._h = self._h_next
            self._fade = None
            if mixed < step:
                eng.emit(dst[:, mixed:], t + mixed - lat)

    def flush(self) -> np.ndarray:
        """Return the rest of the output (``K - 1 + latency`` samples) and reset.

        The stream then starts again from silence, with the same channel layout.
        """
        if self._engine is None:
            raise ValueError("flush() called before any block; process at least one block "
                             "first (it fixes the channel layout)")
        shape = list(self._chan)
        shape.insert(self._axis, self._k - 1 + self._latency)
        tail = self.process(np.zeros(shape, self._dtype))
        self.reset()
        return tail

    def reset(self) -> None:
        """Forget the stream: the next block is the start of a new signal."""
        if self._fade is not None and self._engine is not None:
            self._engine.swap()
            self._h = self._h_next
            self._fade = None
        if self._engine is not None:
            self._engine.reset()

    def set_kernel(self, kernel: object, crossfade: int = 0) -> None:
        """Replace the impulse response between blocks.

        The output is the full convolution with the old kernel until now, and with the
        new one after a linear crossfade: output sample ``i`` of the fade (``i = 0`` is
        the next one) is ``(1 - g) y_old + g y_new`` with ``g = (i + 1) / crossfade``,
        where ``y_old`` and ``y_new`` are whole-signal convolutions with each kernel.

        Parameters
        ----------
        kernel : array_like
            The new kernel: the same form as the first one (shared or per channel), at
            most as many taps (shorter kernels are padded with zeros).
        crossfade : int, optional
            Length of the fade in samples (0: switch at once).
        """
        k = as_kernel(kernel)
        n = as_count(crossfade, "crossfade", 0)
        taps = k.shape[0] if k.ndim == 1 else k.shape[as_axis(self._axis_arg, k.ndim)]
        if taps > self._k:
            raise ValueError(f"kernel has {taps} taps, more than the {self._k} this convolver "
                             "was made for; make a new StreamConvolver for a longer kernel")
        if self._fade is not None:
            raise ValueError(f"set_kernel called during a crossfade ({self._fade[1]} samples "
                             "from the previous set_kernel); wait until it has been emitted")
        eng = self._engine
        if eng is None:
            self._kernel = k
            return
        h = self._prepare(k, "kernel")
        if h.shape[0] != eng.kc:
            if eng.kc == 1:
                raise ValueError("kernel has one kernel per channel, but the convolver was "
                                 "made with a shared kernel; make a new StreamConvolver")
            h = np.broadcast_to(h, (eng.kc, h.shape[1]))
        eng.load(h, 1)
        eng.pending(h, eng.accs[1])
        self._h_next = h
        if n == 0:
            eng.swap()
            self._h = h
        else:
            self._fade = [eng.received, n]

    # -- description -------------------------------------------------------------------
    @property
    def latency(self) -> int:
        """Samples by which the output lags the whole-signal convolution."""
        return self._latency

    @property
    def block_size(self) -> int:
        return self._block

    @property
    def kernel_length(self) -> int:
        return self._k

    @property
    def method(self) -> str:
        """The partitioning in use: ``'uniform'``, ``'nonuniform'`` or ``'direct'``."""
        return self._part.method

    @property
    def partitioning(self) -> Partitioning:
        return self._part

    def report(self) -> StreamReport:
        """The planner's table: every partitioning's predicted cost per block."""
        return self._report

    def __repr__(self) -> str:
        return (f"StreamConvolver(kernel_length={self._k}, block_size={self._block}, "
                f"latency={self._latency}, method={self.method!r})")
