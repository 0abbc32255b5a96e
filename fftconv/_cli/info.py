"""``fftconv info``: versions, FFT back end, threads, calibration and cache files."""

from __future__ import annotations

import argparse
import datetime
import os

__all__ = ["EXTRAS", "extras_lines", "register"]

#: Optional packages: (import name, distribution, extra, what it unlocks).
EXTRAS = (
    ("PIL", "pillow", "image", "PNG, JPEG and TIFF files in `fftconv filter`"),
    ("matplotlib", "matplotlib", "plot", ("`fftconv bench crossover --plot`, "
     "fftconv.benchmark.plot")),
    ("cv2", "opencv-python-headless", "bench", ("cv2.filter2D timed in `fftconv bench "
     "crossover` and benchmarks/")),
    ("dask", "dask", "dask", "dask arrays"),
    ("astropy", "astropy", "astropy", "comparison with astropy.convolution in the tests"),
    ("torch", "torch", "test", "fftconv.nn checked against torch (tests, benchmarks/bench_nn.py)"),
    ("tensorflow", "tensorflow-cpu", "test", "fftconv.nn checked against TensorFlow (tests)"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="versions, FFT back end, threads, calibration file",
                       description="Show what fftconv runs on and which cost constants it uses.")
    p.set_defaults(run=run)


def _file_line(path: str | os.PathLike) -> str:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"{path} (none)"
    except OSError as exc:
        return f"{path} (cannot be read: {exc.strerror or exc})"
    age = datetime.datetime.now() - datetime.datetime.fromtimestamp(st.st_mtime)
    days = age.total_seconds() / 86400
    return f"{path} ({st.st_size} bytes, {days:.1f} days old)"


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


def _version(module: str, distribution: str) -> str | None:
    """The installed version, or None; found without importing the package."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return None
    for name in (distribution, module, distribution.replace("-cpu", "").replace("-headless", "")):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "installed"


def extras_lines() -> list[str]:
    """One line per optional package: installed or not, and what it unlocks."""
    lines = []
    for module, distribution, extra, unlocks in EXTRAS:
        version = _version(module, distribution)
        state = f"{version:<12}" if version else f"{'missing':<12}"
        how = "" if version else f" (pip install 'fftconv[{extra}]')"
        lines.append(f"  {distribution:<24}{state} {unlocks}{how}")
    return lines


def run(args: argparse.Namespace) -> int:
    from .. import get_workers
    from .._machine import costs as _costs
    from .._machine.cache import cache_dir, file_status, signature
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
        f"             signature: {file_status(_costs.CALIBRATION_FILE)}",
        f"             in force: {_costs.source()}",
        f"FFTW wisdom  {_file_line(directory / 'fftw_wisdom.json')}",
        f"decisions    {_file_line(directory / 'decisions.json')}",
        *_learned_lines(directory),
        "optional packages (extras) and what each unlocks:",
        *extras_lines(),
    ]
    print("\n".join(lines))
    return 0
