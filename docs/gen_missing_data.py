"""Draw docs/img/missing_data.png: a star field with missing pixels under each policy.

    python docs/gen_missing_data.py

A synthetic 384x384 star field (point sources blurred by a small PSF, sky noise), with
saturated star cores and a dead column masked, smoothed by a 21x21 Gaussian (sigma 2.5).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import fftconv
from fftconv import kernels

OUT = Path(__file__).resolve().parent / "img" / "missing_data.png"


def star_field(n: int = 384, stars: int = 180, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    img = np.zeros((n, n))
    ys, xs = rng.integers(0, n, stars), rng.integers(0, n, stars)
    img[ys, xs] = rng.pareto(1.2, stars) * 400 + 50
    img = fftconv.convolve(img, kernels.gaussian(1.6), "same") + rng.normal(10, 2, (n, n))
    missing = img > 150  # saturated cores
    missing[:, 250:253] = True  # a dead column
    missing |= rng.random((n, n)) < 2e-4  # hot pixels
    return img, missing


def main() -> None:
    img, missing = star_field()
    x = np.where(missing, np.nan, img)
    psf = kernels.gaussian(2.5)
    panels = [
        ("input (missing in red)", x),
        ("propagate", fftconv.convolve(x, psf, "same", boundary="reflect")),
        ("omit (normalised)", fftconv.convolve(x, psf, "same", boundary="reflect",
                                               nan_policy="omit")),
        ("missing as 0 (biased)", fftconv.convolve(np.nan_to_num(x), psf, "same",
                                                   boundary="reflect")),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.4), constrained_layout=True)
    cmap = plt.get_cmap("gray").with_extremes(bad="red")
    for ax, (title, a) in zip(axes, panels):
        ax.imshow(np.arcsinh(a / 20.0), cmap=cmap, vmin=0.4, vmax=2.5, interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=72)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
