"""The --kernel specification: every form, and one clear error for every mistake."""

import numpy as np
import pytest
from scipy import ndimage

from fftconv._cli._kernelspec import parse_kernel


def impulse_response(filter_, shape, **options):
    """What a scipy.ndimage filter does to a centred unit impulse: its kernel."""
    delta = np.zeros(shape)
    delta[tuple(s // 2 for s in shape)] = 1
    return filter_(delta, mode="constant", **options)


def test_gaussian_is_scipy_gaussian_filter_kernel():
    k = parse_kernel("gaussian:sigma=2")
    assert k.shape == (17, 17)
    np.testing.assert_allclose(k, impulse_response(ndimage.gaussian_filter, (17, 17), sigma=2),
                               rtol=0, atol=1e-15)


def test_log_is_scipy_gaussian_laplace_kernel():
    k = parse_kernel("log:sigma=1.5,truncate=3")
    assert k.shape == (11, 11)  # radius int(3 * 1.5 + 0.5) = 5
    expected = impulse_response(ndimage.gaussian_laplace, (11, 11), sigma=1.5, truncate=3)
    np.testing.assert_allclose(k, expected, rtol=0, atol=1e-14)


def test_box_disk_and_per_axis_values():
    np.testing.assert_array_equal(parse_kernel("box:31"), np.full((31, 31), 1 / 961))
    np.testing.assert_array_equal(parse_kernel("box:2x3"), np.full((2, 3), 1 / 6))
    assert parse_kernel("gaussian:sigma=3x1").shape == (25, 9)
    d = parse_kernel("disk:15")
    assert d.shape == (31, 31) and abs(d.sum() - 1) < 1e-12 and d[15, 15] == d.max()


def test_motion_positional_and_keyword_forms_agree():
    k = parse_kernel("motion:length=4,angle=0")
    np.testing.assert_allclose(k, [[1 / 8, 1 / 4, 1 / 4, 1 / 4, 1 / 8]], rtol=0, atol=1e-15)
    for spec in ["motion:4,0", "motion:angle=0,length=4", "motion:4,angle=0",
                 " MOTION: length = 4 , angle = 0 "]:
        np.testing.assert_array_equal(parse_kernel(spec), k)


def test_kernel_files(tmp_path):
    from PIL import Image

    k = np.arange(12.0).reshape(3, 4) - 5
    np.save(tmp_path / "k.npy", k)
    (tmp_path / "k.txt").write_text("# a comment\n1 2 1\n2, 4, 2\n1 2 1\n")
    (tmp_path / "k.csv").write_text("1,2,3\n")
    Image.fromarray(np.array([[0, 255, 0], [255, 255, 255]], np.uint8)).save(tmp_path / "k.png")

    np.testing.assert_array_equal(parse_kernel(str(tmp_path / "k.npy")), k)
    np.testing.assert_array_equal(parse_kernel(str(tmp_path / "k.txt")),
                                  [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    assert parse_kernel(str(tmp_path / "k.csv")).shape == (1, 3)  # one text row is 2-d
    np.testing.assert_array_equal(parse_kernel(str(tmp_path / "k.png"), normalize=True),
                                  [[0, 0.25, 0], [0.25, 0.25, 0.25]])


def test_normalize(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.txt").write_text("1 2 1\n")
    np.testing.assert_array_equal(parse_kernel("k.txt", normalize=True), [[0.25, 0.5, 0.25]])
    (tmp_path / "zero.txt").write_text("1 -1\n")
    with pytest.raises(ValueError, match=r"^kernel 'zero\.txt': it sums to 0, so --normalize"):
        parse_kernel("zero.txt", normalize=True)


ALL_FORMS = "gaussian:sigma=S[,truncate=T]; box:N; disk:R; motion:length=L,angle=DEG; log:"


@pytest.mark.parametrize("spec, message", [
    ("gauss:sigma=3", "unknown kernel 'gauss' (accepted: " + ALL_FORMS),
    ("nothing", "not a kernel name or a file (accepted: " + ALL_FORMS),
    ("box:abc", "size='abc' is not a number (accepted: box:N)"),
    ("box:3x", "size='3x' is not a number"),
    ("box:2.5", "size=2.5 is invalid; expected an int >= 1 (accepted: box:N)"),
    ("box:0", "size=0 is invalid"),
    ("box", "missing size (accepted: box:N)"),
    ("box:", "missing size"),
    ("box:3,4", "unexpected value '4' (accepted: box:N)"),
    ("box:size=3,size=4", "size is given twice"),
    ("gaussian:sgma=1", "unknown parameter 'sgma' (accepted: gaussian:sigma=S[,truncate=T])"),
    ("gaussian:sigma=-1", "sigma=-1 is invalid; expected a finite number >= 0"),
    ("gaussian:sigma=nan", "sigma=nan is invalid"),
    ("gaussian:truncate=2", "missing sigma"),
    ("disk:0", "radius=0 is invalid; expected a finite number > 0"),
    ("motion:length=40", "missing angle (accepted: motion:length=L,angle=DEG)"),
    ("motion:angle=30,40", "unexpected value '40'"),
    ("motion:length=-2,angle=0", "length=-2 is invalid"),
    ("log:sigma=0", "sigma=0 is invalid; expected a finite number > 0"),
])
def test_spec_errors_name_the_spec_and_the_accepted_forms(spec, message):
    with pytest.raises(ValueError) as info:
        parse_kernel(spec)
    text = str(info.value)
    assert text.startswith(f"kernel {spec!r}: ") and message in text
    assert "\n" not in text


def file_cases(tmp):
    np.save(tmp / "complex.npy", np.ones((2, 2), complex))
    np.save(tmp / "empty.npy", np.ones((0, 3)))
    np.save(tmp / "nan.npy", np.array([[1.0, np.nan]]))
    (tmp / "bad.txt").write_text("1 2\n3 x\n")
    (tmp / "ragged.txt").write_text("1 2\n3\n")
    (tmp / "empty.txt").write_text("")
    (tmp / "kernel.dat").write_text("1 2 3\n")
    (tmp / "junk.png").write_bytes(b"not a png")
    from PIL import Image
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp / "rgb.png")
    return [
        ("missing.npy", FileNotFoundError, "no such file"),
        ("missing.txt", FileNotFoundError, "no such file"),
        ("complex.npy", ValueError, "dtype complex128; expected real numbers"),
        ("empty.npy", ValueError, "shape (0, 3); expected a non-empty array"),
        ("nan.npy", ValueError, "non-finite values"),
        ("bad.txt", ValueError, "cannot read the file (could not convert string 'x'"),
        ("ragged.txt", ValueError, "cannot read the file"),
        ("empty.txt", ValueError, "expected a non-empty array"),
        ("kernel.dat", ValueError, "unsupported file extension '.dat'"),
        ("junk.png", ValueError, "not a PNG image"),
        ("rgb.png", ValueError, "the image has 3 channels; expected a grayscale image"),
    ]


def test_file_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, exc_type, message in file_cases(tmp_path):
        with pytest.raises(exc_type) as info:
            parse_kernel(name)
        text = str(info.value)
        assert text.startswith(f"kernel {name!r}: ") and message in text, text


def test_docstring_examples():
    import doctest

    from fftconv._cli import _kernelspec

    result = doctest.testmod(_kernelspec, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
