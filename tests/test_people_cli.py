"""The command line explains itself: one-line errors, plan describes filter, honest bench."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import fftconv
from fftconv._cli import main
from fftconv.benchmark import CrossoverResult, _row


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse's errors
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, prog: str) -> str:
    """The error line, after checking the message is one line and the --help hint."""
    lines = err.splitlines()
    assert lines[0].startswith(f"{prog}: error: "), err
    assert lines[1:] in ([], [f"Try '{prog} --help' for more information."]), err
    assert "usage:" not in err and "Traceback" not in err
    return lines[0][len(f"{prog}: error: "):]


# -- argparse errors: one line and a hint, in every subcommand ---------------------------

@pytest.mark.parametrize("argv, prog, message", [
    (["--bogus"], "fftconv", "unrecognized arguments: --bogus"),
    (["nocommand"], "fftconv", "argument COMMAND: invalid choice: 'nocommand'"),
    (["filter", "a.png"], "fftconv filter", "the following arguments are required: OUT"),
    (["filter", "a.png", "b.png", "-k", "box:3", "--boundry", "wrap"], "fftconv filter",
     "unrecognized arguments: --boundry wrap; did you mean --boundary?"),
    (["plan", "--shape", "8x8"], "fftconv plan",
     "the following arguments are required: -k/--kernel"),
    (["plan", "--shape", "8x8", "--kernel", "3x3", "--boundry", "wrap"], "fftconv plan",
     "unrecognized arguments: --boundry wrap; did you mean --boundary?"),
    (["plan", "--shape", "8x8", "--kernel", "3x3", "--dtype", "int4"], "fftconv plan",
     "argument --dtype: invalid choice: 'int4'"),
    (["bench", "crossover", "--kernels", "x"], "fftconv bench crossover",
     "argument --kernels: 'x' is not a positive integer"),
    (["bench", "crossover", "--qiuck"], "fftconv bench crossover",
     "unrecognized arguments: --qiuck; did you mean --quick?"),
    (["calibrate", "--fast"], "fftconv calibrate", "unrecognized arguments: --fast"),
    (["info", "extra"], "fftconv info", "unrecognized arguments: extra"),
])
def test_argparse_errors_are_one_line_and_a_hint(capsys, argv, prog, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert one_line_error(err, prog).startswith(message)


# -- plan describes what filter will do --------------------------------------------------

def test_plan_takes_a_kernel_spec_and_shows_the_separable_strategy(capsys):
    code, out, _ = run(capsys, "plan", "--shape", "3000x4000x3", "--kernel",
                       "gaussian:sigma=20", "--dtype", "uint8")
    assert code == 0
    assert out.startswith("fftconv plan: convolve 3000x4000 (uint8) with 161x161 (float64)")
    assert "boundary='symmetric'" in out and "computed in float32" in out
    separable = next(line for line in out.splitlines() if " separable " in line)
    assert re.search(r"separable\s+\d", separable), separable  # has an estimate: it applies
    assert "channels: 3 filtered one by one with this plan" in out
    assert "precision: float32, exact enough for uint8 samples" in out


def test_plan_with_a_kernel_shape_knows_no_values(capsys):
    code, out, _ = run(capsys, "plan", "--shape", "512x512", "--kernel", "31x31")
    assert code == 0
    separable = next(line for line in out.splitlines() if " separable " in line)
    assert re.search(r"separable\s+-", separable), separable


def test_plan_reports_what_filter_runs(capsys, tmp_path):
    from PIL import Image

    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "in.png")
    code, planned, _ = run(capsys, "plan", "--shape", "40x50x3", "--kernel", "disk:4",
                           "--dtype", "uint8")
    assert code == 0
    code, filtered, _ = run(capsys, "filter", tmp_path / "in.png", tmp_path / "out.png",
                            "--kernel", "disk:4", "--explain")
    assert code == 0
    assert planned.splitlines()[:2] == filtered.splitlines()[:2]


def test_plan_takes_kernel_files_axes_and_integer_types(capsys, tmp_path):
    np.save(tmp_path / "k.npy", np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0]))
    code, out, _ = run(capsys, "plan", "--shape", "64x64", "--kernel", tmp_path / "k.npy",
                       "--dtype", "uint16", "--method", "separable")
    assert code == 0 and "'separable'" in out and "(uint16) with 3x3 (float64)" in out
    code, out, _ = run(capsys, "plan", "--shape", "5x64x64", "--kernel", "3x3",
                       "--axes", "1,2", "--dtype", "int16")
    assert code == 0 and "convolve 5x64x64 (int16) with 1x3x3" in out and "axes=(1, 2)" in out


@pytest.mark.parametrize("argv, message", [
    (["--shape", "8x8", "--kernel", "3x3x3"],
     "--kernel '3x3x3' has 3 dimensions but --shape 8x8 has 2"),
    (["--shape", "100000000000x100000000000", "--kernel", "3x3"],
     "--shape (100000000000, 100000000000) is invalid: 1e+22 elements, more than an array"),
    (["--shape", "4x4", "--kernel", "9x9", "--mode", "valid"],
     "--mode 'valid' needs the kernel to be no larger than x"),
    (["--shape", "8x8", "--kernel", "3x3", "--axes", "0"],
     "--axes '0' names 1 axes but the kernel has 2 dimensions"),
    (["--shape", "8x8", "--kernel", "3x3", "--axes", "0,5"], "--axes (0, 5) is invalid"),
    (["--shape", "8x8", "--kernel", "3x3", "--method", "separable"],
     ("--method 'separable' cannot serve this problem: the kernel's values are unknown "
     "(--kernel gives only a shape; give a kernel spec or file)")),
    (["--shape", "8x8", "--kernel", "box:200000"], "kernel 'box:200000': size=200000 gives"),
    (["--shape", "8x8", "--kernel", "gauss:3"], "kernel 'gauss:3': unknown kernel 'gauss'"),
    (["--shape", "8x8", "--kernel", "3x3", "--max-memory", "-5"], "--max-memory -5 is invalid"),
])
def test_plan_errors_are_one_line_and_name_no_python_function(capsys, argv, message):
    code, out, err = run(capsys, "plan", *argv)
    assert (code, out) == (2, "")
    line = one_line_error(err, "fftconv plan")
    assert message in line
    assert not re.search(r"\b(x_shape|kernel_shape|x_dtype|max_memory|plan_convolve|"
                         r"plan_correlate|explain|convolve\(|correlate\()", line), line
    assert not re.search(r"\b(mode|boundary|method|dtype|workers|axes|cval|effort)=", line)


def test_plot_without_matplotlib_is_one_line(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = run(capsys, "bench", "crossover", "--quick", "--plot", "c.png")
    assert (code, out) == (2, "")
    assert one_line_error(err, "fftconv bench crossover") == (
        "--plot needs matplotlib: pip install 'fftconv[plot]'")


def test_benchmark_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"^fftconv.benchmark.plot needs matplotlib: "
                       r"pip install 'fftconv\[plot\]'$"):
        fftconv.benchmark.plot(CrossoverResult("float32"), str(tmp_path / "c.png"))


# -- filter: precision apart from the output type, workers -1 ----------------------------

@pytest.fixture
def photo(tmp_path):
    from PIL import Image

    x = np.random.default_rng(1).integers(0, 256, (20, 24), dtype=np.uint8)
    Image.fromarray(x).save(tmp_path / "in.png")
    return x, tmp_path / "in.png"


def test_an_8_bit_image_computes_in_float32_and_says_so(capsys, photo, tmp_path):
    import scipy.ndimage

    x, src = photo
    code, out, err = run(capsys, "filter", src, tmp_path / "out.npy", "-k", "box:3",
                         "--explain")
    assert (code, err) == (0, "")
    assert "computed in float32" in out
    assert "precision: float32, exact enough for uint8 samples" in out
    y = np.load(tmp_path / "out.npy")
    assert y.dtype == np.float32  # .npy keeps the floating-point result
    expected = scipy.ndimage.uniform_filter(x.astype(np.float64), 3, mode="reflect")
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-4)
    assert np.abs(y - expected).max() > 0  # and it really was float32


def test_precision_and_output_type_are_separate(capsys, photo, tmp_path):
    import scipy.ndimage

    x, src = photo
    code, _, err = run(capsys, "filter", src, tmp_path / "out.npy", "-k", "box:3",
                       "--precision", "float64", "--dtype", "float32")
    assert (code, err) == (0, "")
    y = np.load(tmp_path / "out.npy")
    expected = scipy.ndimage.uniform_filter(x.astype(np.float64), 3, mode="reflect")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, expected.astype(np.float32))
    code, _, err = run(capsys, "filter", src, tmp_path / "out.png", "-k", "box:3")
    assert (code, err) == (0, "")  # an image keeps its sample type, no warning
    from PIL import Image

    assert np.asarray(Image.open(tmp_path / "out.png")).dtype == np.uint8


@pytest.mark.parametrize("command", ["filter", "plan"])
def test_workers_minus_one_is_accepted(capsys, photo, tmp_path, command):
    _, src = photo
    if command == "filter":
        argv = ["filter", src, tmp_path / "o.npy", "-k", "box:3", "--workers", "-1",
                "--explain"]
    else:
        argv = ["plan", "--shape", "20x24", "--kernel", "3x3", "--workers", "-1"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert f"workers={fftconv.get_workers()}" in out


def test_an_empty_npy_is_one_line(capsys, tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((0, 3)))
    code, out, err = run(capsys, "filter", tmp_path / "e.npy", tmp_path / "o.npy", "-k", "box:3")
    assert (code, out) == (2, "")
    assert one_line_error(err, "fftconv filter") == (
        f"{str(tmp_path / 'e.npy')!r} holds an empty array of shape (0, 3); expected at least "
        "one sample")


# -- info ---------------------------------------------------------------------------------

def test_info_lists_the_extras_and_what_they_unlock(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "cv2" else real(name, *a))
    code, out, _ = run(capsys, "info")
    assert code == 0
    lines = out.splitlines()
    start = lines.index("optional packages (extras) and what each unlocks:")
    table = "\n".join(lines[start + 1:])
    for package in ("pillow", "matplotlib", "opencv-python-headless", "dask", "torch"):
        assert re.search(rf"^  {re.escape(package)}\s", table, re.MULTILINE), package
    cv = next(line for line in lines if line.startswith("  opencv-python-headless"))
    assert "missing" in cv and "pip install 'fftconv[bench]'" in cv
    pillow = next(line for line in lines if line.startswith("  pillow"))
    assert "PNG, JPEG and TIFF files in `fftconv filter`" in pillow and "missing" not in pillow


# -- bench crossover: the table and the plot ----------------------------------------------

def _result() -> CrossoverResult:
    """Two shapes; 'auto' measured faster than its own pick (noise) in one row."""
    res = CrossoverResult("float32")
    grid = {3: (1.0, 4.0, 5.0), 5: (2.0, 4.5, 5.5), 9: (6.0, 5.0, 5.0), 15: (16.0, 5.5, 5.2)}
    for shape in [(256, 256), (512, 512)]:
        for k, (direct, fft, overlap) in grid.items():
            times = {"direct": direct * 1e-3, "fft": fft * 1e-3, "overlap": overlap * 1e-3,
                     "scipy.ndimage": 3.0e-3, "auto": min(direct, fft, overlap) * 0.9e-3}
            pick = "direct" if k < 9 else "fft"
            res.rows.append(_row(shape, k, times, pick))
    return res


def test_fastest_is_a_strategy_or_a_library_never_auto():
    for row in _result().rows:
        assert row["fastest"] != "auto"
        others = {m: t for m, t in row["times"].items() if m != "auto"}
        assert row["fastest"] == min(others, key=others.__getitem__)


def test_regret_is_between_forced_strategies_and_never_below_one():
    rows = {(r["shape"], r["k"]): r for r in _result().rows}
    assert rows[(256, 256), 3]["regret"] == 1.0  # picked direct, the fastest forced
    assert rows[(256, 256), 15]["regret"] == pytest.approx(5.5 / 5.2)  # fft over overlap
    assert all(r["regret"] >= 1 for r in rows.values())
    table = _result().table()
    assert "0.90 (noise)" in table  # auto's own time below its pick's is labelled noise
    for line in table.splitlines()[2:-1]:
        cells = line.split()
        assert cells[-1] == "(noise)" or float(cells[-1]) >= 1  # auto/pick
        regret = cells[-3] if cells[-1] == "(noise)" else cells[-2]
        assert float(regret) >= 1


def test_a_pick_that_was_not_timed_has_no_regret():
    row = _row((64, 64), 3, {"fft": 1e-3, "auto": 1e-3}, "direct")
    assert row["regret"] is None and row["auto_overhead"] is None
    res = CrossoverResult("float32", [row])
    assert res.table().splitlines()[2].split()[-2:] == ["-", "-"]


def test_plot_ticks_are_the_measured_kernel_sizes_and_the_label_clears_the_data(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    captured = {}
    original = plt.close
    plt.close = lambda fig=None: captured.setdefault("fig", fig)  # keep the figure
    try:
        fftconv.benchmark.plot(_result(), str(tmp_path / "c.png"))
    finally:
        plt.close = original
    fig = captured["fig"]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax in axes:
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_visible()]
        assert labels == ["3", "5", "9", "15"]
        assert [t for t in ax.xaxis.get_minor_ticks() if t.label1.get_text()] == []
        marker = [t for t in ax.texts if t.get_gid() == "crossover-label"]
        assert len(marker) == 1 and marker[0].get_text().startswith("crossover K≈")
        box = marker[0].get_window_extent(renderer)
        area = ax.get_window_extent(renderer)
        assert box.y0 >= area.y1 - 0.5, (box, area)  # above the data, never across it
        title = ax.title.get_window_extent(renderer)
        assert not box.overlaps(title)
    plt.close(fig)
