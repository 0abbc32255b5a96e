"""The plan, info, calibrate and bench commands."""

import csv
import os
import subprocess
import sys

import pytest

from fftconv._machine import costs as _costs
from fftconv._cli import main


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    _costs.reload()
    yield tmp_path
    _costs.reload()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prints_every_candidate(capsys):
    code, out, _ = run(capsys, "plan", "--shape", "2048x2048", "--kernel", "63x63",
                       "--dtype", "float32", "--mode", "same", "--boundary", "reflect")
    assert code == 0
    # filter's kernels are float64; a float32 image computes in float32 with them
    assert "convolve 2048x2048 (float32) with 63x63 (float64)" in out
    assert "computed in float32" in out
    assert "boundary='reflect'" in out
    for name in ("direct", "separable", "fft", "overlap"):
        assert f"  {name} " in out
    assert out.count("\n*") == 1  # exactly one chosen


def test_plan_measure_times_candidates(capsys, cache):
    code, out, _ = run(capsys, "plan", "--shape", "64x64", "--kernel", "7x7", "--effort", "measure")
    assert code == 0 and "effort='measure'" in out and "measured slower" in out


@pytest.mark.parametrize("argv, message", [
    (["plan", "--shape", "20xq", "--kernel", "3x3"],
     "argument --shape: '20xq' is not a shape; expected positive integers joined by 'x'"),
    (["plan", "--shape", "20x20", "--kernel", "3x3", "--method", "bogus"],
     "argument --method: invalid choice: 'bogus'"),
    (["plan", "--shape", "20x20", "--kernel", "3x3", "--workers", "0"],
     "argument --workers: '0' is not a thread count"),
    (["bench", "crossover", "--kernels", "3", "x"], "argument --kernels: 'x' is not a positive integer"),
    (["bench", "crossover", "--dtype", "int8"], "argument --dtype: invalid choice: 'int8'"),
])
def test_bad_arguments_name_the_flag(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_library_errors_become_one_line(capsys):
    code, _, err = run(capsys, "plan", "--shape", "4x4", "--kernel", "9x9", "--mode", "valid")
    assert code == 2
    assert err.startswith("fftconv plan: error: --mode 'valid' needs the kernel to be no larger")
    assert err.splitlines()[1:] == ["Try 'fftconv plan --help' for more information."]


def test_mismatched_kernel_dimensions(capsys):
    code, out, err = run(capsys, "plan", "--shape", "4x4", "--kernel", "3x3x3")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "fftconv plan: error: --kernel '3x3x3' has 3 dimensions but --shape 4x4 has 2",
        "Try 'fftconv plan --help' for more information."]


def test_info_reports_versions_backend_and_calibration(capsys, cache):
    code, out, _ = run(capsys, "info")
    assert code == 0
    for key in ("numpy", "scipy", "pyfftw", "numba", "FFT backend  pyfftw", "workers",
                f"cache dir    {cache}", "calibration", "in force: shipped defaults"):
        assert key in out


def test_calibrate_then_info(capsys, cache):
    code, out, _ = run(capsys, "calibrate", "--quick", "--no-progress")
    assert code == 0 and f"calibration written to {cache / 'calibration.json'}" in out
    assert "ns per multiply-add" in out
    code, out, _ = run(capsys, "info")
    assert "signature: matches this machine and these versions" in out
    assert f"in force: {cache / 'calibration.json'}" in out


def test_bench_crossover_table_csv_and_plot(capsys, tmp_path):
    csv_path, png = tmp_path / "c.csv", tmp_path / "c.png"
    code, out, _ = run(capsys, "bench", "crossover", "--shapes", "96x96", "--kernels", "3", "21",
                       "--repeat", "1", "--csv", str(csv_path), "--plot", str(png))
    assert code == 0
    assert "crossover (best FFT strategy beats direct): 96x96:" in out
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["k"] for r in rows] == ["3", "21"]
    for r in rows:
        assert float(r["direct"]) > 0 and float(r["auto"]) > 0 and float(r["regret"]) > 0
        assert r["auto_pick"] in {"direct", "separable", "fft", "overlap"}
        assert "scipy.ndimage" in r and "cv2.filter2D" in r
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("path", ["out.jpg", "x.bmpx"])
def test_bench_plot_needs_png(capsys, path):
    code, out, err = run(capsys, "bench", "crossover", "--quick", "--plot", path)
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == (f"fftconv bench crossover: error: --plot {path!r}: "
                                   "expected a .png path")


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "fftconv", "--version"], capture_output=True,
                         text=True, env=os.environ.copy())
    assert out.returncode == 0 and out.stdout.startswith("fftconv ")
