"""The ``--kernel`` specification of ``fftconv filter``: a generated kernel or a file.

A specification is either ``NAME:PARAMS`` — a kernel of :mod:`fftconv.kernels` with
comma-separated parameters, given in order or as ``key=value`` (``gaussian:sigma=20``,
``box:31``, ``motion:length=40,angle=30``; a per-axis value is written ``31x15``) — or the
path of a ``.npy``, ``.txt``/``.csv`` (numbers separated by spaces or commas, one row per
line) or grayscale image file.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import kernels
from ._imageio import IMAGE_SUFFIXES, read

__all__ = ["FORMS", "GENERATORS", "parse_kernel"]


@dataclass(frozen=True)
class Generator:
    """A kernel function with its parameters in positional order."""

    function: Callable[..., np.ndarray]
    params: tuple[str, ...]
    required: int  # how many leading parameters must be given
    form: str


GENERATORS = {
    "gaussian": Generator(kernels.gaussian, ("sigma", "truncate"), 1,
                          "gaussian:sigma=S[,truncate=T]"),
    "box": Generator(kernels.box, ("size",), 1, "box:N"),
    "disk": Generator(kernels.disk, ("radius",), 1, "disk:R"),
    "motion": Generator(kernels.motion, ("length", "angle"), 2, "motion:length=L,angle=DEG"),
    "log": Generator(kernels.laplacian_of_gaussian, ("sigma", "truncate"), 1,
                     "log:sigma=S[,truncate=T]"),
}
TEXT_SUFFIXES = (".txt", ".csv")
FILE_SUFFIXES = (".npy", *TEXT_SUFFIXES, *IMAGE_SUFFIXES)
#: Every accepted form, for error messages and ``--help``.
FORMS = "; ".join(g.form for g in GENERATORS.values()) + (
    "; or a file: " + ", ".join(FILE_SUFFIXES))


def _error(spec: str, problem: str, expected: str = FORMS) -> ValueError:
    return ValueError(f"kernel {spec!r}: {problem} (accepted: {expected})")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _value(spec: str, name: str, text: str, form: str) -> object:
    """``'3'`` -> 3, ``'2.5'`` -> 2.5, ``'31x15'`` -> (31, 15)."""
    try:
        parts = [_number(t) for t in text.lower().split("x")]
    except ValueError:
        raise _error(spec, f"{name}={text!r} is not a number", form) from None
    return parts[0] if len(parts) == 1 else tuple(parts)


def _generate(spec: str, gen: Generator, params: str) -> np.ndarray:
    kwargs: dict[str, object] = {}
    items = [p.strip() for p in params.split(",")] if params.strip() else []
    for position, item in enumerate(items):
        key, eq, text = item.partition("=")
        if not eq:
            if kwargs.keys() - set(gen.params[:position]) or position >= len(gen.params):
                raise _error(spec, f"unexpected value {item!r}", gen.form)
            key, text = gen.params[position], item
        key = key.strip()
        if key not in gen.params:
            raise _error(spec, f"unknown parameter {key!r}", gen.form)
        if key in kwargs:
            raise _error(spec, f"{key} is given twice", gen.form)
        kwargs[key] = _value(spec, key, text.strip(), gen.form)
    missing = [p for p in gen.params[:gen.required] if p not in kwargs]
    if missing:
        raise _error(spec, f"missing {' and '.join(missing)}", gen.form)
    try:
        return gen.function(**kwargs)
    except ValueError as exc:
        raise _error(spec, str(exc), gen.form) from None


def _load_text(spec: str, path: Path) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"kernel {spec!r}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"kernel {spec!r}: cannot read the file ({exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns about an empty file
            return np.loadtxt(io.StringIO(text.replace(",", " ")), dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"kernel {spec!r}: cannot read the file ({exc}); expected numbers "
                         "separated by spaces or commas, one row per line") from None


def _load(spec: str, path: Path) -> np.ndarray:
    if path.suffix.lower() in TEXT_SUFFIXES:
        k = _load_text(spec, path)
    else:
        try:
            image = read(path)
        except (OSError, ValueError) as exc:
            raise type(exc)(f"kernel {spec!r}: {exc}") from None
        k = image.data
        if path.suffix.lower() in IMAGE_SUFFIXES and (k.ndim != 2 or image.alpha):
            raise ValueError(f"kernel {spec!r}: the image has {k.shape[2]} channels; "
                             "expected a grayscale image")
    if k.dtype.kind not in "biuf":
        raise ValueError(f"kernel {spec!r}: the array has dtype {k.dtype}; expected real numbers")
    if k.size == 0 or k.ndim == 0:
        raise ValueError(f"kernel {spec!r}: the array has shape {k.shape}; expected a "
                         "non-empty array with at least one dimension")
    if not np.isfinite(k).all():
        raise ValueError(f"kernel {spec!r}: the array holds non-finite values")
    return k.astype(np.float64)


def parse_kernel(spec: str, *, normalize: bool = False) -> np.ndarray:
    """The kernel a specification names, as a ``float64`` array.

    Parameters
    ----------
    spec : str
        ``NAME:PARAMS`` with NAME one of :data:`GENERATORS` (``gaussian:sigma=20``,
        ``box:31``, ``disk:15``, ``motion:length=40,angle=30``, ``log:sigma=3``), or the
        path of a ``.npy``, ``.txt``, ``.csv`` or grayscale image file.
    normalize : bool, optional
        Divide the kernel by its sum.

    Returns
    -------
    numpy.ndarray
        The kernel; generated kernels are 2-d, text files give 2-d arrays.

    Raises
    ------
    ValueError
        Naming ``spec``, what is wrong with it and the accepted forms.
    FileNotFoundError
        If a kernel file does not exist.

    Examples
    --------
    >>> parse_kernel("box:1x3")
    array([[0.33333333, 0.33333333, 0.33333333]])
    >>> parse_kernel("motion:length=2,angle=90").ravel()
    array([0.25, 0.5 , 0.25])
    """
    name, colon, params = spec.partition(":")
    gen = GENERATORS.get(name.strip().lower())
    if gen is not None:
        k = _generate(spec, gen, params)
    elif Path(spec).suffix.lower() in FILE_SUFFIXES:
        k = _load(spec, Path(spec))
    elif Path(spec).exists():
        raise _error(spec, f"unsupported file extension {Path(spec).suffix!r}")
    elif colon:
        raise _error(spec, f"unknown kernel {name!r}")
    else:
        raise _error(spec, "not a kernel name or a file")
    if normalize:
        total = float(k.sum())
        if total == 0 or not math.isfinite(total):
            raise ValueError(f"kernel {spec!r}: it sums to {total:g}, so --normalize cannot "
                             "scale it to sum 1")
        k = k / total
    return k
