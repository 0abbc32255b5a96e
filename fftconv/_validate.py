"""Option tables, argument parsers, and the construction of :class:`Problem`.

Everything a user can get wrong is checked here, before any array work; the errors
are worded by :func:`fftconv._errors.invalid_option`.
"""

from __future__ import annotations

import cmath
import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

from ._arraytypes import as_array, as_complex, as_dtype, as_index, as_shape
from ._errors import invalid_option
from ._machine.resources import resolve_max_memory
from ._numerics.dtypes import cast_exact, compute_and_result_dtype
from ._numerics.lowrank import separable_rank, small_facts
from ._problem import KernelFacts, Problem, canonical_pad

if TYPE_CHECKING:
    from ._engine import Options

__all__ = [
    "MODES", "BOUNDARIES", "BOUNDARY_ALIASES", "EFFORTS", "NAN_POLICIES",
    "invalid_option", "check_option", "canonical_boundary", "make_problem",
    "as_array", "as_dtype", "as_shape", "expand_kernel", "normalise_axes", "AxesRules",
    "CORE_AXES", "Kind", "make_kind", "with_kernel",
]

MODES = ("full", "same", "valid")
BOUNDARIES = ("constant", "edge", "reflect", "symmetric", "wrap")
BOUNDARY_ALIASES = {
    "fill": "constant", "zeros": "constant",
    "mirror": "reflect",
    "symm": "symmetric",
    "nearest": "edge", "replicate": "edge",
    "circular": "wrap", "periodic": "wrap",
}
EFFORTS = ("estimate", "measure")
NAN_POLICIES = ("omit", "propagate", "raise")


def check_option(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :func:`invalid_option`."""
    if isinstance(value, str) and value in choices:
        return value
    raise invalid_option(name, value, choices)


def canonical_boundary(value: object) -> str:
    """Map a boundary name or alias to numpy.pad's name."""
    if isinstance(value, str):
        if value in BOUNDARIES:
            return value
        if value in BOUNDARY_ALIASES:
            return BOUNDARY_ALIASES[value]
    aliases = ", ".join(f"{a!r}->{c!r}" for a, c in sorted(BOUNDARY_ALIASES.items()))
    raise invalid_option("boundary", value, BOUNDARIES, f" (aliases: {aliases})")


def _index(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} is invalid; expected an int")
    try:
        return as_index(value)
    except TypeError:
        raise ValueError(f"{name}={value!r} is invalid; expected an int") from None


class AxesRules(NamedTuple):
    """How one API reads ``axes``: what counts as one axis, and its error wording.

    Templates see ``axes`` (the argument), ``value`` (one entry), ``axis`` (a normalised
    entry) and ``ndim``. The core and each façade (which keeps its library's wording)
    pass their own rules to the one :func:`normalise_axes`.
    """

    #: Whether ``axes`` itself is one axis rather than a sequence of them.
    is_scalar: Callable[[object], bool]
    #: Whether ``True``/``False`` count as axes 1 and 0.
    bools: bool
    #: An entry that is not an int; None lets Python's TypeErrors through (``operator.index``'s,
    #: and an iterable's that cannot be iterated, as a 0-d array), as scipy.ndimage does.
    not_int: str | None
    #: ``axes`` neither a scalar nor iterable.
    not_iterable: str
    #: No axis at all (None: allowed).
    empty: str | None
    out_of_range: str
    repeated: str
    #: Whether an empty ``axes`` is also refused for a 0-d input.
    empty_0d: bool = True


def _core_scalar(axes: object) -> bool:
    return not isinstance(axes, (Sequence, np.ndarray)) or isinstance(axes, str)


#: The core functions' rules.
CORE_AXES = AxesRules(
    is_scalar=_core_scalar, bools=False,
    not_int="axes={value!r} is invalid; expected an int",
    not_iterable="axes={axes!r} is invalid; expected an int or a sequence of ints",
    empty="axes={axes!r} is invalid: it names no axis",
    out_of_range="axes={axes!r} is invalid: axis {value} is out of range for x with "
                 "{ndim} dimension{s}",
    repeated="axes={axes!r} is invalid: it repeats an axis", empty_0d=False)


def normalise_axes(axes: object, ndim: int, rules: AxesRules = CORE_AXES) -> tuple[int, ...]:
    """``axes`` (None, an int or a sequence of ints) as distinct non-negative axes of ``ndim``.

    The one normaliser of ``axes``; ``rules`` gives the scalar rule and the wording.
    """
    if axes is None:
        return tuple(range(ndim))
    if rules.is_scalar(axes):
        seq: list[object] = [axes]
    else:
        if not isinstance(axes, Iterable):
            raise ValueError(rules.not_iterable.format(axes=axes))
        try:
            seq = list(axes)
        except TypeError:  # an iterable that cannot be iterated, as a 0-d array
            if rules.not_int is None:
                raise
            raise ValueError(rules.not_iterable.format(axes=axes)) from None
    if not seq and rules.empty is not None and (ndim or rules.empty_0d):
        raise ValueError(rules.empty.format(axes=axes))
    out = []
    for value in seq:
        if not rules.bools and isinstance(value, (bool, np.bool_)):
            raise ValueError((rules.not_int or "{value!r}").format(axes=axes, value=value))
        try:
            index = as_index(value)
        except TypeError:
            if rules.not_int is None:
                raise
            raise ValueError(rules.not_int.format(axes=axes, value=value)) from None
        if not -ndim <= index < ndim:
            raise ValueError(rules.out_of_range.format(axes=axes, value=index, ndim=ndim,
                                                       s="s" if ndim != 1 else ""))
        out.append(index % ndim)
    if len(set(out)) != len(out):
        raise ValueError(rules.repeated.format(axes=axes))
    return tuple(out)


def expand_kernel_shape(kshape: tuple[int, ...], x_shape: tuple[int, ...],
                        axes: tuple[int, ...], axes_given: bool) -> tuple[tuple[int, ...], bool]:
    """Return the kernel's shape with one entry per axis of ``x``, and whether it is batched."""
    ndim = len(x_shape)
    if len(kshape) == ndim:
        full = kshape
    elif axes_given and len(kshape) == len(axes):
        f = [1] * ndim
        for a, s in zip(axes, kshape):
            f[a] = s
        full = tuple(f)
    else:
        want = f"{ndim}" if not axes_given or len(axes) == ndim else f"{len(axes)} or {ndim}"
        hint = "" if axes_given else " (pass axes= to convolve over some axes only)"
        raise ValueError(f"kernel has {len(kshape)} dimension{'s' if len(kshape) != 1 else ''} "
                         f"but x has {ndim}; expected {want}{hint}")
    batched = False
    for a in range(ndim):
        if a in axes:
            continue
        if full[a] != 1:
            if full[a] != x_shape[a]:
                raise ValueError(
                    f"kernel shape {kshape} does not fit x shape {x_shape}: along batch axis {a} "
                    f"the kernel has length {full[a]}; expected 1 or {x_shape[a]}")
            batched = True
    return full, batched


def expand_kernel(kernel: np.ndarray, full_shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """View ``kernel`` with the full shape computed by :func:`expand_kernel_shape`."""
    if kernel.ndim == len(full_shape):
        return kernel
    ndim = len(full_shape)
    batch = [a for a in range(ndim) if a not in axes]
    k = kernel.reshape(kernel.shape + (1,) * len(batch))
    return np.moveaxis(k, list(range(ndim)), list(axes) + batch)


def _anchor(anchor: object, mode: str, k: tuple[int, ...], flip: bool) -> tuple[int, ...]:
    if anchor is not None and mode != "same":
        raise ValueError(f"anchor={anchor!r} is invalid with mode={mode!r}; anchor applies to "
                         "mode='same' only")
    if mode == "full":  # canonical correlation anchor K-1, i.e. 0 in convolve's terms
        return tuple([0 if flip else ki - 1 for ki in k])
    if mode == "valid":
        return tuple([ki - 1 if flip else 0 for ki in k])
    if anchor is None:
        return tuple([(ki - 1) // 2 if flip else ki // 2 for ki in k])
    if isinstance(anchor, (Sequence, np.ndarray)) and not isinstance(anchor, str):
        values = [_index(a, "anchor") for a in anchor]
        if len(values) != len(k):
            raise ValueError(f"anchor={anchor!r} is invalid: it has {len(values)} entries for "
                             f"{len(k)} convolved axes")
    else:
        values = [_index(anchor, "anchor")] * len(k)
    for v, ki in zip(values, k):
        if not 0 <= v < ki:
            raise ValueError(f"anchor={anchor!r} is invalid: {v} is outside the kernel's "
                             f"indices 0..{ki - 1}")
    return tuple(values)


def _cval(cval: object, compute: np.dtype) -> complex | float | int:
    if isinstance(cval, (bool, np.bool_)) or not isinstance(cval, numbers.Number):
        raise ValueError(f"cval={cval!r} is invalid; expected a number")
    c = as_complex(cval)
    if compute.kind in "iu":
        if c.imag != 0 or not math.isfinite(c.real) or c.real != int(c.real):
            raise ValueError(
                f"cval={cval!r} is invalid for integer inputs, whose results are exact integers; "
                "pass an integer cval, or dtype='float64' to compute in floating point")
        v = int(c.real)
        info = np.iinfo(compute)
        if not info.min <= v <= info.max:
            raise ValueError(f"cval={cval!r} is out of range for {compute}")
        return v
    if compute.kind == "c":
        return c
    if c.imag != 0:
        raise ValueError(f"cval={cval!r} is invalid for real inputs; expected a real number")
    return c.real


def _prepare_kernel(kernel: np.ndarray, full: tuple[int, ...], x_shape: tuple[int, ...],
                    axes: tuple[int, ...], batched: bool, flip: bool, conjugate: bool,
                    compute: np.dtype) -> np.ndarray:
    """The kernel as a read-only C-contiguous ``(Bk, *K)`` copy: flipped, conjugated, in
    the compute dtype. Always a copy, so the plan owns its kernel (the caller may change
    the array it passed)."""
    if (not batched and kernel.ndim == len(axes) == len(x_shape) and axes == tuple(range(len(axes)))
            and compute.kind in "fc" and kernel.dtype.kind in "biuf"):
        # the usual case: one real kernel over every axis, in its own axis order
        k = kernel[(None,) + (slice(None, None, -1) if flip else slice(None),) * len(axes)]
        out = np.array(k, dtype=compute, order="C")  # (cast_exact checks integer casts only)
        out.flags.writeable = False
        return out
    k = expand_kernel(kernel, full, axes)
    batch_axes = tuple([a for a in range(len(x_shape)) if a not in axes])
    if batched:
        k = np.broadcast_to(k, tuple(x_shape[a] if a in batch_axes else s
                                     for a, s in enumerate(k.shape)))
    kb = math.prod([x_shape[a] for a in batch_axes]) if batched else 1
    k = k.transpose(batch_axes + axes).reshape((kb, *[full[a] for a in axes]))
    if flip:
        k = k[(slice(None),) + (slice(None, None, -1),) * len(axes)]
    if conjugate and k.dtype.kind == "c":
        k = np.conj(k)
    out = cast_exact(k, compute, "kernel")  # a uint64 tap may not fit an int64 computation
    out.flags.writeable = False
    return out


def _kernel_facts(prepared: np.ndarray, compute: np.dtype, cval: complex,
                  uses_cval: bool, nan_policy: str) -> KernelFacts:
    """Finiteness, non-zero taps and separable rank of the prepared kernel (computed once)."""
    kb = prepared.shape[0]
    small = small_facts(prepared[0], compute) if kb == 1 and prepared.ndim == 3 else None
    if small is not None:  # a small 2-d kernel: all three in one compiled pass
        finite = small[0]
    else:
        finite = compute.kind not in "fc" or bool(np.isfinite(prepared).all())
    if nan_policy == "raise" and not finite:
        raise ValueError("kernel contains non-finite values (nan_policy='raise'); use "
                         "nan_policy='propagate' to accept them")
    if uses_cval and compute.kind in "fc":
        finite = finite and cmath.isfinite(cval)  # a float or a complex (see _cval)
        if nan_policy == "raise" and not finite:
            raise ValueError(f"cval={cval!r} is not finite and the boundary uses it "
                             "(nan_policy='raise'); use nan_policy='propagate' to accept it")
    if nan_policy == "omit":
        if not finite:
            raise ValueError("nan_policy='omit' needs a finite kernel and cval")
        if np.any(prepared.reshape(prepared.shape[0], -1).sum(axis=1) == 0):
            raise ValueError("nan_policy='omit' needs a kernel that does not sum to 0 (it "
                             "normalises by the kernel weight on valid samples)")
    if small is not None:
        return KernelFacts(finite=finite, nonzero=small[1], rank=small[2] if finite else None)
    nonzero = -(-int(np.count_nonzero(prepared)) // kb) if kb else 0
    rank = None
    if kb == 1 and prepared.ndim >= 3 and finite:
        rank = separable_rank(prepared[0], compute, finite=True)
    return KernelFacts(finite=finite, nonzero=nonzero, rank=rank)


class Kind(NamedTuple):
    """A validated call, all but the kernel's values: the fields of its :class:`Problem`
    (the kernel facts aside) and what :func:`with_kernel` needs to prepare a kernel. The
    engine remembers it per call signature, so a new kernel of the same kind skips every
    option check."""

    #: The problem's fields, ``kernel`` (its facts) aside.
    fields: dict
    #: Whether the boundary reads ``cval`` (then a non-finite cval matters).
    uses_cval: bool

    @property
    def problem(self) -> Problem:
        """The problem with the kernel's values unknown (plans from shapes alone)."""
        return Problem(**self.fields)


def make_kind(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel_shape: tuple[int, ...],
              kernel_dtype: np.dtype, options: Options, *, flip: bool) -> Kind:
    """Validate every option and shape; the :class:`Kind` of the call (kernel facts unknown)."""
    o = options
    if not isinstance(o.conjugate, (bool, np.bool_)):
        raise ValueError(f"conjugate={o.conjugate!r} is invalid; expected True or False")
    if len(x_shape) == 0:
        raise ValueError("x has 0 dimensions (x_shape=()); expected at least 1: there is no "
                         "axis to convolve along (convolve() and correlate() accept two scalars)")
    mode = check_option("mode", o.mode, MODES)
    boundary_c = canonical_boundary(o.boundary)
    if o.boundary == "zeros" and o.cval != 0:
        raise ValueError(f"boundary='zeros' means cval=0, but cval={o.cval!r}; "
                         "use boundary='constant' with a cval")
    nan_policy = check_option("nan_policy", o.nan_policy, NAN_POLICIES)
    compute, result = compute_and_result_dtype(x_dtype, kernel_dtype, o.dtype)
    cval_v = _cval(o.cval, compute)
    if boundary_c != "constant" and cval_v != 0:
        raise ValueError(f"cval={o.cval!r} is invalid with boundary={o.boundary!r}, which "
                         "never reads it; cval is the value beyond the edges for "
                         "boundary='constant' only")
    axes_t = normalise_axes(o.axes, len(x_shape))
    full, batched = expand_kernel_shape(kernel_shape, x_shape, axes_t, o.axes is not None)
    for a in axes_t:
        if full[a] == 0:
            raise ValueError(f"kernel is empty along axis {a}; expected at least one tap")
        if mode == "valid" and full[a] > x_shape[a]:
            raise ValueError(
                f"mode='valid' needs the kernel to be no larger than x along every convolved "
                f"axis, but along axis {a} the kernel has {full[a]} > {x_shape[a]}; use "
                "mode='full' or 'same', or swap the operands")
    k = tuple([full[a] for a in axes_t])
    anchor_t = _anchor(o.anchor, mode, k, flip)
    fields = dict(
        x_shape=x_shape, kernel_shape=full, x_dtype=x_dtype, kernel_dtype=kernel_dtype,
        compute_dtype=compute, result_dtype=result, axes=axes_t, mode=mode,
        boundary=boundary_c, cval=cval_v, flip=bool(flip), conjugate=bool(o.conjugate),
        anchor=anchor_t, nan_policy=nan_policy, kernel_batched=batched,
        max_memory=resolve_max_memory(o.max_memory))
    pad = canonical_pad(tuple([x_shape[a] for a in axes_t]), k, anchor_t, mode, flip)[1]
    return Kind(fields, boundary_c == "constant" and any([p != (0, 0) for p in pad]))


def with_kernel(kind: Kind, kernel: np.ndarray,
                like: Problem | None = None) -> tuple[Problem, np.ndarray]:
    """The complete problem for ``kernel``'s values (its facts found once), and the
    prepared kernel the plan owns (see :func:`_prepare_kernel`). ``like``, a problem of
    the same kind, is returned itself when the facts are its own (they are all a problem
    knows of the values)."""
    f = kind.fields
    compute = f["compute_dtype"]
    prepared = _prepare_kernel(kernel, f["kernel_shape"], f["x_shape"], f["axes"],
                               f["kernel_batched"], f["flip"], f["conjugate"], compute)
    facts = _kernel_facts(prepared, compute, f["cval"], kind.uses_cval, f["nan_policy"])
    if like is not None and like.kernel == facts:
        return like, prepared
    return Problem(**f, kernel=facts), prepared


def make_problem(x_shape: tuple[int, ...], x_dtype: np.dtype, kernel_shape: tuple[int, ...],
                 kernel_dtype: np.dtype, options: Options, *, flip: bool,
                 kernel: np.ndarray | None = None) -> tuple[Problem, np.ndarray | None]:
    """Validate every option and build the complete :class:`Problem`.

    With the kernel's values (``kernel``), also return the prepared kernel (see
    :func:`_prepare_kernel`) and record its facts in the problem; without them (a plan
    from shapes alone) the facts are unknown and the prepared kernel is None.
    """
    kind = make_kind(x_shape, x_dtype, kernel_shape, kernel_dtype, options, flip=flip)
    if kernel is None:
        return kind.problem, None
    return with_kernel(kind, kernel)
