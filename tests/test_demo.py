"""The example script runs end to end and writes the filtered images as valid PNGs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from fftconv.kernels import gaussian, motion

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "large_kernel_filtering.py"


def read_png(path):
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.size == (128, 128)
        return np.asarray(im, dtype=np.float64)


def test_demo_quick(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeats", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("(OK, tolerance") == 2
    original = read_png(out / "original.png")
    # Each output is its kernel applied to the original, as scipy.ndimage computes it
    # (ndimage 'reflect' is numpy 'symmetric'), up to rounding to 8 bits.
    for name, kernel in [("gaussian", gaussian(9.0)), ("motion", motion(88, 45))]:
        expected = np.stack([ndimage.convolve(original[..., c], kernel, mode="reflect")
                             for c in range(3)], axis=-1)
        assert np.abs(read_png(out / f"{name}.png") - expected).max() <= 0.5 + 1e-6


def test_plan_reuse_example_runs():
    script = SCRIPT.parent / "plan_reuse.py"
    out = subprocess.run([sys.executable, str(script), "--frames", "3", "--size", "64"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "plan" in out.stdout


def test_crossover_example_runs(tmp_path):
    script = SCRIPT.parent / "crossover.py"
    png = tmp_path / "c.png"
    out = subprocess.run([sys.executable, str(script), "--shapes", "64x64", "--kernels", "3", "9",
                          "--repeat", "1", "--plot", str(png)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "64x64: an FFT strategy beats the direct sum" in out.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
