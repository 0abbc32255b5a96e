"""Measure, on this machine and your sizes, where direct and FFT methods cross over.

The same measurement as ``fftconv bench crossover``, from Python::

    from fftconv.benchmark import crossover, plot, write_csv

    result = crossover([(1024, 1024)], [3, 7, 15, 31, 63], dtype="float32")
    print(result.table())
    print(result.crossovers())        # {(1024, 1024): 13.7}: FFT wins from K ~ 14
    plot(result, "crossover.png")     # needs matplotlib

:func:`crossover` times every fftconv strategy forced, ``auto``, and the reference
libraries on square kernels of growing size for each image shape, and reports:

- ``fastest``: the fastest forced strategy or reference library (never ``auto``, which
  runs one of the strategies);
- ``auto picks``: the planner's choice, and its ``regret``: the forced time of that
  choice over the fastest forced strategy's, so ``1.00`` means the planner chose the
  fastest and the number is never below 1;
- ``auto/pick``: ``auto``'s own time over its pick's forced time, the cost of dispatch;
  below 1 it can only be timing noise and is printed as such;
- per shape, the kernel size where the best FFT strategy starts beating the direct sum.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CrossoverResult", "crossover", "median_time", "plot", "write_csv"]

FFT_LIKE = ("fft", "overlap")


@dataclass
class CrossoverResult:
    """Timings (seconds, median) per (shape, kernel size) and the derived crossovers."""

    dtype: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def methods(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            for name in row["times"]:
                seen.setdefault(name, None)
        return list(seen)

    def crossovers(self) -> dict[tuple[int, ...], float | None]:
        """Per shape, the kernel size where the best FFT strategy first beats direct.

        Interpolated geometrically between the two measured sizes that bracket it;
        ``None`` if it never does in the measured range (``0`` if it always does).
        """
        out: dict[tuple[int, ...], float | None] = {}
        for shape in dict.fromkeys(r["shape"] for r in self.rows):
            pts = []
            for r in self.rows:
                t = r["times"]
                if r["shape"] == shape and "direct" in t and any(m in t for m in FFT_LIKE):
                    fft = min(t[m] for m in FFT_LIKE if m in t)
                    pts.append((r["k"], math.log(t["direct"] / fft)))
            out[shape] = _first_crossing(pts)
        return out

    def table(self) -> str:
        methods = self.methods()
        head = ["shape", "K", *methods, "fastest", "auto picks", "regret", "auto/pick"]
        lines = ["  ".join(head)]
        for r in self.rows:
            t = r["times"]
            cells = ["x".join(map(str, r["shape"])), str(r["k"])]
            cells += [f"{t[m] * 1e3:.2f}" if m in t else "-" for m in methods]
            cells += [r["fastest"], r["auto_pick"], _ratio(r["regret"]),
                      _ratio(r.get("auto_overhead"))]
            lines.append("  ".join(cells))
        widths = [max(len(line.split("  ")[i]) for line in lines) for i in range(len(head))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(line.split("  "), widths)) for line in lines]
        cross = ", ".join(f"{'x'.join(map(str, s))}: " + ("none in range" if k is None else f"K≈{k:.0f}")
                          for s, k in self.crossovers().items())
        return (f"times in ms (median), dtype {self.dtype}, mode 'same'\n" + "\n".join(lines)
                + f"\ncrossover (best FFT strategy beats direct): {cross}")


def _ratio(value: float | None) -> str:
    """A time ratio that cannot truly be below 1: below it, the timings' noise shows."""
    if value is None:
        return "-"
    return f"{value:.2f}" if value >= 1 else f"{value:.2f} (noise)"


def _first_crossing(pts: list[tuple[int, float]]) -> float | None:
    pts.sort()
    if not pts:
        return None
    if pts[0][1] > 0:
        return float(pts[0][0])
    for (k0, g0), (k1, g1) in zip(pts, pts[1:]):
        if g0 <= 0 < g1:  # log(direct / fft) changes sign: interpolate in log K
            f = -g0 / (g1 - g0)
            return math.exp(math.log(k0) + f * (math.log(k1) - math.log(k0)))
    return None


def median_time(fn: Callable[[], object], repeat: int = 5, budget: float = 2.0, *,
                min_repeat: int = 1) -> float:
    """Median seconds of ``fn()`` over up to ``repeat`` runs after a warm-up call; after
    ``min_repeat`` runs it stops once ``budget`` seconds are spent."""
    fn()
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= min_repeat and sum(times) > budget:
            break
    return statistics.median(times)


def _contenders(x: np.ndarray, k: np.ndarray, references: bool) -> dict[str, Callable[[], object]]:
    import fftconv

    from .strategies import names

    out: dict[str, Callable[[], object]] = {}
    methods: tuple[Any, ...] = (*names(), "auto")
    for m in methods:
        try:
            fftconv.explain(x.shape, k.shape, "same", x_dtype=x.dtype, method=m,
                            operation="correlate")
        except ValueError:
            continue  # e.g. separable without a low-rank kernel
        if m == "separable":
            continue  # random kernels are full rank
        out[m] = functools.partial(fftconv.correlate, x, k, "same", method=m)
    if references:
        import scipy.ndimage as ndi
        import scipy.signal as sig

        out["scipy.signal"] = lambda: sig.correlate(x, k, "same")
        out["scipy.ndimage"] = lambda: ndi.correlate(x, k, mode="constant")
        try:
            import cv2
        except ImportError:
            pass
        else:
            if x.ndim == 2 and x.dtype in (np.float32, np.float64):
                out["cv2.filter2D"] = lambda: cv2.filter2D(x, -1, k, borderType=cv2.BORDER_CONSTANT)
    return out


def crossover(shapes: Sequence[tuple[int, ...]], kernels: Sequence[int], *,
              dtype: str = "float32", repeat: int = 5, references: bool = True,
              max_macs: float = 4e9, budget: float = 2.0, progress: bool = False) -> CrossoverResult:
    """Time every method on each shape for square (cubic, ...) kernels of each size.

    Parameters
    ----------
    shapes : sequence of tuple of int
        Input shapes (random data of ``dtype``).
    kernels : sequence of int
        Kernel sizes ``K``; each kernel is ``K`` along every axis, random, full rank.
    dtype : {'float32', 'float64'}, optional
        Data type of inputs and kernels.
    repeat : int, optional
        Timed runs per measurement, after a warm-up; the median is kept.
    references : bool, optional
        Also time scipy.signal.correlate, scipy.ndimage.correlate and cv2.filter2D
        (when OpenCV is installed).
    max_macs : float, optional
        Direct-sum methods (fftconv ``direct``, ``scipy.ndimage``) are skipped above this
        many multiply-adds.
    budget : float, optional
        A measurement stops repeating after this many seconds.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    CrossoverResult
        ``rows`` (times per method, fastest, auto's pick and regret), ``table()`` and
        ``crossovers()``.

    Notes
    -----
    Compiled code is loaded first, so the table is of a process in its steady state. In a
    fresh process, small direct sums run on numpy until compiled code is worth loading
    (docs/planner.md, "Short-lived processes"), and the timings would measure that
    stand-in and the switch away from it instead.
    """
    from tqdm import tqdm

    import fftconv

    from ._machine.jit import import_numba

    import_numba()

    result = CrossoverResult(dtype=str(np.dtype(dtype)))
    rng = np.random.default_rng(0)
    jobs = [(s, k) for s in shapes for k in kernels if all(k <= n for n in s)]
    for shape, ksize in tqdm(jobs, desc="crossover", disable=not progress, leave=False):
        x = rng.standard_normal(shape).astype(dtype)
        k = rng.standard_normal((ksize,) * len(shape)).astype(dtype)
        macs = math.prod(shape) * ksize ** len(shape)
        times = {}
        for name, fn in _contenders(x, k, references).items():
            if name in ("direct", "scipy.ndimage") and macs > max_macs:
                continue
            times[name] = median_time(fn, repeat, budget)
        result.rows.append(_row(tuple(shape), ksize, times, fftconv.explain(
            shape, k.shape, "same", x_dtype=dtype, operation="correlate").method))
    return result


def _row(shape: tuple[int, ...], ksize: int, times: dict[str, float], pick: str) -> dict:
    """One table row: the fastest forced contender, auto's pick, regret and overhead."""
    from .strategies import names

    forced = {m: t for m, t in times.items() if m in names()}
    contenders = {m: t for m, t in times.items() if m != "auto"}
    fastest = min(contenders, key=contenders.__getitem__) if contenders else "-"
    regret = forced[pick] / min(forced.values()) if pick in forced else None
    overhead = times["auto"] / forced[pick] if pick in forced and "auto" in times else None
    return {"shape": shape, "k": ksize, "times": times, "fastest": fastest,
            "auto_pick": pick, "regret": regret, "auto_overhead": overhead}


def write_csv(result: CrossoverResult, path: str) -> None:
    """One row per (shape, K): every method's median seconds, the pick and the regret."""
    import csv

    methods = result.methods()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["shape", "k", "dtype", *methods, "fastest", "auto_pick", "regret",
                    "auto_over_pick"])
        for r in result.rows:
            w.writerow(["x".join(map(str, r["shape"])), r["k"], result.dtype,
                        *[f"{r['times'][m]:.6g}" if m in r["times"] else "" for m in methods],
                        r["fastest"], r["auto_pick"],
                        *["" if r.get(c) is None else f"{r[c]:.4f}"
                          for c in ("regret", "auto_overhead")]])


def plot(result: CrossoverResult, path: str) -> None:
    """Log-log time against kernel size, one line per method, the crossover marked.

    The x ticks are the kernel sizes measured; the crossover's label sits above the
    axes, clear of the data.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install 'fftconv[plot]'``).
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError("fftconv.benchmark.plot needs matplotlib: "
                          "pip install 'fftconv[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    shapes = list(dict.fromkeys(r["shape"] for r in result.rows))
    cols = min(len(shapes), 3)
    nrows = -(-len(shapes) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 4 * nrows), squeeze=False)
    crossings = result.crossovers()
    for ax, shape in zip(axes.flat, shapes):
        rows = [r for r in result.rows if r["shape"] == shape]
        for m in result.methods():
            pts = [(r["k"], r["times"][m] * 1e3) for r in rows if m in r["times"]]
            if pts:
                ks, ts = zip(*pts)
                ax.plot(ks, ts, marker="o", lw=2.5 if m == "auto" else 1.2,
                        ls="-" if m in ("auto", "direct", "fft", "overlap") else "--", label=m)
        kx = crossings.get(shape)
        if kx:
            ax.axvline(kx, color="grey", ls=":", lw=1)
            # Above the plotting area (axes coordinates y > 1): it never covers a line.
            ax.text(kx, 1.01, f"crossover K≈{kx:.0f}", transform=ax.get_xaxis_transform(),
                    fontsize=8, ha="center", va="bottom", color="grey", clip_on=False,
                    gid="crossover-label")
        ax.set_xscale("log")
        measured = sorted({r["k"] for r in rows})
        ax.xaxis.set_major_locator(FixedLocator(measured))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([str(k) for k in measured])
        ax.set_yscale("log")
        ax.set_title("x".join(map(str, shape)) + f" ({result.dtype})", pad=16)
        ax.set_xlabel("kernel size K (K x K)")
        ax.set_ylabel("time (ms, median)")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(shapes):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
