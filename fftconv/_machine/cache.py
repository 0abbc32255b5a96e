"""fftconv's files in the user cache directory: location, signature, atomic JSON I/O.

Every file carries a *signature* (versions of fftconv and its numerical dependencies,
the CPU model and core count). A file whose signature differs from this process's, or
that cannot be read, or whose payload does not match its schema, is ignored with a warning
naming its full path — never a crash. Writes go to a temporary file in the same
directory, then ``os.replace``, so two processes writing at once leave one complete
file; a write that fails (read-only directory, a file where the directory belongs, a
full disk) is a warning naming the file, and the work goes on without persistence.

These two helpers are the only way fftconv touches the cache directory::

    value = read_json("name.json", SCHEMA)     # payload, or None (with a warning)
    write_json("name.json", value)             # its path, or None (with a warning)
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import warnings
from functools import lru_cache

from pathlib import Path
from typing import Any

from .._errors import FFTConvWarning
from . import schema as _schema

__all__ = ["MAX_BYTES", "cache_dir", "file_status", "read_json", "signature", "write_json"]

ENV = "FFTCONV_CACHE_DIR"
#: Largest cache file read (bytes); a larger one is ignored with a warning, unread.
MAX_BYTES = 32 << 20


def cache_dir() -> Path:
    """``$FFTCONV_CACHE_DIR``, else the platform's user cache directory for fftconv."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("fftconv"))


@lru_cache(maxsize=1)
def _installed() -> dict[str, str]:
    """``{normalised name: version}`` from the ``*.dist-info`` folders on ``sys.path``
    (the folder names carry both; reading them avoids importing ``importlib.metadata``
    and its e-mail parser, which cost a fresh process tens of milliseconds)."""
    import sys

    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                dist, _, version = name[:-len(".dist-info")].partition("-")
                found.setdefault(dist.lower().replace("-", "_").replace(".", "_"), version)
    return found


def _version(dist: str) -> str:
    version = _installed().get(dist.lower().replace("-", "_").replace(".", "_"))
    if version is not None:
        return version
    from importlib import metadata

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


def _load(path: Path) -> tuple[Any, str | None]:
    """``(document, None)``, or ``(None, why it cannot be used)``; never raises.

    The read is capped at :data:`MAX_BYTES`, and a document nested too deeply for the
    parser (``RecursionError``) is refused like any other unreadable one.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or exc})"
    if len(raw) > MAX_BYTES:
        return None, f"it is larger than {MAX_BYTES >> 20} MiB"
    try:
        return json.loads(raw.decode("utf-8")), None
    except RecursionError:
        return None, "it is not valid JSON (nested too deeply)"
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        return None, f"it is not valid JSON ({str(exc)[:120]})"


def read_json(name: str | os.PathLike, schema: Any = None, *,
              warn_missing: bool = False) -> Any | None:
    """The payload of ``cache_dir()/name``, or None with a warning naming the file.

    None (silently, unless ``warn_missing``) when the file does not exist; None with an
    :class:`FFTConvWarning` naming the full path when it cannot be read, is not JSON, is
    larger than :data:`MAX_BYTES`, was made under another :func:`signature`, or its payload
    does not match ``schema`` (see :mod:`fftconv._machine.schema`). Never raises.
    """
    path = cache_dir() / name
    doc, why = _load(path)
    if why == "missing":
        if warn_missing:
            warnings.warn(f"{path} does not exist", FFTConvWarning, stacklevel=3)
        return None
    if why is None and (not isinstance(doc, dict) or "payload" not in doc):
        why = "it is not an fftconv file"
    if why is None and doc.get("signature") != signature():
        warnings.warn(f"ignoring {path}: it was made with other versions or another CPU "
                      "(run `fftconv calibrate` to refresh it)", FFTConvWarning, stacklevel=3)
        return None
    if why is None and schema is not None:
        try:
            _schema.check(doc["payload"], schema)
        except _schema.Invalid as exc:
            why = f"its content is malformed: {exc}"
    if why is not None:
        warnings.warn(f"ignoring {path}: {why}; it will be rewritten (`fftconv calibrate` "
                      "rewrites the calibration)", FFTConvWarning, stacklevel=3)
        return None
    return doc["payload"]


def write_json(name: str | os.PathLike, payload: Any) -> Path | None:
    """Atomically write ``payload`` with our signature to ``cache_dir()/name``.

    Returns the path, or None with an :class:`FFTConvWarning` naming it when it cannot be
    written (the cache directory is a file, read-only, or the disk is full): the caller's
    work goes on without persistence. A temporary file in the same directory is renamed
    over the target, so readers see the old file or the new one, never a part.
    """
    directory = cache_dir()
    path = directory / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        _write_failed(path, exc)
        return None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"signature": signature(), "payload": payload}, fh, indent=1,
                      allow_nan=False)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if not isinstance(exc, OSError):
            raise
        _write_failed(path, exc)
        return None
    return path


def _write_failed(path: Path, exc: OSError) -> None:
    why = exc.strerror or str(exc)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                why = f"{parent} is not a directory"
            break
    warnings.warn(f"could not write {path} ({why}); fftconv goes on without "
                  f"saving it. Set {ENV} to a writable directory to keep it.", FFTConvWarning,
                  stacklevel=4)


def file_status(name: str | os.PathLike) -> str:
    """One line on ``cache_dir()/name``'s signature, for ``fftconv info`` (never raises)."""
    doc, why = _load(cache_dir() / name)
    if why == "missing":
        return "no file"
    if why is not None:
        return f"unusable ({why}): it will be ignored"
    sig = doc.get("signature") if isinstance(doc, dict) else None
    current = signature()
    if sig == current:
        return "matches this machine and these versions"
    if not isinstance(sig, dict):
        return "not an fftconv file: it will be ignored"
    diff = sorted(str(k)[:40] for k in set(sig) | set(current) if sig.get(k) != current.get(k))
    return "stale (differs in " + ", ".join(diff[:10]) + "): it will be ignored"
