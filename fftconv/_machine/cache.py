"""fftconv's files in the user cache directory: location, signature, atomic JSON I/O.

Every file carries a *signature* (versions of fftconv and its numerical dependencies,
the CPU model and core count). A file whose signature differs from this process's, or
that cannot be read, is ignored with a warning naming it — never a crash. Writes go to a
temporary file in the same directory, then ``os.replace``, so two processes writing at
once leave one complete file.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import warnings
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .._errors import FFTConvWarning

__all__ = ["cache_dir", "read_json", "signature", "write_json"]

ENV = "FFTCONV_CACHE_DIR"


def cache_dir() -> Path:
    """``$FFTCONV_CACHE_DIR``, else the platform's user cache directory for fftconv."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("fftconv"))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def signature() -> dict[str, Any]:
    """What a calibration or wisdom file must have been made under to be trusted."""
    from .workers import _cpu_count

    return {
        "fftconv": _version("fftconv"), "numpy": _version("numpy"), "scipy": _version("scipy"),
        "pyfftw": _version("pyFFTW"), "numba": _version("numba"),
        "cpu": _cpu_model(), "machine": platform.machine(), "cores": _cpu_count(),
    }


def read_json(name: str, *, warn_missing: bool = False) -> dict[str, Any] | None:
    """The payload of ``cache_dir()/name`` if it exists, parses and has our signature."""
    path = cache_dir() / name
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        if warn_missing:
            warnings.warn(f"{path} does not exist", FFTConvWarning, stacklevel=3)
        return None
    except (OSError, ValueError) as exc:
        warnings.warn(f"ignoring {path}: it cannot be read ({exc}); it will be rewritten by "
                      "`fftconv calibrate`", FFTConvWarning, stacklevel=3)
        return None
    if not isinstance(doc, dict) or "payload" not in doc:
        warnings.warn(f"ignoring {path}: not an fftconv file", FFTConvWarning, stacklevel=3)
        return None
    if doc.get("signature") != signature():
        warnings.warn(f"ignoring {path}: it was made with other versions or another CPU "
                      "(run `fftconv calibrate` to refresh it)", FFTConvWarning, stacklevel=3)
        return None
    return doc["payload"]


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Atomically write ``payload`` with our signature to ``cache_dir()/name``."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"signature": signature(), "payload": payload}, fh, indent=1)
        os.replace(tmp, directory / name)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return directory / name
