"""Small kernels at the memory limit: fftconv against cv2.filter2D and scipy.ndimage.

For every image size, odd kernel size K, dtype and boundary OpenCV supports, times
(median over at least ``--repeat`` interleaved, shuffled rounds, a short call warmed for
5 ms before it is timed; see ``_timing.py``) one-shot calls of ``fftconv.correlate``
(``method='auto'``, ``mode='same'``), ``cv2.filter2D`` and ``scipy.ndimage.correlate``,
all computing the same correlation with the same boundary rule, once on an idle machine
and once while one competing CPU-bound process (started and stopped by this script)
runs. In the same run it measures

- the machine's copy bandwidth, with a large ``np.copyto`` (read + write bytes / time);
- the roofline fraction at 4096² float32 3x3: the read-once/write-once time
  ``2 * N² * 4 / bandwidth`` over fftconv's time (target >= 60 %);
- the 12 MP (3000 x 4000) float32 motion blur, a 1 x 120 line, against cv2.filter2D;
- the same 4096² float32 3x3 filter into a reused output (plan ``out=``, cv2 ``dst=``),
  since a one-shot call's fresh output must first be faulted in and zeroed by the OS;
- the per-call overhead of a repeated one-shot call (8 x 8 and 64 x 64 images, 3 x 3
  kernel), layer by layer: engine, plan, the plan's self-timing, the executor.

Prints Markdown tables (milliseconds), the per-dtype geometric mean and worst ratio of
fftconv to cv2.filter2D (targets <= 1.0 and <= 1.25), and writes a roofline plot
(GB/s against K at the largest size, float32, zero boundary, with the bandwidth line).

    python benchmarks/bench_small.py [--quick] [--sizes 256 4096] [--kernels 3 9]
        [--dtypes float32] [--boundaries constant reflect] [--repeat 7] [--no-busy]
        [--markdown out.md] [--plot docs/img/small-kernels-roofline.png]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

import numpy as np

import fftconv
from fftconv.benchmark import median_time
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_neighbours.py
from _neighbours import neighbour
from _timing import interleaved as _interleaved

#: fftconv boundary -> (cv2 border, scipy.ndimage mode), for the rules all three share.
BOUNDARIES = {"constant": ("BORDER_CONSTANT", "constant"),
              "edge": ("BORDER_REPLICATE", "nearest"),
              "symmetric": ("BORDER_REFLECT", "reflect"),
              "reflect": ("BORDER_REFLECT_101", "mirror"),
              "wrap": ("BORDER_WRAP", "grid-wrap")}
DEFAULT_PLOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "small-kernels-roofline.png"


def copy_bandwidth(nbytes: int = 256 << 20, repeat: int = 7) -> float:
    """Bytes per second of a large ``np.copyto`` (each byte read once and written once)."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    t = median_time(lambda: np.copyto(dst, src), repeat)
    return 2 * nbytes / t


def contenders(x: np.ndarray, k: np.ndarray, boundary: str) -> dict:
    """name -> zero-argument callable; every one computes the same 'same' correlation."""
    import cv2
    import scipy.ndimage as ndi

    border, mode = BOUNDARIES[boundary]
    flag = getattr(cv2, border)
    out = {"fftconv": lambda: fftconv.correlate(x, k, "same", boundary=boundary)}
    try:
        cv2.filter2D(x[:16, :16], -1, k, borderType=flag)
        out["cv2"] = lambda: cv2.filter2D(x, -1, k, borderType=flag)
    except cv2.error:  # filter2D does not implement this border (BORDER_WRAP)
        pass
    out["ndimage"] = lambda: ndi.correlate(x, k, mode=mode)
    return out


def check_agree(x: np.ndarray, k: np.ndarray, boundary: str) -> None:
    """The contenders compute the same thing (on a small crop, so cheaply)."""
    xs = np.ascontiguousarray(x[:40, :50])
    results = {name: fn() for name, fn in contenders(xs, k, boundary).items()}
    ref = results["fftconv"].astype(np.float64)
    tol = 1e-3 if x.dtype == np.float32 else 1e-9
    for name, r in results.items():
        err = np.abs(r - ref).max() / max(np.abs(ref).max(), 1e-30)
        if err > tol:
            raise AssertionError(f"{name} disagrees with fftconv for {boundary}: {err:.3g}")


def interleaved(fns: dict, repeat: int, budget: float = 2.0) -> dict:
    """Median seconds of each callable over at least ``repeat`` interleaved, shuffled
    rounds, each short call warmed for 5 ms first (``_timing.interleaved``, as the other
    benchmarks time their contenders): a burst of load from other jobs falls on all of
    them, and no contender inherits the caches another left (at 256^2 a call is tens of
    microseconds, and one made right after scipy.ndimage's half millisecond found its
    code and data cold)."""
    runs = _interleaved(fns, repeat, budget=budget * len(fns), most=max(repeat, 15))
    return {name: statistics.median(t) for name, t in runs.items()}


def run_grid(args: argparse.Namespace, busy: bool) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    with neighbour("busy" if busy else "idle"):
        for n in args.sizes:
            for dtype in args.dtypes:
                x = rng.standard_normal((n, n)).astype(dtype)
                for kk in args.kernels:
                    k = rng.standard_normal((kk, kk)).astype(dtype)
                    for boundary in args.boundaries:
                        if n == args.sizes[0]:
                            check_agree(x, k, boundary)
                        times = interleaved(contenders(x, k, boundary), args.repeat)
                        rows.append({"n": n, "dtype": dtype, "K": kk, "boundary": boundary,
                                     "busy": busy, **times})
    return rows


def table(rows: list[dict]) -> str:
    names = ("fftconv", "cv2", "ndimage")
    lines = ["| load | size | dtype | K | boundary | fftconv ms | cv2 ms | ndimage ms | fftconv/cv2 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r[m] * 1e3:.3f}" if m in r else "-" for m in names]
        ratio = f"{r['fftconv'] / r['cv2']:.2f}" if "cv2" in r else "-"
        lines.append(f"| {'busy' if r['busy'] else 'idle'} | {r['n']}² | {r['dtype']} | {r['K']} "
                     f"| {r['boundary']} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    lines = ["| load | dtype | cells | geo-mean fftconv/cv2 | worst | worst cell |",
             "|---|---|---|---|---|---|"]
    for busy in sorted({r["busy"] for r in rows}):
        for dtype in dict.fromkeys(r["dtype"] for r in rows):
            sel = [r for r in rows if r["busy"] == busy and r["dtype"] == dtype and "cv2" in r]
            if not sel:
                continue
            ratios = [r["fftconv"] / r["cv2"] for r in sel]
            geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
            w = max(range(len(sel)), key=ratios.__getitem__)
            cell = f"{sel[w]['n']}², K={sel[w]['K']}, {sel[w]['boundary']}"
            lines.append(f"| {'busy' if busy else 'idle'} | {dtype} | {len(sel)} | {geo:.2f} "
                         f"| {ratios[w]:.2f} | {cell} |")
    return "\n".join(lines)


def roofline(rows: list[dict], bandwidth: float, n: int) -> tuple[str, dict]:
    """GB/s (input read + output written) per K at size ``n``, float32, zero boundary."""
    sel = [r for r in rows if not r["busy"] and r["n"] == n and r["dtype"] == "float32"
           and r["boundary"] == "constant"]
    traffic = 2 * n * n * 4
    curves: dict[str, list[tuple[int, float]]] = {}
    for r in sel:
        for m in ("fftconv", "cv2", "ndimage"):
            if m in r:
                curves.setdefault(m, []).append((r["K"], traffic / r[m] / 1e9))
    lines = [f"copy bandwidth (np.copyto, read + write): {bandwidth / 1e9:.1f} GB/s"]
    three = [r for r in sel if r["K"] == 3]
    if three:
        floor = traffic / bandwidth
        lines.append(f"{n}² float32 3x3: fftconv {three[0]['fftconv'] * 1e3:.2f} ms, "
                     f"read-once/write-once floor {floor * 1e3:.2f} ms -> "
                     f"{floor / three[0]['fftconv']:.0%} of the roofline (target >= 60 %)")
        into = into_out(n, 3)
        lines.append(f"{n}² float32 3x3 into a preallocated out= (no fresh pages to fault "
                     f"in and zero): fftconv {into['fftconv'] * 1e3:.2f} ms -> "
                     f"{floor / into['fftconv']:.0%}; cv2 (dst=) {into['cv2'] * 1e3:.2f} ms "
                     f"-> {floor / into['cv2']:.0%}; np.empty + fill of the output alone "
                     f"{into['alloc'] * 1e3:.2f} ms")
    return "\n".join(lines), curves


def into_out(n: int, kk: int, repeat: int = 9) -> dict:
    """Seconds of the ``n``² float32 ``kk`` x ``kk`` filter writing into a reused output
    (a plan with ``out=``; cv2 with ``dst=``), and of allocating and filling a fresh output:
    a one-shot call's output is new memory, which the OS must fault in and zero first."""
    import cv2

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n)).astype(np.float32)
    k = rng.standard_normal((kk, kk)).astype(np.float32)
    out = np.empty_like(x)
    plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype)
    return interleaved({"fftconv": lambda: plan(x, out=out),
                        "cv2": lambda: cv2.filter2D(x, -1, k, dst=out,
                                                    borderType=cv2.BORDER_CONSTANT),
                        "alloc": lambda: np.empty_like(x).fill(0)}, repeat)


def plot(curves: dict, bandwidth: float, n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, pts in curves.items():
        ks, gbs = zip(*sorted(pts))
        ax.plot(ks, gbs, "o-", label=name)
    ax.axhline(bandwidth / 1e9, color="k", ls="--", label="np.copyto bandwidth")
    ax.set_xlabel("kernel size K (K x K)")
    ax.set_ylabel("GB/s (input read + output written)")
    ax.set_title(f"{n}² float32, mode='same', zero boundary")
    ax.legend()
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def motion_blur(repeat: int) -> str:
    import cv2

    x = np.random.default_rng(1).random((3000, 4000), dtype=np.float32)
    k = np.full((1, 120), 1 / 120, np.float32)
    tf = median_time(lambda: fftconv.correlate(x, k, "same", boundary="reflect"), repeat)
    tc = median_time(lambda: cv2.filter2D(x, -1, k, borderType=cv2.BORDER_REFLECT_101), repeat)
    method = fftconv.plan_correlate(x.shape, k, "same", boundary="reflect", x_dtype=x.dtype).method
    return (f"12 MP float32 motion blur (1 x 120): fftconv {tf * 1e3:.2f} ms ({method}), "
            f"cv2.filter2D {tc * 1e3:.2f} ms -> {tf / tc:.2f}x (target <= 1.0)")


def overhead(n: int = 8) -> str:
    """Per-call time of a repeated call on an ``n`` x ``n`` float64 image with a 3 x 3
    kernel, and where it goes: each layer timed on its own, the one below subtracted."""
    from fftconv._machine import learning

    x = np.random.default_rng(2).random((n, n))
    k = np.random.default_rng(3).random((3, 3))
    out = np.empty_like(x)
    plan = fftconv.plan_correlate(x.shape, k, "same", x_dtype=x.dtype)
    xb, ob = x.reshape(1, n, n), np.empty((1, n, n))
    execute = plan._execute
    plan(x, out=out)

    def t(fn: object) -> float:
        return min(median_time(fn, 2001, budget=0.5) for _ in range(3))  # type: ignore[arg-type]

    layers = {"one-shot call": t(lambda: fftconv.correlate(x, k, "same")),
              "plan(x)": t(lambda: plan(x)),
              "plan(x, out=)": t(lambda: plan(x, out=out)),
              "plan._call (no timing)": t(lambda: plan._call(x, None)),
              "learning.timed": t(lambda: learning.timed(plan, learning.clock()())),
              "executor": t(lambda: execute(xb, ob))}
    one, call = layers["one-shot call"], layers["plan(x)"]
    cells = ", ".join(f"{name} {s * 1e6:.1f} us" for name, s in layers.items())
    return (f"repeat-call overhead ({n}x{n}, 3x3, float64): {cells}; so engine (memo "
            f"look-up) {(one - call) * 1e6:.1f} us, plan checks and output "
            f"{(layers['plan._call (no timing)'] - layers['executor']) * 1e6:.1f} us "
            f"(target: one-shot <= 10 us)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small grid, to see that it runs")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    ap.add_argument("--kernels", type=int, nargs="+", default=[3, 5, 7, 9])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--boundaries", nargs="+", default=list(BOUNDARIES), choices=list(BOUNDARIES))
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-busy", action="store_true", help="skip the run with a competing process")
    ap.add_argument("--markdown", help="also write the tables to this file")
    ap.add_argument("--plot", default=str(DEFAULT_PLOT), help="roofline PNG ('' to skip)")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = [256, 1024] if args.sizes == ap.get_default("sizes") else args.sizes
        args.kernels = [3, 9] if args.kernels == ap.get_default("kernels") else args.kernels
        if args.boundaries == ap.get_default("boundaries"):
            args.boundaries = ["constant", "reflect"]
        args.repeat = min(args.repeat, 3)
    bandwidth = copy_bandwidth()
    rows = run_grid(args, busy=False)
    if not args.no_busy:
        rows += run_grid(args, busy=True)
    big = max(args.sizes)
    roof, curves = roofline(rows, bandwidth, big)
    parts = [f"fftconv {fftconv.__version__}, workers={fftconv.get_workers()}",
             table(rows), summary(rows), roof, motion_blur(args.repeat), overhead(8),
             overhead(64)]
    text = "\n\n".join(parts)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.plot and curves:
        plot(curves, bandwidth, big, Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
