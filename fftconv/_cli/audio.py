"""The WAV path of ``fftconv filter``: stream a sound file through an impulse response.

``fftconv filter in.wav out.wav --kernel ir.wav`` convolves block by block with
:class:`fftconv.stream.StreamConvolver`: the input is memory-mapped and the output built
in a memory-mapped scratch file, so memory stays bounded whatever the file's length.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["add_arguments", "filter_wav", "from_float", "handles", "to_float"]

SUFFIX = ".wav"
#: Full scale of each PCM sample type: float samples are int / scale (uint8 is offset).
_SCALE = {"uint8": 128.0, "int16": 32768.0, "int32": 2147483648.0}
#: Sample types a WAV output may have.
OUT_TYPES = ("float32", "float64", "int16", "int32", "uint8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The WAV-only options of ``fftconv filter``."""
    parser.add_argument("--block", type=_block, default=4096, metavar="N",
                        help="WAV input: samples per block when streaming (default: %(default)s)")


def _block(text: str) -> int:
    from ._common import positive_int

    return positive_int(text)


def handles(args: argparse.Namespace) -> bool:
    """Whether the job is audio: IN is a ``.wav`` file."""
    return Path(args.input).suffix.lower() == SUFFIX


def to_float(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """PCM samples as floats in ``[-1, 1)`` (float samples unchanged)."""
    if a.dtype.kind == "f":
        return a.astype(dtype, copy=False)
    scale = _SCALE[a.dtype.name]
    out = a.astype(dtype)
    if a.dtype == np.uint8:
        out -= 128
    out *= 1.0 / scale
    return out


def from_float(y: np.ndarray, stored: np.dtype, out: np.ndarray) -> int:
    """Write ``y`` (floats) into ``out`` as ``stored`` samples; return how many clipped."""
    if stored.kind == "f":
        out[...] = y
        return 0
    scale = _SCALE[stored.name]
    v = np.rint(y * scale)
    if stored == np.uint8:
        v += 128
    info = np.iinfo(stored)
    clipped = int(np.count_nonzero((v < info.min) | (v > info.max)))
    np.clip(v, info.min, info.max, out=v)
    out[...] = v
    return clipped


def _read(path: str, what: str) -> tuple[int, np.ndarray]:
    """``(rate, samples)`` with samples ``(frames, channels)``, memory-mapped if possible."""
    from scipy.io import wavfile

    if not Path(path).is_file():
        raise FileNotFoundError(f"cannot read {path!r}: no such file")
    try:
        try:
            rate, data = wavfile.read(path, mmap=True)
        except ValueError:  # formats scipy cannot map (24-bit): read whole
            rate, data = wavfile.read(path)
    except ValueError as exc:
        raise ValueError(f"cannot read {what} {path!r}: {exc}") from None
    if data.ndim == 1:
        data = data[:, None]
    if data.dtype.name not in _SCALE and data.dtype.kind != "f":
        raise ValueError(f"cannot read {what} {path!r}: {data.dtype} samples; expected 8-, "
                         "16-, 24- or 32-bit integers or floats")
    return rate, data


def _kernel(args: argparse.Namespace, channels: int, rate: int) -> np.ndarray:
    """The impulse response ``(taps, 1 or channels)`` as float64."""
    if Path(args.kernel).suffix.lower() != SUFFIX:
        raise ValueError(f"--kernel {args.kernel!r} is invalid for a WAV input; expected an "
                         "impulse response .wav file")
    ir_rate, ir = _read(args.kernel, "impulse response")
    if ir_rate != rate:
        raise ValueError(f"the impulse response {args.kernel!r} is sampled at {ir_rate} Hz "
                         f"but {args.input!r} at {rate} Hz; resample one of them")
    if ir.shape[1] not in (1, channels):
        raise ValueError(
            f"the impulse response {args.kernel!r} has {ir.shape[1]} channels and "
            f"{args.input!r} has {channels}; expected a mono impulse response (applied to "
            f"every channel) or one with {channels} channels (one per channel)")
    if ir.shape[0] == 0:
        raise ValueError(f"the impulse response {args.kernel!r} has no samples")
    h = to_float(np.asarray(ir), np.dtype(np.float64))
    if args.normalize:  # unit energy per channel: white noise keeps its loudness
        energy = np.sqrt((h * h).sum(axis=0))
        if not energy.all():
            raise ValueError(f"--normalize: the impulse response {args.kernel!r} has a "
                             "silent channel")
        h = h / energy
    return h


def _check_image_options(args: argparse.Namespace) -> None:
    """Options that only mean something for images are errors with a WAV input."""
    given = [f"--{name}" for name, default in
             (("boundary", "symmetric"), ("cval", 0.0), ("correlate", False), ("method", "auto"))
             if getattr(args, name) != default]
    if given:
        raise ValueError(f"{', '.join(given)} applies to images and arrays, not to WAV "
                         "input (audio is convolved causally, with a zero history)")
    if args.mode == "valid":
        raise ValueError("--mode='valid' is invalid for WAV input; expected 'same' (the "
                         "input's length) or 'full' (with the impulse response's tail)")


def filter_wav(args: argparse.Namespace, prog: str) -> None:
    """Convolve ``args.input`` with ``args.kernel`` into ``args.output``, block by block."""
    from scipy.io import wavfile

    from .._errors import FFTConvWarning
    from ..stream import StreamConvolver
    from ._imageio import _atomic_write

    _check_image_options(args)
    if Path(args.output).suffix.lower() != SUFFIX:
        raise ValueError(f"cannot write {args.output!r}: a WAV input needs a .wav output")
    rate, x = _read(args.input, "input")
    frames, channels = x.shape
    stored = np.dtype(args.dtype or x.dtype)
    if stored.name not in OUT_TYPES:
        raise ValueError(f"--dtype={stored.name!r} is invalid for WAV output; expected one "
                         f"of {', '.join(repr(t) for t in OUT_TYPES)}")
    compute = np.dtype(np.float64 if stored == np.float64 or x.dtype.itemsize > 2
                       and x.dtype.kind != "f" else np.float32)
    h = _kernel(args, channels, rate)
    taps = h.shape[0]
    length = frames + taps - 1 if args.mode == "full" else frames
    block = args.block
    sc = StreamConvolver(h.astype(compute), block, axis=0, dtype=compute,
                         workers=args.workers)
    if args.explain:
        print(sc.report())
        print(f"channels: {channels}, impulse response: {h.shape[1]} channel(s), "
              f"{taps} taps; output {length} frames")
        sys.stdout.flush()
    lat = sc.latency
    out_dir = Path(args.output).resolve().parent
    fd, scratch = tempfile.mkstemp(dir=out_dir, prefix=f".{Path(args.output).name}.",
                                   suffix=".raw")
    os.close(fd)
    clipped = 0
    try:
        result = np.memmap(scratch, stored, "w+", shape=(length, channels))
        buf = np.zeros((block, channels), compute)
        total = -(-(length + lat) // block)
        for i in _blocks(total, sc.report().estimate.mean * total, prog):
            start = i * block
            m = min(block, length + lat - start)
            piece = buf[:m]
            piece[...] = 0
            if start < frames:
                n = min(m, frames - start)
                piece[:n] = to_float(np.asarray(x[start:start + n]), compute)
            y = sc.process(piece)
            lo, hi = max(start - lat, 0), min(start + m - lat, length)
            if hi > lo:
                clipped += from_float(y[lo - (start - lat):hi - (start - lat)], stored,
                                      result[lo:hi])
        result.flush()

        def save(f: IO[bytes]) -> None:
            wavfile.write(f, rate, result)

        _atomic_write(Path(args.output), save)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
    if clipped:
        info = np.iinfo(stored)
        warnings.warn(f"{clipped} of {length * channels} samples clipped to the {stored} range "
                      f"{info.min}..{info.max}; use --dtype float32 or --normalize",
                      FFTConvWarning, stacklevel=2)


def _blocks(total: int, seconds: float, prog: str) -> Iterable[int]:
    """``range(total)``, with a tqdm progress bar on a terminal for long jobs."""
    from .filter import PROGRESS_SECONDS

    if seconds < PROGRESS_SECONDS or not sys.stderr.isatty():
        return range(total)
    from tqdm import tqdm

    return tqdm(range(total), desc=prog, unit="block", file=sys.stderr, leave=False)
