"""The neural-network convention: ``torch.nn.functional.conv*d`` and ``tf.nn.conv*d``.

A "convolution" layer of a neural-network library is a **cross-correlation**: the kernel
is not flipped, and a complex kernel is not conjugated. With ``x`` the padded input,
``s`` the stride and ``d`` the dilation, along every spatial axis::

    out[n, o, i] = bias[o] + sum_c sum_j weight[o, c, j] * x[n, g(o) * C/groups + c, i*s + j*d]

where ``g(o)`` is the group of output channel ``o``. For one channel and stride 1 this is
the core's ``fftconv.correlate(x, k, mode='valid', conjugate=False)``.

Two strategies, chosen per problem by a cost model (or by ``method=``): ``'direct'``,
the sum itself -- a compiled kernel that blocks four output channels by four taps over
strips of outputs, or im2col and a matrix product through BLAS, whichever the cost
model predicts faster; ``'fft'``, each input channel transformed once, the sum over
input channels done in the frequency domain, one inverse transform per output channel,
and strides served by polyphase decomposition or subsampling. The weight preparation
(and its spectra) is cached for a repeated weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Union

import numpy as np

from .._docs import docfiller
from .._machine.workers import resolve_workers
from .._validate import as_dtype, as_shape
from ._plan import choose, estimates, get_plan, report
from ._problem import from_channels_first, make_nn_problem
from ._report import NNPlanReport

__all__ = ["NNPlanReport", "conv1d", "conv2d", "conv3d", "explain"]

IntOrTuple = Union[int, Sequence[int]]
Padding = Union[int, Sequence[int], Sequence[Sequence[int]], Literal["valid", "same"]]
DataFormat = Literal["channels_first", "channels_last"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
Method = Literal["auto", "direct", "fft"]

_DOC = """%(title)s

    Cross-correlation with torch's and TensorFlow's conventions (no flip, no
    conjugation); see :mod:`fftconv.nn`.

    Parameters
    ----------
    input : array_like
        ``channels_first``: ``(N, C, %(sp)s)`` or unbatched ``(C, %(sp)s)`` (torch);
        ``channels_last``: ``(N, %(sp)s, C)`` or ``(%(sp)s, C)`` (TensorFlow).
    weight : array_like
        ``channels_first``: ``(O, C/groups, %(ks)s)``; ``channels_last``:
        ``(%(ks)s, C/groups, O)``.
    bias : array_like, optional
        ``(O,)``, added to every output of its channel.
    stride, dilation : int or tuple of %(d)s ints, optional
        Step between outputs, and between kernel taps.
    padding : int, tuple, ``((lo, hi), ...)``, ``'valid'`` or ``'same'``, optional
        Samples added on each side of every spatial axis: one int for all, one per axis,
        or explicit ``(lo, hi)`` pairs per axis. ``'valid'`` is 0. ``'same'`` follows
        TensorFlow, also with ``stride > 1`` (torch refuses that): per axis
        ``total = max((ceil(N/s) - 1) * s + (K - 1) * d + 1 - N, 0)``,
        ``lo = total // 2``, ``hi = total - lo`` -- the extra sample of an odd total goes
        after the input, so for stride 1 kernel index ``(K - 1) // 2`` multiplies
        ``x[i]`` in ``out[i]``.
    groups : int, optional
        Input and output channels are split into ``groups`` blocks, block ``g`` of the
        output seeing only block ``g`` of the input (``groups = C``: depthwise).
    data_format : {'channels_first', 'channels_last'}, optional
        Layout of ``input``, ``weight`` and the result.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, optional
        How the padding is filled, in torch's words: ``'zeros'``
        ``0 0 | a b c d | 0 0``, ``'reflect'`` ``c b | a b c d | c b`` (numpy's reflect,
        without torch's limit of a pad smaller than the input), ``'replicate'``
        ``a a | a b c d | d d``, ``'circular'`` ``c d | a b c d | a b``. Works with every
        ``padding`` form.
    method : {'auto', 'direct', 'fft'}, optional
        ``'auto'`` lets the cost model choose.

    Returns
    -------
    ndarray
        ``channels_first``: ``(N, O, %(ls)s)`` (``(O, %(ls)s)`` unbatched);
        ``channels_last``: ``(N, %(ls)s, O)``. Length per axis
        ``L = (N + lo + hi - (K - 1) * d - 1) // s + 1``. The dtype is numpy's promotion
        of the operands (float32 stays float32, complex is kept); integer-only operands
        compute in float64, float16 in float32.

    Raises
    ------
    ValueError
        Naming the parameter: a bad layout or option, a channel count that does not
        match the weight, ``groups`` not dividing ``C`` or ``O``, a kernel larger than
        the padded input.
    TypeError
        For non-numeric dtypes.

    Examples
    --------
%(examples)s
    """


def _conv(d: int, input: object, weight: object, bias: object, stride: object,
          padding: object, dilation: object, groups: object, data_format: object,
          padding_mode: object, method: object) -> np.ndarray:
    call = make_nn_problem(d, input, weight, bias, stride=stride, padding=padding,
                           dilation=dilation, groups=groups, data_format=data_format,
                           padding_mode=padding_mode, method=method)
    plan = get_plan(call.problem, np.ascontiguousarray(call.w), call.method,
                    resolve_workers(None))
    y = from_channels_first(plan(call.x, call.bias, auto=call.method == "auto"),
                            call.data_format)
    return y[0] if call.unbatched else y


def explain(input_shape: Sequence[int], weight_shape: Sequence[int], stride: IntOrTuple = 1,
            padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
            data_format: DataFormat = "channels_first", padding_mode: PaddingMode = "zeros",
            method: Method = "auto", dtype: object = "float32") -> NNPlanReport:
    """The plan report of a ``conv1d``/``conv2d``/``conv3d`` call, without building anything.

    The dimension is ``len(weight_shape) - 2``; the other parameters are those of
    :func:`conv2d`, and ``dtype`` is the dtype of the input and the weight.

    Returns
    -------
    NNPlanReport
        ``print()`` it for a table of both strategies, their estimates and why one lost.

    Examples
    --------
    >>> from fftconv import nn
    >>> nn.explain((8, 16, 64, 64), (16, 16, 3, 3), padding="same").method
    'direct'
    >>> nn.explain((1, 3, 512, 512), (8, 3, 31, 31)).method
    'fft'
    """
    wshape = as_shape(weight_shape, "weight_shape")
    if len(wshape) not in (3, 4, 5):
        raise ValueError(f"weight_shape={weight_shape!r} is invalid; expected (O, C/groups, "
                         "*k) with 1, 2 or 3 spatial axes")
    dt = as_dtype(dtype, "dtype")
    shapes = as_shape(input_shape, "input_shape"), wshape
    x, w = (np.broadcast_to(np.zeros((), dt), s) for s in shapes)
    call = make_nn_problem(len(wshape) - 2, x, w, None, stride=stride, padding=padding,
                           dilation=dilation, groups=groups, data_format=data_format,
                           padding_mode=padding_mode, method=method)
    workers = resolve_workers(None)
    est = estimates(call.problem, workers)
    chosen = choose(est, call.method, True)
    return report(call.problem, est, chosen, call.method, est.direct_impl, True, workers)


def conv1d(input: object, weight: object, bias: object = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
           data_format: DataFormat = "channels_first", padding_mode: PaddingMode = "zeros",
           method: Method = "auto") -> np.ndarray:
    return _conv(1, input, weight, bias, stride, padding, dilation, groups, data_format,
                 padding_mode, method)


def conv2d(input: object, weight: object, bias: object = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
           data_format: DataFormat = "channels_first", padding_mode: PaddingMode = "zeros",
           method: Method = "auto") -> np.ndarray:
    return _conv(2, input, weight, bias, stride, padding, dilation, groups, data_format,
                 padding_mode, method)


def conv3d(input: object, weight: object, bias: object = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
           data_format: DataFormat = "channels_first", padding_mode: PaddingMode = "zeros",
           method: Method = "auto") -> np.ndarray:
    return _conv(3, input, weight, bias, stride, padding, dilation, groups, data_format,
                 padding_mode, method)


_EXAMPLES = {
    1: """    >>> import numpy as np
    >>> from fftconv import nn
    >>> x = np.array([[[1., 2., 3., 4.]]])          # (N=1, C=1, W=4)
    >>> w = np.array([[[1., 0., -1.]]])             # (O=1, C=1, kW=3): no flip
    >>> nn.conv1d(x, w)
    array([[[-2., -2.]]])
    >>> nn.conv1d(x, w, padding="same", padding_mode="replicate")
    array([[[-1., -2., -2., -1.]]])""",
    2: """    >>> import numpy as np
    >>> from fftconv import nn
    >>> x = np.arange(16.).reshape(1, 4, 4, 1)      # (N, H, W, C), TensorFlow's layout
    >>> w = np.ones((2, 2, 1, 1))                   # (kH, kW, C, O)
    >>> nn.conv2d(x, w, stride=2, padding="same", data_format="channels_last")[..., 0]
    array([[[10., 18.],
            [42., 50.]]])""",
    3: """    >>> import numpy as np
    >>> from fftconv import nn
    >>> x = np.ones((2, 5, 5, 5))                   # unbatched (C, D, H, W)
    >>> nn.conv3d(x, np.ones((4, 2, 3, 3, 3)), padding=1).shape
    (4, 5, 5, 5)""",
}
for _d, _f in enumerate((conv1d, conv2d, conv3d), start=1):
    _axes = ("W", "H, W", "D, H, W")[_d - 1].split(", ")
    _f.__doc__ = _DOC
    docfiller({
        "title": f"{_d}-d convolution layer (cross-correlation) over ``input`` with ``weight``.",
        "d": str(_d), "sp": ", ".join(_axes), "ks": ", ".join("k" + a for a in _axes),
        "ls": ", ".join("L" + a for a in _axes), "examples": _EXAMPLES[_d]})(_f)
del _d, _f, _axes
