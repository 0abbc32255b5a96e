"""``fftconv filter``: results against scipy, file formats, warnings, errors, atomic output."""

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage, signal

from fftconv._cli import main
from fftconv._cli.filter import progress

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(3)
# numpy.pad's boundary names -> scipy.ndimage's mode names for the same extension.
NDIMAGE_MODE = {"symmetric": "reflect", "reflect": "mirror", "edge": "nearest", "wrap": "wrap",
                "constant": "constant"}


def cli(*argv):
    """Run ``fftconv filter`` in-process; return (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["filter", *map(str, argv)])
        except SystemExit as exc:  # argparse errors
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def ndimage_filter(x, k, *, correlate=False, boundary="symmetric", cval=0.0):
    """The expected 'same' result: scipy.ndimage with the matching mode and anchor.

    fftconv's convolve anchors an even kernel at (K-1)//2, ndimage's at K//2, which is
    ndimage's origin -1 along even axes; correlate anchors agree (K//2).
    """
    x = np.asarray(x, np.float64)
    mode = NDIMAGE_MODE[boundary]
    if correlate:
        return ndimage.correlate(x, k, mode=mode, cval=cval)
    origin = [-1 if n % 2 == 0 else 0 for n in k.shape]
    return ndimage.convolve(x, k, mode=mode, cval=cval, origin=origin)


def save_png(path, a):
    Image.fromarray(a).save(path)
    return path


def load(path):
    if path.suffix == ".npy":
        return np.load(path)
    with Image.open(path) as im:
        return np.array(im)


@pytest.fixture
def asym(tmp_path):
    """An asymmetric 4x3 kernel file (even rows: the anchor rule matters; flips show)."""
    k = RNG.standard_normal((4, 3))
    np.save(tmp_path / "k.npy", k)
    return k, tmp_path / "k.npy"


@pytest.mark.parametrize("boundary", sorted(NDIMAGE_MODE))
@pytest.mark.parametrize("correlate", [False, True])
def test_float_npy_matches_ndimage(tmp_path, asym, boundary, correlate):
    k, kpath = asym
    x = RNG.standard_normal((13, 17))
    np.save(tmp_path / "x.npy", x)
    flags = ["--correlate"] if correlate else []
    if boundary == "constant":  # cval is refused with a boundary that never reads it
        flags += ["--cval", "0.75"]
    status, out, err = cli(tmp_path / "x.npy", tmp_path / "y.npy", "--kernel", kpath,
                           "--boundary", boundary, *flags)
    assert (status, out, err) == (0, "", "")
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float64
    expected = ndimage_filter(x, k, correlate=correlate, boundary=boundary, cval=0.75)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["direct", "fft", "overlap"])
def test_every_method_gives_the_ndimage_result(tmp_path, method):
    x = RNG.standard_normal((40, 31))
    np.save(tmp_path / "x.npy", x)
    status, _, err = cli(tmp_path / "x.npy", tmp_path / "y.npy", "-k", "gaussian:sigma=2.5",
                         "--method", method, "--workers", "1")
    assert status == 0, err
    expected = ndimage.gaussian_filter(x, 2.5, mode="reflect")
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode, correlate, reference", [
    ("full", False, signal.convolve2d), ("full", True, signal.correlate2d),
    ("valid", False, signal.convolve2d), ("valid", True, signal.correlate2d),
])
def test_full_and_valid_modes(tmp_path, asym, mode, correlate, reference):
    k, kpath = asym
    x = RNG.standard_normal((9, 12))
    np.save(tmp_path / "x.npy", x)
    flags = ["--correlate"] if correlate else []
    status, _, err = cli(tmp_path / "x.npy", tmp_path / "y.npy", "-k", kpath, "--mode", mode,
                         "--boundary", "constant", *flags)
    assert status == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), reference(x, k, mode), atol=1e-12)


@pytest.mark.parametrize("ext", ["png", "tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gray_8_and_16_bit_round_and_clip(tmp_path, ext, dtype):
    x = RNG.integers(0, np.iinfo(dtype).max, (24, 20), endpoint=True, dtype=dtype)
    src = save_png(tmp_path / f"x.{ext}", x)
    status, _, err = cli(src, tmp_path / f"y.{ext}", "-k", "box:5")
    assert (status, err) == (0, "")
    y = load(tmp_path / f"y.{ext}")
    assert y.dtype == dtype and y.shape == x.shape
    expected = ndimage.uniform_filter(x.astype(np.float64), 5, mode="reflect")
    assert np.abs(y - expected).max() <= 0.5 + 1e-9  # rounded to the nearest integer


def test_colour_channels_are_filtered_independently(tmp_path):
    x = RNG.integers(0, 256, (21, 26, 3), dtype=np.uint8)
    status, _, err = cli(save_png(tmp_path / "x.png", x), tmp_path / "y.png",
                         "-k", "motion:length=7,angle=30")
    assert (status, err) == (0, "")
    y = load(tmp_path / "y.png")
    from fftconv.kernels import motion

    for c in range(3):
        expected = ndimage.convolve(x[..., c].astype(float), motion(7, 30), mode="reflect")
        assert np.abs(y[..., c] - expected).max() <= 0.5 + 1e-9


def test_rgba_keeps_alpha(tmp_path):
    x = RNG.integers(0, 256, (16, 19, 4), dtype=np.uint8)
    src = save_png(tmp_path / "x.png", x)
    assert cli(src, tmp_path / "same.png", "-k", "gaussian:sigma=1.5")[0] == 0
    y = load(tmp_path / "same.png")
    np.testing.assert_array_equal(y[..., 3], x[..., 3])
    expected = ndimage.gaussian_filter(x[..., 0].astype(float), 1.5, mode="reflect")
    assert np.abs(y[..., 0] - expected).max() <= 0.5 + 1e-9

    # Other modes carry the alpha of the pixel under the kernel's centre (box:5 -> offset 2).
    assert cli(src, tmp_path / "valid.png", "-k", "box:5", "--mode", "valid")[0] == 0
    np.testing.assert_array_equal(load(tmp_path / "valid.png")[..., 3], x[2:-2, 2:-2, 3])
    assert cli(src, tmp_path / "full.png", "-k", "box:5", "--mode", "full",
               "--boundary", "constant")[0] == 0
    full = load(tmp_path / "full.png")[..., 3]
    assert full.shape == (20, 23)
    np.testing.assert_array_equal(full, np.pad(x[..., 3], 2))  # cval 0: transparent


def test_clipping_warning_counts_pixels(tmp_path):
    x = RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    np.savetxt(tmp_path / "double.txt", [[2.0]])
    status, _, err = cli(save_png(tmp_path / "x.png", x), tmp_path / "y.png",
                         "-k", tmp_path / "double.txt")
    assert status == 0
    clipped = int(np.any(x >= 128, axis=2).sum())  # 2*x > 255 in some channel
    assert clipped > 60  # most pixels: the warning suggests --normalize
    assert err == (f"fftconv filter: warning: {clipped} of 120 pixels clipped to the uint8 "
                   "range 0..255; the kernel sums to 2, not 1: pass --normalize to divide "
                   "it by its sum\n")
    np.testing.assert_array_equal(load(tmp_path / "y.png"), np.minimum(2 * x.astype(int), 255))


def test_float_result_to_png_is_rounded_with_a_warning(tmp_path):
    x = RNG.integers(0, 256, (8, 9), dtype=np.uint8)
    status, _, err = cli(save_png(tmp_path / "x.png", x), tmp_path / "y.png", "-k", "log:sigma=1",
                         "--dtype", "float32")
    assert status == 0
    lines = err.splitlines()
    assert lines[0] == "fftconv filter: warning: PNG cannot hold floating-point samples: " \
                       "rounded to uint8"
    expected = ndimage.gaussian_laplace(x.astype(float), 1, mode="reflect")
    count = int((np.rint(expected) < 0).sum() + (np.rint(expected) > 255).sum())
    assert count > 0 and lines[1].startswith(f"fftconv filter: warning: {count} of 72 pixels")
    assert np.abs(load(tmp_path / "y.png") - np.clip(expected, 0, 255)).max() <= 0.5 + 1e-4


def test_float32_tiff_output(tmp_path):
    x = RNG.integers(0, 65536, (12, 10), dtype=np.uint16)
    status, _, err = cli(save_png(tmp_path / "x.png", x), tmp_path / "y.tif", "-k", "disk:2.5",
                         "--dtype", "float32", "--normalize")
    assert (status, err) == (0, "")
    with Image.open(tmp_path / "y.tif") as im:
        assert im.mode == "F"
        y = np.asarray(im)
    from fftconv.kernels import disk

    expected = ndimage.convolve(x.astype(float), disk(2.5), mode="reflect")
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=0)


def test_explain_prints_the_report(tmp_path):
    x = RNG.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    status, out, _ = cli(save_png(tmp_path / "x.png", x), tmp_path / "y.png", "-k", "box:3",
                         "--explain", "--correlate", "--method", "fft")
    assert status == 0
    assert out.startswith("fftconv plan: correlate 16x20 (uint8) with 3x3 (float64)")
    assert "method='fft' -> 'fft'" in out and re.search(r"^\*\s+fft\s", out, re.MULTILINE)
    assert "channels: 3 filtered one by one with this plan" in out


def bomb_png(path, width, height, mode="L"):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    import struct
    import zlib

    from PIL import Image

    Image.new(mode, (4, 4)).save(path)
    data = bytearray(path.read_bytes())
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    path.write_bytes(bytes(data))
    return path


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, monkeypatch):
    """The header of a 30000x30000 PNG is checked against memory before decoding."""
    from fftconv._machine import resources

    monkeypatch.setattr(resources, "available_memory", lambda: 1 << 30)
    src = bomb_png(tmp_path / "bomb.png", 30_000, 30_000)
    status, out, err = cli(src, tmp_path / "out.png", "-k", "box:3")
    assert (status, out) == (2, "")
    assert err == (f"fftconv filter: error: cannot read {str(src)!r}: its header claims "
                   "30000x30000 pixels (0.838 GiB decoded), too large to filter in the 1 GiB "
                   "of memory available\n")


def errors(tmp):
    """(arguments, the one error line's expected text) for every class of mistake."""
    save_png(tmp / "rgba.png", np.zeros((6, 6, 4), np.uint8))
    save_png(tmp / "g16.png", np.zeros((6, 6), np.uint16))
    (tmp / "junk.png").write_bytes(b"not an image")
    (tmp / "junk.npy").write_bytes(b"not an array")
    np.save(tmp / "c.npy", np.ones((4, 4), complex))
    np.save(tmp / "v.npy", np.ones(5))
    np.save(tmp / "empty.npy", np.zeros((0, 4)))
    bomb_png(tmp / "bomb.png", 200_000, 200_000, "RGBA")
    forms = "(accepted: gaussian:sigma=S[,truncate=T]; box:N; disk:R; motion:length=L,angle=DEG"
    png, out = tmp / "rgba.png", tmp / "out.png"
    return [
        ((png, out, "-k", "gauss:sigma=3"), "kernel 'gauss:sigma=3': unknown kernel 'gauss' "
                                            + forms),
        ((png, out, "-k", "blur"), "kernel 'blur': not a kernel name or a file " + forms),
        ((png, out, "-k", "box:x"), "kernel 'box:x': size='x' is not a number (accepted: box:N)"),
        ((png, out, "-k", "motion:40"), "kernel 'motion:40': missing angle (accepted: "
                                        "motion:length=L,angle=DEG)"),
        ((png, out, "-k", "gaussian:sigma=-2"), "kernel 'gaussian:sigma=-2': sigma=-2 is invalid; "
                                                "expected a finite number >= 0"),
        ((png, out, "-k", "disk:radius=0"), "kernel 'disk:radius=0': radius=0 is invalid"),
        ((png, out, "-k", "gaussian:sigma=1,size=3"), "unknown parameter 'size'"),
        ((png, out, "-k", tmp / "nokernel.npy"), "no such file"),
        ((tmp / "missing.png", out, "-k", "box:3"), f"cannot read {str(tmp / 'missing.png')!r}: "
                                                    "no such file"),
        ((tmp / "junk.png", out, "-k", "box:3"), "junk.png': not a PNG image"),
        ((tmp / "junk.npy", out, "-k", "box:3"), "junk.npy': not a .npy file"),
        ((tmp / "x.gif", out, "-k", "box:3"), "x.gif': unsupported extension '.gif'; expected "
                                              "one of .jpeg, .jpg, .npy, .png, .tif, .tiff"),
        ((png, tmp / "out.bmp", "-k", "box:3"), "cannot write "),
        ((png, tmp / "out.jpg", "-k", "box:3"), f"cannot write {str(tmp / 'out.jpg')!r}: JPEG "
                                                "cannot hold an array of shape (6, 6, 4)"),
        ((tmp / "g16.png", tmp / "out.jpg", "-k", "box:3"), "JPEG cannot hold uint16"),
        ((tmp / "c.npy", out, "-k", "box:3"), "holds complex128 samples; expected integers"),
        ((tmp / "v.npy", out, "-k", "box:3"), "has shape (5,), fewer dimensions than the "
                                              "kernel's shape (3, 3)"),
        ((png, tmp / "nodir" / "out.png", "-k", "box:3"), "no directory"),
        ((png, out, "-k", "box:9", "--mode", "valid"), "--mode 'valid' needs the kernel"),
        ((png, out, "-k", "box:3", "--boundary", "reflect", "--cval", "2"),
         "--cval 2.0 is invalid with --boundary 'reflect', which never reads it"),
        ((png, out, "-k", "box:3", "--boundry", "reflect"),
         "unrecognized arguments: --boundry reflect; did you mean --boundary?"),
        ((tmp / "empty.npy", out, "-k", "box:3"), "holds an empty array of shape (0, 4)"),
        ((tmp / "bomb.png", out, "-k", "box:3"), "bomb.png': its header claims 200000x200000 "
                                                 "pixels (149 GiB decoded), too large"),
        ((png, out, "-k", "box:200000"), "kernel 'box:200000': size=200000 gives a "
                                          "200000x200000 kernel of 298 GiB, more than the"),
        ((png, out, "-k", "gaussian:sigma=1e6"), "sigma=1000000.0 gives a 8000001x8000001 "
                                                 "kernel"),
        ((png, out, "-k", "motion:length=1e6,angle=30"), "length=1000000.0 gives a"),
        ((png, out, "-k", "box:3", "--boundary", "wrapp"), "argument --boundary: invalid choice: "
                                                           "'wrapp'"),
        ((png, out, "-k", "box:3", "--workers", "0"), "argument --workers: '0' is not a "
                                                      "thread count; expected N >= 1, or -1"),
        ((png, out), "the following arguments are required: -k/--kernel"),
    ]


def test_every_error_is_one_line_and_writes_nothing(tmp_path):
    for argv, message in errors(tmp_path):
        before = sorted(p.name for p in tmp_path.rglob("*"))
        status, out, err = cli(*argv)
        lines = err.splitlines()
        assert status == 2 and out == "", argv
        assert lines and lines[0].startswith("fftconv filter: error: "), (argv, err)
        assert message in lines[0], (argv, err)
        # one line; argparse's errors add a hint to --help instead of the usage
        assert lines[1:] in ([], ["Try 'fftconv filter --help' for more information."]), err
        assert "usage:" not in err and "Traceback" not in err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_missing_pillow(tmp_path, monkeypatch):
    src = save_png(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    monkeypatch.setitem(sys.modules, "PIL", None)
    status, _, err = cli(src, tmp_path / "y.npy", "-k", "box:3")
    assert (status, err) == (2, "fftconv filter: error: reading PNG needs Pillow: "
                                "pip install 'fftconv[image]'\n")


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    src = save_png(tmp_path / "x.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "y.png").write_bytes(b"old")

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half an image")
        raise OSError("No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    status, _, err = cli(src, tmp_path / "y.png", "-k", "box:3")
    assert (status, err) == (2, "fftconv filter: error: No space left on device\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png", "y.png"]
    assert (tmp_path / "y.png").read_bytes() == b"old"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal_for_long_jobs(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the fallback, whether tqdm is installed
    tty, pipe = Terminal(), io.StringIO()
    assert list(progress(range(3), 5.0, tty)) == [0, 1, 2]
    assert tty.getvalue() == "".join(f"fftconv filter: channel {i} of 3\n" for i in (1, 2, 3))
    assert list(progress(range(3), 5.0, pipe)) == [0, 1, 2] and pipe.getvalue() == ""
    quick = Terminal()
    assert list(progress(range(3), 0.01, quick)) == [0, 1, 2] and quick.getvalue() == ""


def test_progress_uses_tqdm_when_installed(monkeypatch):
    import types

    calls = []

    def tqdm(items, **options):
        calls.append(options)
        return iter(items)

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=tqdm))
    tty = Terminal()
    assert list(progress(range(2), 5.0, tty)) == [0, 1]
    assert calls == [dict(desc="fftconv filter", unit="channel", file=tty, leave=False)]
    assert tty.getvalue() == ""


def test_python_m_fftconv_filter(tmp_path):
    x = RNG.integers(0, 256, (12, 14), dtype=np.uint8)
    src = save_png(tmp_path / "in.png", x)
    run = [sys.executable, "-m", "fftconv", "filter"]
    ok = subprocess.run([*run, str(src), str(tmp_path / "out.npy"), "--kernel", "box:3",
                         "--precision", "float64"], capture_output=True, text=True, timeout=120)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    expected = ndimage.uniform_filter(x.astype(float), 3, mode="reflect")
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=0, atol=1e-12)
    bad = subprocess.run([*run, str(src), str(tmp_path / "o.png"), "--kernel", "box:-1"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("fftconv filter: error: kernel 'box:-1'")
    assert bad.stderr.count("\n") == 1 and not (tmp_path / "o.png").exists()


def test_help_states_the_defaults():
    status, out, _ = cli("--help")
    assert status == 0
    text = " ".join(out.split())
    assert "default: same" in text and "default: symmetric" in text
    assert "scipy.ndimage's 'reflect'" in text and "motion:length=L,angle=DEG" in text


def test_cli_doc_examples_run(tmp_path, monkeypatch):
    """Every ``$ fftconv filter`` line of docs/cli.md runs on the sample photograph."""
    from fftconv.data import sample_image

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\$ (fftconv filter .*)$", doc, re.MULTILINE)
    assert len(commands) >= 4
    monkeypatch.chdir(tmp_path)
    Image.fromarray(sample_image()[:128, 160:288]).save("photo.png")
    for text, name in re.findall(r"^```text\n(# (\S+\.txt):.*?)^```", doc, re.S | re.M):
        Path(name).write_text(text)  # kernel files shown in the page
    for command in commands:
        argv = shlex.split(command)[2:]
        status, _, err = cli(*argv)
        assert status == 0, (command, err)
        assert Path(argv[1]).exists(), command


def test_progress_counts_overlap_blocks_with_tqdm(monkeypatch):
    """One large channel: the bar advances per overlap-save block, to the exact total."""
    import types

    import fftconv

    bars = []

    class Bar:
        def __init__(self, **options):
            self.options, self.n = options, 0
            bars.append(self)

        def update(self, n):
            self.n += n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    x = RNG.standard_normal((300, 280))
    plan = fftconv.plan_convolve(x.shape, np.ones((21, 21)), "same", method="overlap",
                                 max_memory=400_000)
    blocks = int(np.prod([-(-n // b) for n, b in zip(plan.out_shape, plan.block_shape)]))
    assert blocks > 4
    tty = Terminal()
    for _ in progress(range(2), 5.0, tty, blocks=blocks):
        plan(x)
    (bar,) = bars
    assert bar.options["total"] == 2 * blocks and bar.options["unit"] == "block"
    assert bar.n == 2 * blocks
