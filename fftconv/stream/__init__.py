"""Streaming convolution: signals that arrive in blocks, and stateful FIR filtering.

- :class:`StreamConvolver` convolves a stream block by block (partitioned overlap-save:
  uniform, non-uniform, or direct for short kernels), its output the whole-signal
  convolution delayed by a chosen latency (0 included).
- :func:`fir_filter` is ``scipy.signal.lfilter(b, [1.0], x, axis, zi)`` for FIR filters,
  computed by FFT, with the same ``zi``/``zf`` state convention.
"""

from ._convolver import StreamConvolver
from ._fir import fir_filter
from ._partition import Partitioning, Segment
from ._report import StreamReport

__all__ = ["Partitioning", "Segment", "StreamConvolver", "StreamReport", "fir_filter"]
