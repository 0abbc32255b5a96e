"""The ``Literal`` aliases of the public signatures, in one place.

:data:`Method` lists the registered strategies' names; ``tests/test_registry.py`` holds
it to :func:`fftconv.strategies.names`, so registering a strategy means adding its name
here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Union

__all__ = ["Anchor", "Axes", "Boundary", "Effort", "Method", "Mode", "NanPolicy", "Operation"]

Mode = Literal["full", "same", "valid"]
Boundary = Literal["constant", "reflect", "symmetric", "edge", "wrap", "fill", "zeros",
                   "mirror", "symm", "nearest", "replicate", "circular", "periodic"]
Method = Literal["auto", "direct", "separable", "fft", "overlap"]
Effort = Literal["estimate", "measure"]
NanPolicy = Literal["propagate", "omit", "raise"]
Operation = Literal["convolve", "correlate"]
Axes = Union[int, Sequence[int], None]
Anchor = Union[int, Sequence[int], None]
