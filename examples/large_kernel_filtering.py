"""Filter a photograph with large kernels: fftconv against scipy.ndimage.

Blurs the sample photograph (NASA, public domain) with a large Gaussian and a 63x63
motion blur, using ``fftconv.convolve(..., mode="same", boundary="symmetric")`` on all
colour channels at once (the channel axis is a batch axis: ``axes=(0, 1)``). It prints
the planner's report, times fftconv against ``scipy.ndimage.convolve`` with
``mode="reflect"`` (ndimage's name for numpy's ``"symmetric"``), checks that both give the
same result, and writes before/after PNGs. Exits with status 1 if the results differ.

    python examples/large_kernel_filtering.py [--quick] [--out DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

import fftconv
from fftconv import kernels
from fftconv.data import sample_image

TOLERANCE = 1e-9  # pixel values are in [0, 1]
NDIMAGE_BUDGET = 2.0  # seconds: slower ndimage runs are timed once


def median_seconds(run, repeats: int) -> tuple[float, str]:
    """Median wall time of ``run()`` and how it was taken (stops early if slow)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        if sum(times) > NDIMAGE_BUDGET:
            break
    return statistics.median(times), "1 run" if len(times) == 1 else f"median of {len(times)}"


def to_png(path: Path, image: np.ndarray) -> None:
    try:
        from PIL import Image
    except ImportError:
        sys.exit("Pillow is needed to write PNG files: pip install 'fftconv[image]'")
    Image.fromarray(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)).save(path)


def demo_filter(label: str, x: np.ndarray, kernel: np.ndarray, repeats: int):
    """Filter ``x`` with fftconv and ndimage; print the comparison; return (result, ok)."""
    options = dict(mode="same", axes=(0, 1), boundary="symmetric")
    print(f"\n== {label}: {kernel.shape[0]}x{kernel.shape[1]} kernel, "
          f"{np.count_nonzero(kernel)} non-zero taps ==")
    plan = fftconv.plan_convolve(x.shape, kernel, **options)
    print(plan.report())

    y = fftconv.convolve(x, kernel, **options)  # warm-up: FFTW plans, compiled kernels
    t_fft, how_fft = median_seconds(lambda: fftconv.convolve(x, kernel, **options), repeats)
    channel = x[..., 0]
    reference = ndimage.convolve(channel, kernel, mode="reflect")
    t_nd, how_nd = median_seconds(lambda: ndimage.convolve(channel, kernel, mode="reflect"),
                                repeats)
    t_nd = max(t_nd, 1e-9)

    diff = float(np.abs(y[..., 0] - reference).max())
    ok = bool(diff <= TOLERANCE)
    per_channel = t_fft / x.shape[2]
    print(f"fftconv.convolve  {x.shape[2]} channels  {t_fft:8.3f} s  "
          f"({how_fft} after a warm-up; method {plan.method!r})")
    print(f"ndimage.convolve  1 channel   {t_nd:8.3f} s  "
          f"({how_nd}; single-threaded; one channel only, to keep the demo short)")
    print(f"per channel: fftconv {per_channel:.3f} s vs ndimage {t_nd:.3f} s "
          f"-> {t_nd / per_channel:.1f}x")
    print(f"max |fftconv - ndimage| on channel 0: {diff:.2e}  "
          f"({'OK' if ok else 'MISMATCH'}, tolerance {TOLERANCE:.0e})")
    return y, ok


def crossover_plot(shape: tuple[int, int], out: Path) -> str:
    """Where direct and FFT methods cross over on this image size: table and plot."""
    from fftconv.benchmark import crossover, plot

    print(f"\n== Crossover on {shape[0]}x{shape[1]} float64: direct vs FFT by kernel size ==")
    result = crossover([shape], [3, 5, 9, 15, 25, 41, 63], dtype="float64", repeat=3,
                       budget=1.0)
    print(result.table())
    plot(result, str(out / "crossover.png"))
    return "crossover.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="use a 128x128 crop and fewer repeats (for tests)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"),
                        help="directory for the PNG files (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per method (default: 5, or 2 with --quick)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)

    image = sample_image()
    if args.quick:
        image = image[40:168, 160:288]  # the face
    x = image.astype(np.float64) / 255
    print("fftconv large-kernel filtering demo")
    print(f"image: astronaut photograph (NASA, public domain), {x.shape[0]}x{x.shape[1]} RGB "
          f"as float64; {fftconv.get_workers()} worker thread(s)")

    jobs = {
        "gaussian": ("Gaussian blur, sigma=9", kernels.gaussian(9.0)),
        "motion": ("Motion blur, 88 px at 45 degrees", kernels.motion(88, 45)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    to_png(args.out / "original.png", x)
    written = ["original.png"]
    all_ok = True
    for name, (label, kernel) in jobs.items():
        y, ok = demo_filter(label, x, kernel, repeats)
        all_ok &= ok
        to_png(args.out / f"{name}.png", y)
        written.append(f"{name}.png")

    if not args.quick:
        written.append(crossover_plot(x.shape[:2], args.out))

    print(f"\nwrote {', '.join(written)} to {args.out}/")
    if not all_ok:
        print("FAILED: fftconv and scipy.ndimage disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
