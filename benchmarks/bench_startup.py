"""Start-up and short-lived work: cold processes, first compilation, a new kernel.

Every figure is the median over ``--runs`` fresh processes (wall time measured from
outside, interpreter start-up included), except the last, taken in one warm process:

- ``first call``: ``import fftconv`` and a first small float32 ``convolve`` (64x64, 3x3),
  compiled code cached (target <= 0.6 s); the planner sums it in numpy, since loading
  compiled code would cost more (docs/planner.md, "Short-lived processes");
- ``cli filter``: ``fftconv filter`` of a 640x480 PNG with a 5x5 Gaussian (target <= 0.9 s);
- ``first compiled call``: the first call with compiled code forced (numba imported
  first), compiled code cached: what a first call that needs compiled code costs;
- ``first call (empty compiled-code cache)``: the first call with ``NUMBA_CACHE_DIR`` a new
  directory, i.e. the first-ever use of float32 (target <= 2 s);
- ``first compiled call (empty cache)``: the first compiled call so, i.e. the first-ever
  compiled use of float32, what a first call that needs compiled code costs;
- ``first direct 13x13 call`` and ``first separable 15x15 call`` (empty cache): the
  first-ever use of the other two compiled sums a call can need (the row-axpy sum, for
  kernels over 9 taps a side, which the separable passes use too);
- ``read-only cache``: that call with ``NUMBA_CACHE_DIR`` unwritable: must work and print
  nothing on stderr;
- ``new kernel``: in a warm process, a one-shot 512x512 float64 call with a *new* 7x7
  kernel each time, minus the compiled sum itself (timed inside the same call):
  fftconv's Python overhead per new kernel (target <= 150 us).

It also runs each cold figure beside one busy process (``--busy``), which the script
starts and stops itself.

    python benchmarks/bench_startup.py [--quick] [--runs 5] [--busy] [--out results.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import publish  # noqa: E402 - benchmarks/ is on the path only now
from _neighbours import neighbour  # noqa: E402 - benchmarks/ is on the path only now

ROOT = HERE.parent
FIRST_CALL = ("import numpy as np, fftconv\n"
              "fftconv.convolve(np.ones((64, 64), np.float32), np.ones((3, 3), np.float32), "
              "'same')\n")
#: The same with compiled code forced (numba loaded first, so the planner prices the
#: compiled sum without its loading): what the first compiled call of a dtype costs.
COMPILED_CALL = FIRST_CALL.replace(
    "fftconv\n", "fftconv\nfrom fftconv._machine import jit; jit.import_numba()\n", 1)

#: The first direct sum of a kernel too large for the blocked sum (13x13: the row-axpy sum)
#: and the first separable call (a 15x15 Gaussian), compiled code forced.
AXPY_CALL = COMPILED_CALL.replace("np.ones((64, 64), np.float32), np.ones((3, 3), np.float32)",
                                  "np.ones((256, 256), np.float32), np.ones((13, 13), np.float32)"
                                  ).replace("'same')", "'same', method='direct')")
SEPARABLE_CALL = COMPILED_CALL.replace(
    "np.ones((3, 3), np.float32)",
    "np.outer(np.hanning(17)[1:-1], np.hanning(17)[1:-1]).astype(np.float32)").replace(
    "'same')", "'same', method='separable')")


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return env


def cold(args: list[str], runs: int, env: dict[str, str]) -> tuple[float, str]:
    """Median wall seconds of ``runs`` fresh processes, and the last one's stderr."""
    times, err = [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"{args} failed: {proc.stderr}")
        err = proc.stderr
    return statistics.median(times), err


def _png(path: Path) -> None:
    import numpy as np

    from fftconv._cli._imageio import write

    rng = np.random.default_rng(0)
    write(str(path), (rng.random((480, 640, 3)) * 255).astype(np.uint8))


def new_kernel_overhead(repeat: int) -> tuple[float, float]:
    """(median seconds of a one-shot call with a new 7x7 kernel, of the sum in it).

    The sum is timed inside each call (around the plan's compute step), so the overhead
    is what the call spends outside the compiled sum, taken call by call on the same
    machine state: validation, kernel facts, planning, building the executor, the output
    array, the result. (Timing the sum apart, even call by call, found it faster than
    inside the call, with its data warm, and swung the difference by 3x.)
    """
    import numpy as np

    import fftconv
    from fftconv import _plan

    from fftconv._machine import jit

    jit.import_numba()  # a warm process: compiled code loaded (not the numpy stand-in)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 512))
    kernels = iter([rng.standard_normal((7, 7)) for _ in range(2 * repeat + 8)])
    fftconv.convolve(x, next(kernels), "same")  # the decision for this kind of problem
    inside = [0.0]
    compute = _plan.Plan._compute

    def timed_compute(self, xb, outb):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return compute(self, xb, outb)
        finally:
            inside[0] += time.perf_counter() - t0

    calls, sums = [], []
    _plan.Plan._compute = timed_compute  # type: ignore[method-assign]
    try:
        for _ in range(2 * repeat):
            inside[0] = 0.0
            t0 = time.perf_counter()
            fftconv.convolve(x, next(kernels), "same")
            calls.append(time.perf_counter() - t0)
            sums.append(inside[0])
    finally:
        _plan.Plan._compute = compute  # type: ignore[method-assign]
    call = statistics.median(calls)
    return call, call - statistics.median([c - s for c, s in zip(calls, sums)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 processes per figure")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--busy", action="store_true", help="also beside one busy process")
    ap.add_argument("--out", help="also write the Markdown to this file")
    args = ap.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "in.png"
        _png(png)
        ro = Path(tmp) / "not-a-dir"
        ro.write_text("")
        cases = [
            ("first call (compiled code cached)", [py, "-c", FIRST_CALL], {}, "0.6 s"),
            ("cli filter 640x480 PNG", [py, "-m", "fftconv", "filter", str(png),
                                        str(Path(tmp) / "out.png"), "--kernel",
                                        "gaussian:sigma=1"], {}, "0.9 s"),
            ("first call (empty compiled-code cache)", [py, "-c", FIRST_CALL], None, "2 s"),
            ("first compiled call (compiled code cached)", [py, "-c", COMPILED_CALL], {},
             "none"),
            ("first compiled call (empty cache)", [py, "-c", COMPILED_CALL], None, "2 s"),
            ("first direct 13x13 call (row-axpy, empty cache)", [py, "-c", AXPY_CALL], None,
             "2 s"),
            ("first separable 15x15 call (empty cache)", [py, "-c", SEPARABLE_CALL], None,
             "2 s"),
            ("read-only compiled-code cache", [py, "-c", COMPILED_CALL],
             {"NUMBA_CACHE_DIR": str(ro / "cache")}, "quiet"),
        ]
        subprocess.run([py, "-c", COMPILED_CALL], env=_env(), cwd=ROOT, check=True)  # cache
        for condition in (("idle", "busy") if args.busy else ("idle",)):
            with neighbour(condition):
                for label, cmd, extra, target in cases:
                    if extra is None:  # a new empty cache for every run
                        times = []
                        for i in range(runs):
                            d = Path(tmp) / f"numba-{condition}-{i}"
                            t, err = cold(cmd, 1, _env(NUMBA_CACHE_DIR=str(d)))
                            times.append(t)
                        t = statistics.median(times)
                    else:
                        t, err = cold(cmd, runs, _env(**extra))
                    quiet = "yes" if not err.strip() else f"no: {err.strip().splitlines()[-1]}"
                    rows.append((condition, label, t, target, quiet))
                    print(f"  {condition} {label}: {t:.3f} s", file=sys.stderr)
    call, bare = new_kernel_overhead(10 if args.quick else 30)
    lines = ["| condition | figure | median wall | target | stderr empty |",
             "|---|---|---|---|---|"]
    goals = {"quiet": "works quietly", "none": "-"}
    lines += [f"| {c} | {label} | {t:.3f} s | {goals.get(target, '<= ' + target)} | {q} |"
              for c, label, t, target, q in rows]
    lines += ["", "| warm process | median |", "|---|---|",
              f"| one-shot convolve, new 7x7 kernel, 512x512 float64 | {call * 1e6:.0f} us |",
              f"| the compiled sum in it | {bare * 1e6:.0f} us |",
              f"| overhead per new kernel (target <= 150 us) | {(call - bare) * 1e6:.0f} us |"]
    text = "\n".join(lines)
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
