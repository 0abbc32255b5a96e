"""Image and .npy files: round trips checked against Pillow itself, conversions, atomic writes."""

import os
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from fftconv._cli._imageio import read, storage_dtype, to_dtype, write

RNG = np.random.default_rng(7)


def random_image(shape, dtype):
    if np.dtype(dtype).kind == "f":
        return RNG.standard_normal(shape).astype(dtype)
    return RNG.integers(0, np.iinfo(dtype).max, shape, endpoint=True, dtype=dtype)


def png_16bit_colour(path, a):
    """A 16-bit RGB PNG written by hand (Pillow cannot write one)."""
    h, w, _ = a.shape
    raw = b"".join(b"\x00" + a[i].astype(">u2").tobytes() for i in range(h))

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)  # 16 bits, colour type 2: RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


LOSSLESS = [
    ("png", (5, 7), np.uint8, "L"), ("png", (5, 7, 2), np.uint8, "LA"),
    ("png", (5, 7, 3), np.uint8, "RGB"), ("png", (5, 7, 4), np.uint8, "RGBA"),
    ("png", (5, 7), np.uint16, "I;16"),
    ("tif", (5, 7), np.uint8, "L"), ("tiff", (5, 7, 3), np.uint8, "RGB"),
    ("tif", (5, 7, 4), np.uint8, "RGBA"), ("tif", (5, 7), np.uint16, "I;16"),
    ("tif", (5, 7), np.float32, "F"),
]


@pytest.mark.parametrize("ext, shape, dtype, mode", LOSSLESS)
def test_lossless_round_trip_agrees_with_pillow(tmp_path, ext, shape, dtype, mode):
    a = random_image(shape, dtype)
    ours, theirs = tmp_path / f"ours.{ext}", tmp_path / f"theirs.{ext}"
    write(ours, a)
    with Image.open(ours) as im:  # what we write, Pillow reads back exactly
        assert im.mode == mode
        np.testing.assert_array_equal(np.asarray(im), a)
    Image.fromarray(a).save(theirs)  # what Pillow writes, we read exactly
    for path in (ours, theirs):
        got = read(path)
        assert got.data.dtype == dtype and got.alpha == (mode in ("LA", "RGBA"))
        np.testing.assert_array_equal(got.data, a)


def test_jpeg_round_trip_is_close(tmp_path):
    a = np.repeat(np.linspace(0, 255, 64), 48).reshape(64, 48, 1).repeat(3, axis=2)
    a = a.astype(np.uint8)
    write(tmp_path / "x.jpg", a)
    got = read(tmp_path / "x.jpg")
    assert got.data.shape == a.shape and got.data.dtype == np.uint8 and not got.alpha
    assert np.abs(got.data.astype(int) - a).mean() < 1.5  # quality 95 on a smooth ramp


@pytest.mark.parametrize("dtype, shape", [(np.float64, (3, 4, 5)), (np.int16, (6,)),
                                          (np.complex64, (2, 2)), (np.uint16, (4, 4, 3))])
def test_npy_round_trip(tmp_path, dtype, shape):
    a = (RNG.standard_normal(shape) * 100).astype(dtype)
    write(tmp_path / "a.npy", a)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), a)
    got = read(tmp_path / "a.npy")
    assert got.data.dtype == dtype and not got.alpha
    np.testing.assert_array_equal(got.data, a)


def test_pillow_modes_are_converted(tmp_path):
    palette = Image.fromarray(np.array([[0, 1], [2, 1]], np.uint8), "P")
    palette.putpalette([10, 20, 30, 40, 50, 60, 70, 80, 90])
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read(tmp_path / "p.png").data[1, 0], [70, 80, 90])
    palette.save(tmp_path / "pt.png", transparency=1)
    got = read(tmp_path / "pt.png")
    assert got.alpha and got.data.shape == (2, 2, 4)
    np.testing.assert_array_equal(got.data[..., 3], [[255, 0], [255, 0]])
    Image.fromarray(np.array([[0, 255]], np.uint8)).convert("1").save(tmp_path / "b.png")
    got = read(tmp_path / "b.png")
    assert got.data.dtype == np.uint8
    np.testing.assert_array_equal(got.data, [[0, 255]])


def test_16bit_colour_png_is_refused_not_truncated(tmp_path):
    png_16bit_colour(tmp_path / "c16.png", np.full((2, 3, 3), 1000, np.uint16))
    with pytest.raises(ValueError, match=r"^cannot read '.*c16\.png': 16-bit colour images are "
                                         r"not supported \(Pillow reduces them to 8 bits\)"):
        read(tmp_path / "c16.png")


def test_read_errors(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"hello")
    (tmp_path / "junk.npy").write_bytes(b"hello")
    Image.fromarray(random_image((64, 64), np.uint8)).save(tmp_path / "t.png")
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    np.save(tmp_path / "objects.npy", np.array([{}, 1], dtype=object), allow_pickle=True)
    frames = [Image.fromarray(np.zeros((4, 4), np.uint8)) for _ in range(2)]
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    cases = {
        "missing.png": (FileNotFoundError, "no such file"),
        "x.gif": (ValueError, "unsupported extension '.gif'; expected one of .jpeg, .jpg, "
                              ".npy, .png, .tif, .tiff"),
        "junk.png": (ValueError, "not a PNG image"),
        "junk.npy": (ValueError, "not a .npy file"),
        "cut.png": (ValueError, "truncated"),
        "objects.npy": (ValueError, "allow_pickle=False"),
        "pages.tif": (ValueError, "it holds 2 images; expected one"),
    }
    for name, (exc_type, message) in cases.items():
        with pytest.raises(exc_type) as info:
            read(tmp_path / name)
        assert str(info.value).startswith(f"cannot read {str(tmp_path / name)!r}: ")
        assert message in str(info.value)


@pytest.mark.parametrize("fmt, dtype, shape, stored, note", [
    ("NPY", np.float64, (3, 4, 5, 6), np.float64, None),
    ("PNG", np.uint8, (3, 4, 4), np.uint8, None),
    ("PNG", np.uint16, (3, 4), np.uint16, None),
    ("PNG", np.float32, (3, 4, 3), np.uint8, "PNG cannot hold floating-point samples: "
                                             "rounded to uint8"),
    ("PNG", np.float64, (3, 4), np.uint16, "rounded to uint16"),  # the fallback below
    ("TIFF", np.float32, (3, 4), np.float32, None),
    ("TIFF", np.float64, (3, 4), np.float32, "TIFF holds 32-bit floats: wrote float32"),
    ("TIFF", np.float64, (3, 4, 3), np.uint8, "TIFF cannot hold floating-point samples with "
                                              "3 channels: rounded to uint8"),
    ("JPEG", np.float32, (3, 4), np.uint8, "JPEG cannot hold floating-point samples"),
])
def test_storage_dtype(fmt, dtype, shape, stored, note):
    got, got_note = storage_dtype(fmt, np.dtype(dtype), shape, fallback=np.dtype(np.uint16))
    assert got == stored
    assert got_note is None if note is None else note in got_note


@pytest.mark.parametrize("fmt, dtype, shape, message", [
    ("PNG", np.uint16, (3, 4, 3), "PNG cannot hold uint16 with 3 channels; it holds uint8 "
                                  "with 1/2/3/4 channels, uint16 with 1 channel; .npy holds"),
    ("PNG", np.int16, (3, 4), "PNG cannot hold int16 with 1 channel"),
    ("JPEG", np.uint8, (3, 4, 4), "JPEG cannot hold an array of shape (3, 4, 4)"),
    ("JPEG", np.uint16, (3, 4), "JPEG cannot hold uint16"),
    ("TIFF", np.uint8, (3, 4, 5), "TIFF cannot hold an array of shape (3, 4, 5)"),
    ("PNG", np.uint8, (2, 3, 4, 1), "PNG cannot hold an array of shape (2, 3, 4, 1)"),
    ("PNG", np.uint8, (5,), "PNG cannot hold an array of shape (5,)"),
])
def test_storage_dtype_errors(fmt, dtype, shape, message):
    with pytest.raises(ValueError) as info:
        storage_dtype(fmt, np.dtype(dtype), shape)
    assert str(info.value).startswith(message)


def test_to_dtype_rounds_half_to_even_and_marks_clipped_samples():
    y = np.array([[-0.5, 0.5, 1.5, 254.5], [255.4, 255.6, -0.6, np.nan]])
    out, clipped = to_dtype(y, np.uint8)
    np.testing.assert_array_equal(out, [[0, 0, 2, 254], [255, 255, 0, 0]])
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(clipped, [[0, 0, 0, 0], [0, 1, 1, 1]])  # 255.6, -0.6, nan
    out, clipped = to_dtype(np.array([-40000.4, 40000.6]), np.int16)
    np.testing.assert_array_equal(out, [-32768, 32767])
    assert clipped.all()
    same, clipped = to_dtype(y, np.float32)
    assert same.dtype == np.float32 and not clipped.any()


def test_new_file_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write(tmp_path / "a.npy", np.zeros(3))
    finally:
        os.umask(old)
    assert (tmp_path / "a.npy").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()])
def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, failure):
    target = tmp_path / "out.png"
    target.write_bytes(b"previous contents")

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial")
        raise failure

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(type(failure)):
        write(target, np.zeros((4, 4), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    assert target.read_bytes() == b"previous contents"


def test_write_errors(tmp_path):
    with pytest.raises(ValueError, match=r"^cannot write '.*x\.bmp': unsupported extension"):
        write(tmp_path / "x.bmp", np.zeros((2, 2), np.uint8))
    with pytest.raises(FileNotFoundError, match=r"^cannot write '.*x\.npy': no directory"):
        write(tmp_path / "nowhere" / "x.npy", np.zeros(2))
    with pytest.raises(ValueError, match=r"^cannot write '.*x\.png': PNG cannot hold float"):
        write(tmp_path / "x.png", np.zeros((2, 2)))
    assert list(tmp_path.iterdir()) == []


def test_missing_pillow_is_one_clear_line(tmp_path, monkeypatch):
    write(tmp_path / "a.npy", np.ones(2))
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tmp_path / "a.png")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError) as info:
        read(tmp_path / "a.png")
    assert str(info.value) == "reading PNG needs Pillow: pip install 'fftconv[image]'"
    with pytest.raises(ImportError, match=r"^writing TIFF needs Pillow: pip install"):
        write(tmp_path / "b.tif", np.zeros((2, 2), np.uint8))
    np.testing.assert_array_equal(read(tmp_path / "a.npy").data, [1, 1])  # no Pillow needed
