"""The neural-network convolution problem: layouts, padding rules and validation.

Everything is checked here, before any array work, and normalised to the torch layout:
input ``(N, C, *spatial)``, weight ``(O, C/groups, *k)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._arraytypes import as_index
from .._machine.costs import machine_costs
from .._numerics.boundary import PadMode
from .._validate import as_array, check_option, invalid_option

__all__ = [
    "DATA_FORMATS",
    "METHODS",
    "PADDING_MODES",
    "NNCall",
    "NNProblem",
    "from_channels_first",
    "make_nn_problem",
    "same_padding",
    "to_channels_first",
]

DATA_FORMATS = ("channels_first", "channels_last")
#: torch's padding modes -> numpy.pad's.
PADDING_MODES: dict[str, PadMode] = {"zeros": "constant", "reflect": "reflect",
                                     "replicate": "edge", "circular": "wrap"}
METHODS = ("auto", "direct", "fft")
_AXES = ("W", "HW", "DHW")


@dataclass(frozen=True, slots=True)
class NNProblem:
    """One ``conv{d}d`` call in the torch layout (hashable: the plan-cache key).

    Attributes
    ----------
    batch, channels, out_channels, groups : int
        ``N``, ``C``, ``O`` and the number of groups.
    n, k, stride, dilation : tuple of int
        Per spatial axis: input length, kernel taps, stride, dilation.
    pad : tuple of (int, int)
        Per spatial axis, the samples added before and after the input.
    boundary : str
        numpy.pad's name of the padding rule.
    dtype : numpy.dtype
        Compute and result dtype.
    """

    batch: int
    channels: int
    out_channels: int
    groups: int
    n: tuple[int, ...]
    k: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    boundary: PadMode
    dtype: np.dtype

    @property
    def padded(self) -> tuple[int, ...]:
        """Length of the padded input per axis."""
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.n, self.pad))

    @property
    def span(self) -> tuple[int, ...]:
        """Length of the dilated kernel, ``(k - 1) * dilation + 1``, per axis."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.k, self.dilation))

    @property
    def out_len(self) -> tuple[int, ...]:
        """Output length per axis, ``(padded - span) // stride + 1``."""
        return tuple((p - e) // s + 1 for p, e, s in zip(self.padded, self.span, self.stride))

    @property
    def macs(self) -> int:
        """Multiply-adds of the direct sum."""
        return (self.batch * self.out_channels * math.prod(self.out_len)
                * (self.channels // self.groups) * math.prod(self.k))


#: ``run(x, out)``: the convolution of ``x`` ``(N, C, *S)`` into ``out`` ``(N, O, *L)``.
Runner = Callable[[np.ndarray, np.ndarray], None]


def nn_costs() -> tuple[dict, dict]:
    """The machine constants, and their ``nn`` section (BLAS, im2col, spectral sums)."""
    costs = machine_costs()
    return costs, costs["nn"]


def pad(x: np.ndarray, p: NNProblem) -> np.ndarray:
    """``x`` ``(N, C, *n)`` with the problem's padding (no copy when there is none)."""
    if all(lo == hi == 0 for lo, hi in p.pad):
        return x
    return np.pad(x, [(0, 0), (0, 0), *p.pad], mode=p.boundary)


def kept_phases(k: tuple[int, ...], dilation: tuple[int, ...],
                stride: tuple[int, ...]) -> list[list[int]]:
    """Per axis, the phases ``j * d % s`` some tap ``j`` reads (a dilation may leave some
    phases empty): the one rule of both the direct kernel's and the FFT's phase split."""
    return [sorted({(j * dl) % s for j in range(kk)}) for kk, dl, s in zip(k, dilation, stride)]


def _dims(name: str, value: object, d: int, minimum: int) -> tuple[int, ...]:
    """An int or a length-``d`` sequence of ints ``>= minimum``, as a tuple."""
    what = "a positive int" if minimum == 1 else "a non-negative int"
    seq = list(value) if isinstance(value, (Sequence, np.ndarray)) else [value] * d
    try:
        if len(seq) != d or any(isinstance(v, (bool, np.bool_)) for v in seq):
            raise TypeError
        out = tuple(as_index(v) for v in seq)
    except TypeError:
        raise ValueError(f"{name}={value!r} is invalid; expected {what} or a tuple of {d} "
                         "such ints") from None
    if any(v < minimum for v in out):
        raise ValueError(f"{name}={value!r} is invalid; expected {what} or a tuple of {d} "
                         "such ints")
    return out


def same_padding(n: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding ``(lo, hi)``: the output has ``ceil(n / stride)`` samples.

    ``total = max((ceil(n/s) - 1) * s + (k - 1) * d + 1 - n, 0)``, ``lo = total // 2``.
    """
    total = max((-(-n // stride) - 1) * stride + (k - 1) * dilation + 1 - n, 0)
    return total // 2, total - total // 2


def _padding(value: object, d: int, n: tuple[int, ...], k: tuple[int, ...],
             stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    if isinstance(value, str):
        if value == "valid":
            return ((0, 0),) * d
        if value == "same":
            return tuple(same_padding(*a) for a in zip(n, k, stride, dilation))
        raise invalid_option("padding", value, ("same", "valid"),
                             "; or an int, a tuple of ints, or ((lo, hi), ...) per axis")
    if (isinstance(value, Sequence) and len(value) == d
            and all(isinstance(v, (Sequence, np.ndarray)) for v in value)):
        pairs = [_dims("padding", v, 2, 0) for v in value]
        return tuple((lo, hi) for lo, hi in pairs)
    return tuple((p, p) for p in _dims("padding", value, d, 0))


def _shape_text(d: int, fmt: str, weight: bool) -> str:
    sp = ", ".join(f"{a}" for a in _AXES[d - 1])
    ks = ", ".join(f"k{a}" for a in _AXES[d - 1])
    if weight:
        return f"(O, C/groups, {ks})" if fmt == "channels_first" else f"({ks}, C/groups, O)"
    if fmt == "channels_first":
        return f"(N, C, {sp}) or (C, {sp})"
    return f"(N, {sp}, C) or ({sp}, C)"


def _float_dtype(*dtypes: np.dtype) -> np.dtype:
    for dt, name in zip(dtypes, ("input", "weight", "bias")):
        if dt.kind not in "biufc":
            raise TypeError(f"{name} has dtype {dt}, which fftconv cannot convolve; expected "
                            "a floating or complex dtype")
    dt = np.result_type(*dtypes)
    if dt.kind in "biu":
        return np.dtype(np.float64)
    if dt == np.float16:
        return np.dtype(np.float32)
    if dt not in (np.float32, np.float64, np.complex64, np.complex128):
        raise TypeError(f"dtype {dt} (extended precision) is not supported; expected "
                        "float32, float64, complex64 or complex128")
    return dt


def to_channels_first(a: np.ndarray, fmt: str, weight: bool) -> np.ndarray:
    """View a channels-last input ``(N, *S, C)`` or weight ``(*k, I, O)`` in torch layout."""
    if fmt == "channels_first":
        return a
    if weight:
        return np.moveaxis(a, (-1, -2), (0, 1))
    return np.moveaxis(a, -1, 1)


def from_channels_first(y: np.ndarray, fmt: str) -> np.ndarray:
    """The output ``(N, O, *L)`` in the caller's layout (C-contiguous)."""
    return y if fmt == "channels_first" else np.ascontiguousarray(np.moveaxis(y, 1, -1))


_OTHER = {"channels_first": "channels_last", "channels_last": "channels_first"}


def _channels(a: np.ndarray, fmt: str, weight: bool, d: int) -> tuple[int, tuple[int, ...]]:
    """(channels per group, spatial shape) of a weight, or (channels, spatial) of an input,
    as ``fmt`` reads it (batched inputs only)."""
    if weight:
        return (a.shape[1], a.shape[2:]) if fmt == "channels_first" else (a.shape[-2], a.shape[:d])
    return (a.shape[1], a.shape[2:]) if fmt == "channels_first" else (a.shape[-1], a.shape[1:-1])


_MOVE_INPUT = {"channels_first": "np.moveaxis(input, -1, 1)",
               "channels_last": "np.moveaxis(input, 1, -1)"}
_MOVE_WEIGHT = {"channels_first": "np.moveaxis(weight, (-1, -2), (0, 1))",
                "channels_last": "np.moveaxis(weight, (0, 1), (-1, -2))"}
_LAYOUT = {("channels_first", False): "(N, C, *spatial)",
           ("channels_last", False): "(N, *spatial, C)",
           ("channels_first", True): "(O, C/groups, *k), torch's",
           ("channels_last", True): "(*k, C/groups, O), Keras'"}


def _layout_hint(x: np.ndarray, w: np.ndarray, fmt: str, d: int, g: object) -> str:
    """A hint when the input and weight fit together only if one is in the other layout."""
    groups = g if isinstance(g, (int, np.integer)) and not isinstance(g, bool) and g > 0 else 1
    other = _OTHER[fmt]
    for xf, wf in ((fmt, other), (other, fmt), (other, other)):
        if _channels(x, xf, False, d)[0] == _channels(w, wf, True, d)[0] * groups:
            break
    else:
        return ""
    if xf == wf:
        return (f"; input and weight look like data_format={other!r} "
                f"{_LAYOUT[other, False]} and {_LAYOUT[other, True]} layout: pass "
                f"data_format={other!r}")
    if wf != fmt:
        return (f"; the weight looks like data_format={other!r}, {_LAYOUT[other, True]} "
                f"layout: with data_format={fmt!r} pass {_MOVE_WEIGHT[fmt]}")
    return (f"; the input looks like data_format={other!r} {_LAYOUT[other, False]}: with "
            f"data_format={fmt!r} pass {_MOVE_INPUT[fmt]}")


def _ambiguous_weight(w: np.ndarray, fmt: str, d: int, c: int, groups: int) -> str | None:
    """A warning when a weight fits both layouts but only the other gives a typical kernel."""
    other = _OTHER[fmt]
    cg_here, k_here = _channels(w, fmt, True, d)
    cg_there, k_there = _channels(w, other, True, d)
    if cg_here * groups != c or cg_there * groups != c:
        return None
    # The other reading must give a typical odd square kernel (3x3, 5x5, ...) and this one
    # a kernel whose last length, the other reading's output channels, is the odd one out.
    typical = (d >= 2 and len(set(k_there)) == 1 and 1 < k_there[0] <= 11
               and k_there[0] % 2 == 1)
    if typical and k_here[-1] not in (1, k_there[0]) and set(k_here[:-1]) <= {k_there[0]}:
        return (f"weight of shape {w.shape} read with data_format={fmt!r} gives a "
                f"{'x'.join(map(str, k_here))} kernel; it looks like data_format={other!r} "
                f"with a {'x'.join(map(str, k_there))} kernel ({_LAYOUT[other, True]} layout); "
                f"if so, pass {_MOVE_WEIGHT[fmt]}")
    return None


class NNCall(NamedTuple):
    """One validated ``conv{d}d`` call, in the torch layout and the compute dtype."""

    problem: NNProblem
    #: The input ``(N, C, *S)`` (a view where no cast is needed).
    x: np.ndarray
    #: The weight ``(O, C/groups, *k)`` (a view where no cast is needed).
    w: np.ndarray
    #: The bias ``(O,)``, or None.
    bias: np.ndarray | None
    #: Whether the input had no batch axis (the result drops it too).
    unbatched: bool
    data_format: str
    method: str


def make_nn_problem(d: int, input: object, weight: object, bias: object, *, stride: object,
                    padding: object, dilation: object, groups: object, data_format: object,
                    padding_mode: object, method: object) -> NNCall:
    """Validate a ``conv{d}d`` call (every check, before any array work)."""
    fmt = check_option("data_format", data_format, DATA_FORMATS)
    mode = PADDING_MODES.get(padding_mode) if isinstance(padding_mode, str) else None
    if mode is None:
        raise invalid_option("padding_mode", padding_mode, PADDING_MODES)
    method_s = check_option("method", method, METHODS)
    x, w = as_array(input, "input"), as_array(weight, "weight")
    b = None if bias is None else as_array(bias, "bias")
    dtype = _float_dtype(x.dtype, w.dtype, *(() if b is None else (b.dtype,)))
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(f"input has shape {x.shape}; conv{d}d expects "
                         f"{_shape_text(d, fmt, False)} with data_format={fmt!r}")
    if w.ndim != d + 2:
        raise ValueError(f"weight has shape {w.shape}; conv{d}d expects "
                         f"{_shape_text(d, fmt, True)} with data_format={fmt!r}")
    unbatched = x.ndim == d + 1
    raw_x, raw_w = (x[None] if unbatched else x), w
    x = to_channels_first(raw_x, fmt, False)
    w = to_channels_first(w, fmt, True)
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)) \
            or groups < 1:
        raise ValueError(f"groups={groups!r} is invalid; expected a positive int")
    g = int(groups)
    c, o, cg = x.shape[1], w.shape[0], w.shape[1]
    if c % g:
        raise ValueError(f"groups={g} does not divide the input's {c} channels"
                         + _layout_hint(raw_x, raw_w, fmt, d, g))
    if o % g:
        raise ValueError(f"groups={g} does not divide the weight's {o} output channels")
    if cg * g != c:
        raise ValueError(f"channel mismatch: the input has {c} channels, but the weight "
                         f"expects {cg} per group x groups={g} = {cg * g}"
                         + _layout_hint(raw_x, raw_w, fmt, d, g))
    ambiguous = _ambiguous_weight(raw_w, fmt, d, c, g)
    if ambiguous:
        import warnings

        from .._errors import FFTConvWarning

        warnings.warn(ambiguous, FFTConvWarning, stacklevel=4)
    if b is not None and b.shape != (o,):
        raise ValueError(f"bias has shape {b.shape}; expected ({o},), one per output channel")
    s = _dims("stride", stride, d, 1)
    dil = _dims("dilation", dilation, d, 1)
    n, k = tuple(x.shape[2:]), tuple(w.shape[2:])
    if 0 in k:
        raise ValueError(f"weight has shape {w.shape}: an empty kernel axis")
    pad = _padding(padding, d, n, k, s, dil)
    problem = NNProblem(batch=x.shape[0], channels=c, out_channels=o, groups=g, n=n, k=k,
                        stride=s, dilation=dil, pad=pad, boundary=mode, dtype=dtype)
    for axis, (p, e) in enumerate(zip(problem.padded, problem.span)):
        if e > p:
            raise ValueError(
                f"the kernel is larger than the padded input along spatial axis {axis}: "
                f"{k[axis]} taps with dilation={dil[axis]} span {e} > {n[axis]} + padding "
                f"{pad[axis]} = {p}; increase padding or use a smaller weight")
    if mode != "constant" and any(lo or hi for lo, hi in pad) and 0 in n:
        raise ValueError(f"padding_mode={padding_mode!r} cannot pad an empty input")
    b_out = None if b is None else b.astype(dtype, copy=False)
    return NNCall(problem, x.astype(dtype, copy=False), w.astype(dtype, copy=False), b_out,
                  unbatched, fmt, method_s)
