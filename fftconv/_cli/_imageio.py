"""Read and write images (PNG, JPEG, TIFF through Pillow) and ``.npy`` arrays.

Pillow is optional: it is imported only when an image file is read or written. Images are
arrays of shape (rows, columns) or (rows, columns, channels); ``.npy`` files hold any
array. Writes are atomic: the data goes to a temporary file in the target's directory,
which is renamed over the target only when complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

__all__ = ["FORMATS", "IMAGE_SUFFIXES", "ImageData", "file_format", "read", "storage_dtype",
           "to_dtype", "write"]

FORMATS = {".jpeg": "JPEG", ".jpg": "JPEG", ".npy": "NPY", ".png": "PNG", ".tif": "TIFF",
           ".tiff": "TIFF"}
IMAGE_SUFFIXES = tuple(s for s, f in FORMATS.items() if f != "NPY")

#: What each image format holds: sample dtype -> channel counts (Pillow's modes).
HOLDS: dict[str, dict[str, tuple[int, ...]]] = {
    "PNG": {"uint8": (1, 2, 3, 4), "uint16": (1,)},
    "JPEG": {"uint8": (1, 3)},
    "TIFF": {"uint8": (1, 2, 3, 4), "uint16": (1,), "float32": (1,)},
}
#: Pillow modes that are converted on reading, and to what.
_CONVERT = {"1": "L", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "CMYK": "RGB",
            "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}


class ImageData(NamedTuple):
    """An array read from a file; ``alpha`` says whether its last channel is opacity."""

    data: np.ndarray
    alpha: bool


def file_format(path: str | os.PathLike, action: str = "read") -> str:
    """``'PNG'``, ``'JPEG'``, ``'TIFF'`` or ``'NPY'`` from the file extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot {action} {str(path)!r}: unsupported extension {suffix!r}; "
                         f"expected one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def _pillow(action: str, fmt: str):  # -> the PIL.Image module
    try:
        from PIL import Image
    except ImportError:
        raise ModuleNotFoundError(
            f"{action} {fmt} needs Pillow: pip install 'fftconv[image]'") from None
    return Image


def _read_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError(f"cannot read {str(path)!r}: not a .npy file")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from None


#: Bytes per pixel and band Pillow decodes into, by mode (default 1).
_BAND_BYTES = {"I": 4, "F": 4, "I;16": 2, "I;16B": 2, "I;16L": 2}
#: ``filter`` holds the decoded image, one channel in float32 or float64 and the result:
#: the image may use at most this fraction of the available memory.
MEMORY_FRACTION = 0.25


@contextlib.contextmanager
def _no_pixel_limit(Image):  # the memory check below replaces Pillow's fixed limit
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _check_memory(name: str, im) -> None:
    """Refuse, from its header alone, an image too large to filter in memory."""
    from .._machine.resources import available_memory

    width, height = im.size
    nbytes = width * height * len(im.getbands()) * _BAND_BYTES.get(im.mode, 1)
    available = available_memory()
    if nbytes > MEMORY_FRACTION * available:
        raise ValueError(f"cannot read {name!r}: its header claims {width}x{height} pixels "
                         f"({nbytes / 2**30:.3g} GiB decoded), too large to filter in the "
                         f"{available / 2**30:.3g} GiB of memory available")


def _read_image(path: Path, fmt: str) -> ImageData:
    Image = _pillow("reading", fmt)
    name = str(path)
    try:
        with _no_pixel_limit(Image), Image.open(path, formats=[fmt]) as im:
            _check_memory(name, im)
            if getattr(im, "n_frames", 1) > 1:
                raise ValueError(f"cannot read {name!r}: it holds {im.n_frames} images; "
                                 "expected one")
            if im.mode in ("LA", "RGB", "RGBA") and any(";16" in str(t.args) for t in im.tile):
                raise ValueError(f"cannot read {name!r}: 16-bit colour images are not "
                                 "supported (Pillow reduces them to 8 bits); save it as .npy")
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif im.mode in _CONVERT:
                im = im.convert(_CONVERT[im.mode])
            data = np.array(im)
            mode = im.mode
    except Image.UnidentifiedImageError:
        raise ValueError(f"cannot read {name!r}: not a {fmt} image") from None
    except (OSError, SyntaxError) as exc:  # truncated or corrupt data
        raise ValueError(f"cannot read {name!r}: {exc}") from None
    if mode.startswith("I;16") or (mode == "I" and fmt == "PNG"):  # PNG has at most 16 bits
        data = data.astype(np.uint16)
    return ImageData(data, mode in ("LA", "RGBA"))


def read(path: str | os.PathLike) -> ImageData:
    """Read a PNG, JPEG, TIFF or ``.npy`` file.

    Palette images become RGB(A), bilevel images 8-bit grayscale, CMYK and YCbCr images
    RGB; 16-bit grayscale gives ``uint16``, 32-bit float TIFF ``float32``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the extension is not supported or the file cannot be decoded.
    ModuleNotFoundError
        If an image is read without Pillow installed.
    """
    path = Path(path)
    fmt = file_format(path, "read")
    if not path.is_file():
        raise FileNotFoundError(f"cannot read {str(path)!r}: no such file")
    if fmt == "NPY":
        return ImageData(_read_npy(path), False)
    return _read_image(path, fmt)


def _channels(shape: tuple[int, ...]) -> int | None:
    """Channel count of an image of ``shape``, or None if it is not an image."""
    if len(shape) == 2:
        return 1
    return shape[2] if len(shape) == 3 else None


def _holds(fmt: str) -> str:
    return ", ".join(f"{d} with {'/'.join(map(str, c))} channel{'s' * (len(c) > 1)}"
                     for d, c in HOLDS[fmt].items())


def storage_dtype(fmt: str, dtype: np.dtype, shape: tuple[int, ...],
                  fallback: np.dtype | None = None) -> tuple[np.dtype, str | None]:
    """The dtype a file of format ``fmt`` stores results of ``dtype`` and ``shape`` in.

    ``.npy`` stores any dtype. An image format that holds no floats for this channel
    count stores ``fallback`` (an integer type: results are rounded and clipped); float64
    TIFF becomes float32. The second value says what changed, or is None.

    Raises
    ------
    ValueError
        If the format cannot hold an array of this shape, or integers of this dtype.
    """
    dtype = np.dtype(dtype)
    if fmt == "NPY":
        return dtype, None
    holds = HOLDS[fmt]
    channels = _channels(shape)
    if channels is None or not any(channels in c for c in holds.values()):
        raise ValueError(f"{fmt} cannot hold an array of shape {shape}; it holds "
                         f"{_holds(fmt)} (rows x columns x channels); .npy holds any array")
    if dtype.kind == "f":
        if channels in holds.get("float32", ()):
            note = None if dtype == np.float32 else f"{fmt} holds 32-bit floats: wrote float32"
            return np.dtype(np.float32), note
        fallback = np.dtype(np.uint8 if fallback is None else fallback)
        if channels not in holds.get(fallback.name, ()):
            fallback = np.dtype(np.uint8)
        what = "floating-point samples"
        if "float32" in holds:
            what += f" with {channels} channels"
        return fallback, f"{fmt} cannot hold {what}: rounded to {fallback}"
    if channels not in holds.get(dtype.name, ()):
        raise ValueError(f"{fmt} cannot hold {dtype} with {channels} channel"
                         f"{'s' * (channels > 1)}; it holds {_holds(fmt)}; .npy holds any array")
    return dtype, None


def to_dtype(y: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``y`` as ``dtype``, and a boolean array marking the samples that were clipped.

    Conversion from floats to an integer type rounds to the nearest integer (half to
    even) and clips to the type's range; a NaN counts as clipped and becomes 0.
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu" or y.dtype.kind in "iub":
        return y.astype(dtype, copy=False), np.zeros(y.shape, bool)
    info = np.iinfo(dtype)
    r = np.rint(y)
    bad = ~((r >= info.min) & (r <= info.max))
    return np.clip(np.nan_to_num(r, nan=0.0), info.min, info.max).astype(dtype), bad


def _file_mode() -> int:
    """The permissions a new file gets (0o666 minus the umask), as ``open`` would give."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _atomic_write(path: Path, save: Callable[[IO[bytes]], None]) -> None:
    """Call ``save`` on a temporary file next to ``path``, then rename it to ``path``."""
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: no directory {str(directory)!r}")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OSError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            save(f)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write(path: str | os.PathLike, data: np.ndarray) -> None:
    """Write ``data`` atomically as PNG, JPEG (quality 95), TIFF or ``.npy``.

    Images are (rows, columns) or (rows, columns, channels) arrays of a dtype the format
    holds (see :func:`storage_dtype`); two and four channels are gray+alpha and RGBA.

    Raises
    ------
    ValueError
        If the extension is unsupported or the format cannot hold ``data``.
    OSError
        If the file cannot be written; no partial file is left behind.
    """
    path = Path(path)
    fmt = file_format(path, "write")
    data = np.asarray(data)
    if fmt == "NPY":
        _atomic_write(path, lambda f: np.save(f, data, allow_pickle=False))
        return
    stored, note = storage_dtype(fmt, data.dtype, data.shape)
    if stored != data.dtype:
        raise ValueError(f"cannot write {str(path)!r}: {note}; convert the data first")
    Image = _pillow("writing", fmt)
    im = Image.fromarray(np.ascontiguousarray(data))
    options = {"quality": 95} if fmt == "JPEG" else {}
    _atomic_write(path, lambda f: im.save(f, format=fmt, **options))
