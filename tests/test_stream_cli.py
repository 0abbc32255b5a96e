"""``fftconv filter IN.wav OUT.wav --kernel IR.wav``: results, channel mapping, errors."""

import contextlib
import io

import numpy as np
import pytest
from scipy import signal
from scipy.io import wavfile

from fftconv._cli import main
from fftconv.stream import StreamConvolver

RNG = np.random.default_rng(1414)
SCALE = {np.int16: 32768.0, np.int32: 2147483648.0}


def cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["filter", *map(str, argv)])
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def pcm(dtype, frames, channels, level=0.2):
    x = RNG.standard_normal((frames, channels)) * level
    if np.dtype(dtype).kind == "f":
        return x.astype(dtype)
    return np.rint(x * SCALE[dtype]).astype(dtype)


def as_float(a):
    a = np.asarray(a)
    return a.astype(np.float64) if a.dtype.kind == "f" else a / SCALE[a.dtype.type]


def expected(x, ir, full):
    """The float result: scipy's convolution of the float samples, mono IR broadcast."""
    xf, hf = as_float(x), as_float(ir)
    if xf.ndim == 1:
        xf = xf[:, None]
    if hf.ndim == 1:
        hf = hf[:, None]
    y = signal.oaconvolve(xf, hf, axes=0)
    return y if full else y[:len(xf)]


def quantise(y, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.rint(y * SCALE[dtype]), info.min, info.max)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32])
def test_mono_ir_on_every_channel(tmp_path, dtype):
    x = pcm(dtype, 20000, 2)
    ir = (RNG.standard_normal(3000) * np.exp(-np.arange(3000) / 300) * 0.1).astype(np.float32)
    wavfile.write(tmp_path / "in.wav", 44100, x)
    wavfile.write(tmp_path / "ir.wav", 44100, ir)
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav", "--mode", "full", "--block", "1000")
    assert status == 0, err
    rate, y = wavfile.read(tmp_path / "out.wav")
    assert rate == 44100 and y.dtype == dtype and y.shape == (20000 + 2999, 2)
    want = expected(x, ir, full=True)
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(y, want, rtol=0, atol=1e-5)
    else:
        np.testing.assert_allclose(y.astype(np.float64), quantise(want, dtype), rtol=0, atol=1)


def test_per_channel_ir_when_counts_match(tmp_path):
    x = pcm(np.int16, 9000, 3)
    ir = pcm(np.int16, 700, 3, level=0.02)
    wavfile.write(tmp_path / "in.wav", 8000, x)
    wavfile.write(tmp_path / "ir.wav", 8000, ir)
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav", "--block", "256", "--dtype", "float32")
    assert status == 0, err
    _, y = wavfile.read(tmp_path / "out.wav")
    assert y.dtype == np.float32 and y.shape == (9000, 3)  # --mode same: the input's length
    np.testing.assert_allclose(y, expected(x, ir, full=False), rtol=0, atol=1e-5)
    # each channel on its own: a mono file through channel 1's IR alone
    wavfile.write(tmp_path / "in1.wav", 8000, x[:, 1])
    wavfile.write(tmp_path / "ir1.wav", 8000, ir[:, 1])
    assert cli(tmp_path / "in1.wav", tmp_path / "out1.wav", "--kernel", tmp_path / "ir1.wav",
               "--dtype", "float32")[0] == 0
    np.testing.assert_allclose(wavfile.read(tmp_path / "out1.wav")[1], y[:, 1], atol=1e-6)


def test_mismatched_channel_counts_name_both(tmp_path):
    wavfile.write(tmp_path / "in.wav", 8000, pcm(np.int16, 100, 2))
    wavfile.write(tmp_path / "ir.wav", 8000, pcm(np.int16, 10, 3))
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav")
    assert status == 2
    assert "has 3 channels and" in err and "has 2; expected a mono impulse response" in err
    assert not (tmp_path / "out.wav").exists()


def test_clipping_warning_counts_samples(tmp_path):
    x = np.zeros((1000, 1), np.int16)
    x[100:400] = 20000  # doubled: 40000 > 32767
    x[500:550] = -20000
    x[600:700] = 10000  # doubled: fits
    wavfile.write(tmp_path / "in.wav", 8000, x)
    wavfile.write(tmp_path / "ir.wav", 8000, np.array([2.0], np.float32))
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav", "--block", "64")
    assert status == 0
    assert "warning: 350 of 1000 samples clipped to the int16 range -32768..32767" in err
    y = wavfile.read(tmp_path / "out.wav")[1]
    assert y[150] == 32767 and y[520] == -32768 and y[650] == 20000


def test_streams_block_by_block_from_a_memory_map(tmp_path, monkeypatch):
    x = pcm(np.int16, 30000, 2)
    wavfile.write(tmp_path / "in.wav", 8000, x)
    wavfile.write(tmp_path / "ir.wav", 8000, pcm(np.int16, 500, 1, 0.05))
    seen = []
    real = StreamConvolver.process

    def spy(self, block, out=None):
        seen.append(np.asarray(block).shape)
        return real(self, block, out)

    reads = []
    real_read = wavfile.read

    def spy_read(path, mmap=False):
        rate, data = real_read(path, mmap=mmap)
        reads.append((str(path), isinstance(data, np.memmap)))
        return rate, data

    monkeypatch.setattr(StreamConvolver, "process", spy)
    monkeypatch.setattr(wavfile, "read", spy_read)
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav", "--block", "512")
    assert status == 0, err
    assert (str(tmp_path / "in.wav"), True) in reads  # the input is memory-mapped
    assert len(seen) >= 30000 // 512 and max(s[0] for s in seen) == 512
    assert all(s[1] == 2 for s in seen)


@pytest.mark.parametrize("argv, message", [
    (["--boundary", "wrap"], "--boundary applies to images and arrays, not to WAV input"),
    (["--mode", "valid"], "--mode='valid' is invalid for WAV input"),
    (["--dtype", "uint16"], "--dtype='uint16' is invalid for WAV output"),
])
def test_image_options_are_errors_for_wav(tmp_path, argv, message):
    wavfile.write(tmp_path / "in.wav", 8000, pcm(np.int16, 100, 1))
    wavfile.write(tmp_path / "ir.wav", 8000, pcm(np.int16, 10, 1))
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav", *argv)
    assert status == 2 and message in err


def test_rate_mismatch_and_non_wav_kernel(tmp_path):
    wavfile.write(tmp_path / "in.wav", 8000, pcm(np.int16, 100, 1))
    wavfile.write(tmp_path / "ir.wav", 16000, pcm(np.int16, 10, 1))
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav")
    assert status == 2 and "is sampled at 16000 Hz but" in err and "at 8000 Hz" in err
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel", "box:3")
    assert status == 2 and "--kernel 'box:3' is invalid for a WAV input" in err


def test_normalize_gives_unit_energy(tmp_path):
    x = pcm(np.float32, 2000, 1)
    ir = np.array([3.0, 4.0], np.float32)
    wavfile.write(tmp_path / "in.wav", 8000, x)
    wavfile.write(tmp_path / "ir.wav", 8000, ir)
    assert cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel", tmp_path / "ir.wav",
               "--normalize")[0] == 0
    y = wavfile.read(tmp_path / "out.wav")[1]
    np.testing.assert_allclose(y, expected(x, ir / 5.0, full=False)[:, 0], atol=1e-6)


def test_progress_bar_on_a_terminal_for_long_jobs(tmp_path, monkeypatch):
    from fftconv._cli import filter as filter_cmd

    wavfile.write(tmp_path / "in.wav", 8000, pcm(np.int16, 5000, 1))
    wavfile.write(tmp_path / "ir.wav", 8000, pcm(np.int16, 100, 1, 0.05))
    monkeypatch.setattr(filter_cmd, "PROGRESS_SECONDS", 0.0)
    err = io.StringIO()
    err.isatty = lambda: True
    with contextlib.redirect_stderr(err):
        assert main(["filter", str(tmp_path / "in.wav"), str(tmp_path / "out.wav"),
                     "--kernel", str(tmp_path / "ir.wav"), "--block", "100"]) == 0
    assert "block/s" in err.getvalue() or "s/block" in err.getvalue()


def test_uint8_wav_round_trip_through_a_unit_impulse(tmp_path):
    x = RNG.integers(0, 256, (3000, 2)).astype(np.uint8)
    wavfile.write(tmp_path / "in.wav", 8000, x)
    wavfile.write(tmp_path / "ir.wav", 8000, np.array([1.0, 0.0, 0.0], np.float32))
    status, _, err = cli(tmp_path / "in.wav", tmp_path / "out.wav", "--kernel",
                         tmp_path / "ir.wav", "--block", "700")
    assert status == 0 and "clipped" not in err
    y = wavfile.read(tmp_path / "out.wav")[1]
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(y, x)
