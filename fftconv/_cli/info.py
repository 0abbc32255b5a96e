"""``fftconv info``: versions, FFT back end, threads, calibration and cache files."""

from __future__ import annotations

import argparse
import datetime
import json
import os

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="versions, FFT back end, threads, calibration file",
                       description="Show what fftconv runs on and which cost constants it uses.")
    p.set_defaults(run=run)


def _file_line(path: str | os.PathLike) -> str:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"{path} (none)"
    age = datetime.datetime.now() - datetime.datetime.fromtimestamp(st.st_mtime)
    days = age.total_seconds() / 86400
    return f"{path} ({st.st_size} bytes, {days:.1f} days old)"


def _signature_status(path: os.PathLike, current: dict) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            sig = json.load(fh).get("signature")
    except FileNotFoundError:
        return "no file"
    except (OSError, ValueError, AttributeError):
        return "unreadable: it will be ignored"
    if sig == current:
        return "matches this machine and these versions"
    diff = sorted(k for k in set(sig or {}) | set(current) if (sig or {}).get(k) != current.get(k))
    return "stale (differs in " + ", ".join(diff) + "): it will be ignored"


def _learned_lines(directory: os.PathLike) -> list[str]:
    """The learned corrections in force: which constants, and how many calls back each."""
    from .._machine import learning

    lines = [f"learned      {_file_line(os.path.join(directory, learning.LEARNED_FILE))}",
             f"             in force: {learning.describe()}"
             + ("" if learning.enabled() else " (learning off: FFTCONV_LEARN)")]
    for key, (factor, n) in learning.table().items():
        state = f"x{factor:.3g}" if n >= learning.MIN_OBSERVATIONS else "not yet applied"
        lines.append(f"             {key:<14} {state} ({n} calls)")
    return lines


def run(args: argparse.Namespace) -> int:
    from .._machine import costs as _costs
    from .. import get_workers
    from .._machine.cache import cache_dir, signature
    from .._machine.fft import backend_name

    sig = signature()
    directory = cache_dir()
    calibration = directory / _costs.CALIBRATION_FILE
    lines = [
        f"fftconv      {sig['fftconv']}",
        f"numpy        {sig['numpy']}",
        f"scipy        {sig['scipy']}",
        f"pyfftw       {sig['pyfftw']}",
        f"numba        {sig['numba']}",
        f"FFT backend  {backend_name()}",
        f"CPU          {sig['cpu']} ({sig['machine']}, {sig['cores']} cores)",
        f"workers      {get_workers()} threads by default",
        f"cache dir    {directory}"
        + ("  (FFTCONV_CACHE_DIR)" if os.environ.get("FFTCONV_CACHE_DIR") else ""),
        f"calibration  {_file_line(calibration)}",
        f"             signature: {_signature_status(calibration, sig)}",
        f"             in force: {_costs.source()}",
        f"FFTW wisdom  {_file_line(directory / 'fftw_wisdom.json')}",
        f"decisions    {_file_line(directory / 'decisions.json')}",
        *_learned_lines(directory),
    ]
    print("\n".join(lines))
    return 0
