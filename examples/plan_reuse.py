"""Filter the frames of a video with one plan, and time it against one-shot calls.

The "video" pans across the sample photograph (NASA, public domain): every frame has the
same shape, so one plan serves them all. Making the plan chooses the method and, for FFT
methods, makes the FFTW plans and the kernel's spectrum; each call then only filters the
frame. The script times, per frame:

- ``plan(frame, out=buffer)`` — the plan, writing into a reused buffer;
- ``fftconv.convolve(frame, kernel, ...)`` — one-shot calls. Each validates its arguments,
  hashes the kernel and looks up a recently made plan for it (only the first call makes
  one): tens to hundreds of microseconds that matter for small frames, and vanish
  against the filtering itself for large ones (try ``--size 512``);
- ``scipy.signal.fftconvolve`` on the padded frame — a one-shot FFT convolution that
  transforms the kernel again on every call;

and checks that the results agree (exit status 1 if they do not). Timings are the best
of three passes; on a busy machine they vary from run to run.

    python examples/plan_reuse.py [--frames N] [--size N]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy import signal

import fftconv
from fftconv import kernels
from fftconv.data import sample_image

TOLERANCE = 1e-4  # float32 pixels in [0, 1]
OPTIONS = dict(mode="same", boundary="symmetric")


def video(frames: int, size: int) -> list[np.ndarray]:
    """``frames`` float32 frames of ``size`` x ``size`` panning across the photograph."""
    image = sample_image(gray=True).astype(np.float32) / 255
    room = image.shape[0] - size
    steps = np.linspace(0, room, frames).astype(int)
    return [np.ascontiguousarray(image[s:s + size, s // 2:s // 2 + size]) for s in steps]


def seconds_per_frame(filter_frame, frames: list[np.ndarray], rounds: int = 3) -> float:
    """Best of ``rounds`` passes over the frames (after a warm-up call), per frame."""
    filter_frame(frames[0])
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for frame in frames:
            filter_frame(frame)
        best = min(best, (time.perf_counter() - start) / len(frames))
    return best


def scipy_same(frame: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'same' convolution with symmetric extension, by scipy: pad, then a valid FFT."""
    pad = [((k - 1) // 2, k // 2) for k in kernel.shape]  # the anchor rule of convolve
    return signal.fftconvolve(np.pad(frame, pad, mode="symmetric"), kernel, mode="valid")


def demo(label: str, kernel: np.ndarray, frames: list[np.ndarray]) -> bool:
    kernel = kernel.astype(np.float32)  # float32 frames and kernel: computed in float32
    shape = frames[0].shape
    times = []
    for _ in range(2):  # the first plan of a kind also compiles the direct-sum kernels
        start = time.perf_counter()
        plan = fftconv.plan_convolve(shape, kernel, x_dtype="float32", **OPTIONS)
        plan(frames[0])
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    plan = fftconv.plan_convolve(shape, kernel, x_dtype="float32", **OPTIONS)
    t_build = time.perf_counter() - start
    start = time.perf_counter()
    fftconv.convolve(frames[1], kernel, **OPTIONS)  # no plan cached yet for this kernel
    t_first = time.perf_counter() - start

    out = np.empty(plan.out_shape, plan.dtype)
    t_plan = seconds_per_frame(lambda f: plan(f, out=out), frames)
    t_call = seconds_per_frame(lambda f: fftconv.convolve(f, kernel, **OPTIONS), frames)
    t_scipy = seconds_per_frame(lambda f: scipy_same(f, kernel), frames)
    diff = max(float(np.abs(plan(f) - scipy_same(f, kernel)).max()) for f in frames[::7])

    n = len(frames)
    ms = 1e3
    print(f"\n== {label}: {kernel.shape[0]}x{kernel.shape[1]} kernel, {n} frames of "
          f"{shape[0]}x{shape[1]}, method {plan.method!r} ==")
    print(f"make the plan                    {t_build * ms:8.2f} ms  (the first time in this "
          f"process, with compilation and one call: {times[0] * ms:.0f} ms)")
    print(f"per frame: plan(frame, out=...)  {t_plan * ms:8.2f} ms")
    print(f"per frame: fftconv.convolve      {t_call * ms:8.2f} ms  ({t_call / t_plan:.2f}x; "
          f"its first call, which makes a plan: {t_first * ms:.2f} ms)")
    print(f"per frame: scipy fftconvolve     {t_scipy * ms:8.2f} ms  ({t_scipy / t_plan:.2f}x)")
    print(f"all {n} frames: one plan {(t_build + n * t_plan) * ms:.0f} ms, one-shot fftconv "
          f"{(t_first + (n - 1) * t_call) * ms:.0f} ms, scipy {n * t_scipy * ms:.0f} ms")
    ok = diff <= TOLERANCE
    print(f"max |plan - scipy| = {diff:.1e} ({'OK' if ok else 'MISMATCH'}, "
          f"tolerance {TOLERANCE:.0e})")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=96, help="frames (default: %(default)s)")
    parser.add_argument("--size", type=int, default=128,
                        help="frame edge in pixels, at most 512 (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (2 <= args.frames and 64 <= args.size <= 512):
        parser.error("expected --frames >= 2 and 64 <= --size <= 512")
    frames = video(args.frames, args.size)
    print(f"fftconv plan reuse: {fftconv.get_workers()} worker thread(s), float32 frames")
    ok = all([demo("Gaussian blur, sigma=2", kernels.gaussian(2.0), frames),
              demo("Lens blur, radius 8", kernels.disk(8.0), frames)])
    if not ok:
        print("FAILED: the plan and scipy disagree", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
