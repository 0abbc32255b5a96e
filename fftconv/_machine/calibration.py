"""``fftconv calibrate``: measure this machine's cost-model constants.

Each constant is the minimum time of a few runs (the least disturbed by other load) of
the real code path it models: the compiled direct sum per dtype, FFTW transform pairs
per dtype and prime factor, a memory pass, the fixed costs of a call and of a block, and
how much a second thread adds to each strategy, and :mod:`fftconv.nn`'s BLAS, im2col,
direct-kernel and spectral-sum rates (:mod:`.calibration_nn`). The result replaces the shipped
defaults for every later plan in every process (same versions and CPU).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import costs as _costs
from .cache import write_json
from .workers import _cpu_count

__all__ = ["calibrate"]

_DTYPES_DIRECT = ("float32", "float64", "complex64", "complex128", "int64", "uint64")
_DTYPES_FFT = ("float32", "float64", "complex64", "complex128")
_DTYPES_BLOCKED = ("float32", "float64", "int64", "uint64")


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed calls of ``fn``, after one warm-up call."""
    fn()
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _direct(dtype: str, side: int, repeat: int, workers: int = 1) -> float:
    """Seconds per multiply-add of the row-axpy direct sum (a valid 15x15 sum: larger
    than the register-blocked sum serves, so the strategy times the kernel it costs)."""
    from .._engine import Options
    from .._validate import make_problem
    from ..strategies import Estimate, registry

    taps = 15
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, side + taps - 1, side + taps - 1)) * 8).astype(dtype)
    k = (rng.standard_normal((1, taps, taps)) * 8 + 1).astype(dtype)
    out = np.empty((1, side, side), dtype)
    problem, prepared = make_problem(x.shape[1:], x.dtype, (taps, taps), k.dtype,
                                     Options(mode="valid", conjugate=False, dtype=None),
                                     flip=False, kernel=k[0])
    assert prepared is not None
    direct = registry()["direct"]  # the row-axpy sum, whatever else the estimate offers
    run = direct.build(problem, prepared, Estimate(0.0, 0, variant="axpy"), workers)
    return best_time(lambda: run(x, out), repeat) / (side * side * taps * taps)


def _blocked(dtype: str, side: int, repeat: int, sparse: bool) -> float:
    """Seconds per multiply-add of the register-blocked sum: 5 x 5 dense, or a 1 x 64 line."""
    from ..strategies.direct import blocked_sum as prepare

    rng = np.random.default_rng(0)
    kshape = (1, 1, 64) if sparse else (1, 5, 5)
    x = (rng.standard_normal((1, side + kshape[1] - 1, side + 63)) * 8).astype(dtype)
    k = (rng.standard_normal(kshape) * 8 + 1).astype(dtype)
    out = np.empty((1, side, x.shape[2] - kshape[2] + 1), dtype)
    run = prepare(x.shape, k, out.shape, 1, ((0, 0), (0, 0)), sparse=sparse)
    return best_time(lambda: run(x, out), repeat) / (out.size * k.size)


def _pair_time(shape: tuple[int, ...], dtype: str, repeat: int, threads: int = 1,
               batch: int = 1) -> float:
    """Seconds of one forward (or inverse) transform of a batch of ``shape`` arrays."""
    from .fft import TransformPair

    pair = TransformPair(batch, shape, np.dtype(dtype), threads)
    pair.inbuf[...] = 1
    return best_time(lambda: (pair.forward(), pair.inverse()), repeat) / 2


def _fft_rates(dtype: str, sides: tuple[int, ...], repeat: int) -> dict[str, float]:
    """Seconds per ``n log2 n`` of square transforms, by number of points."""
    rates = {}
    for side in sides:
        n = side * side
        rates[str(n)] = _pair_time((side, side), dtype, repeat) / (n * math.log2(n))
    return rates


def _prime_weights(repeat: int, quick: bool) -> dict[str, float]:
    """Relative cost per ``log2 p`` of a radix-``p`` pass, and of an odd real last axis.

    From square real transforms near 512x512 whose sides carry one factor ``p``:
    ``time = c * n * (log2(n) + 2 (w_p - 1) log2 p)``, with ``c`` from the power of two.
    Weights below 1 are measurement noise and are raised to 1. ``odd_real`` is how much
    slower a real transform with an odd last axis (625 = 5^4) runs than that model says.
    """
    from .._numerics.fftsize import size_cost

    def per_point(side: int) -> float:
        return _pair_time((side, side), "float64", repeat) / (side * side)

    bases = (512,) if quick else (256, 512, 1024)
    rate = {b: per_point(b) / math.log2(b * b) for b in bases}  # c, per size class
    weights = {"2": 1.0}
    for p in (3, 5, 7):
        ws = []
        for b in bases:
            side = p << max(1, round(math.log2(b / p)))
            ws.append(1 + (per_point(side) / rate[b] - math.log2(side * side))
                      / (2 * math.log2(p)))
        weights[str(p)] = float(min(max(float(np.median(ws)), 1.0), 4.0))
    odd = 5 ** 4
    model = 2 * size_cost(odd, weights) / odd
    weights["odd_real"] = float(min(max(per_point(odd) / rate[512] / model, 1.0), 8.0))
    return weights


def _memory(repeat: int) -> float:
    a = np.ones(8 << 20, np.float64)
    b = np.empty_like(a)
    return best_time(lambda: np.copyto(b, a), repeat) / (2 * a.nbytes)


def _overheads(repeat: int) -> dict[str, float]:
    """Fixed costs: a whole tiny call per strategy kind, and the Python work per block."""
    import fftconv

    from .._engine import Options
    from .._validate import make_problem
    from ..strategies import Estimate
    from ..strategies.overlap import OverlapSave

    x, k = np.ones(16), np.ones(3)
    call = best_time(lambda: fftconv.convolve(x, k, method="direct"), 20 * repeat)
    fft_call = best_time(lambda: fftconv.convolve(x, k, method="fft"), 20 * repeat)
    # 1024 blocks of 48 outputs through 64-point transforms, in batches of 64.
    n, kk, block_fft, batch = 1024 * 48, 17, 64, 64
    problem, _ = make_problem((1, n), np.dtype(np.float64), (1, kk), np.dtype(np.float64),
                              Options(mode="valid", axes=(1,), conjugate=False), flip=False)
    est = Estimate(seconds=0.0, memory=0, fft_shape=(block_fft,), block_shape=(block_fft - kk + 1,),
                   batch=batch)
    run = OverlapSave().build(problem, np.ones((1, kk)), est, 1)
    xb = np.ones((1, n))
    out = np.empty((1, n - kk + 1))
    nblocks = -(-(n - kk + 1) // (block_fft - kk + 1))
    total = best_time(lambda: run(xb, out), repeat)
    pairs = _pair_time((block_fft,), "float64", repeat, batch=batch) * 2 * nblocks / batch
    block = max(total - pairs, 0.0) / nblocks
    from ..benchmark import median_time
    from .threads import parallel_map

    # the median, not the minimum: this cost is itself a wake-up latency
    dispatch = median_time(lambda: parallel_map(lambda i: None, range(4), 2), 50 * repeat,
                           math.inf) if _cpu_count() > 1 else 0.0
    a, b = np.ones(16), np.empty(16)
    numpy_call = best_time(lambda: np.multiply(a, 2.0, out=b), 50 * repeat)
    return {"call": call, "direct": call, "fft": max(fft_call, call), "block": block,
            "parallel": dispatch, "numpy_call": numpy_call}


#: A new process loading numba and running its first cached sum (fftconv imported first).
_LOAD = """
import sys, time
import numpy as np
import fftconv.strategies.direct as direct
x, out = np.ones((1, 64, 64), np.float32), np.empty((1, 62, 62), np.float32)
k = np.ones((1, 3, 3), np.float32)
t0 = time.perf_counter()
run = direct.blocked_sum(x.shape, k, out.shape, 1, ((0, 0), (0, 0)))
run(x, out)
t1 = time.perf_counter()
run(x, out)
print(t1 - t0 - (time.perf_counter() - t1))
"""


def _jit_load(runs: int) -> float:
    """Seconds a new process spends loading compiled code: importing numba and its first
    cached sum (the median of ``runs`` fresh processes, the cache warmed by the first)."""
    import subprocess
    import sys

    times = []
    for _ in range(runs + 1):
        done = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True,
                              check=True, timeout=120)
        times.append(float(done.stdout.split()[-1]))
    return float(np.median(times[1:]))



def _busy_neighbour() -> Any:
    """Start a single-threaded busy loop in another process (the caller stops it)."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", "while True: pass"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _fftw_threads_min_size(repeat: int, quick: bool, cores: int) -> int:
    """Smallest 1-d transform that FFTW's own threads speed up by 15 %, idle *and* beside
    a busy process (their barrier stalls when the OS deschedules one of them); never,
    if none does. Only single long signals use them: everything else is split into
    pieces by fftconv itself."""
    sizes = (1 << 18, 1 << 20, 1 << 22) if quick else (1 << 16, 1 << 18, 1 << 20, 1 << 22)
    gains: dict[int, float] = {}
    for busy in (False, True):
        neighbour = _busy_neighbour() if busy else None
        try:
            for n in sizes:
                t1 = _pair_time((n,), "float64", repeat, 1)
                tn = _pair_time((n,), "float64", repeat, cores)
                gains[n] = min(gains.get(n, math.inf), t1 / tn)
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()
    safe = [n for n in sizes if gains[n] > 1.15 and all(gains[m] > 1.15 for m in sizes if m > n)]
    return min(safe) if safe else 1 << 62


def _parallel(repeat: int, quick: bool) -> tuple[dict[str, float], int]:
    """Efficiency of the extra threads per strategy, and the smallest 1-d transform for
    FFTW's own threads."""

    cores = _cpu_count()
    if cores < 2:
        return {"direct": 0.0, "fft": 0.0, "overlap": 0.0}, 1 << 62
    from . import threads

    # What the extra threads give when the CPUs are free for them (jobs run on fewer
    # threads while they are not, whatever these constants say).
    previous = threads.set_probe(lambda: 0)
    try:
        return _parallel_measured(repeat, quick, cores)
    finally:
        threads.set_probe(previous)


def _parallel_measured(repeat: int, quick: bool, cores: int) -> tuple[dict[str, float], int]:
    import fftconv

    side = 512 if quick else 1024
    one = _direct("float32", side, repeat, 1)
    many = _direct("float32", side, repeat, cores)
    eff = {"direct": (one / many - 1) / (cores - 1)}
    x = np.ones((side * 2, side * 2), np.float32)
    k = np.ones((31, 31), np.float32)
    for method in ("overlap", "fft"):
        p1 = fftconv.plan_convolve(x.shape, k, "same", x_dtype="float32", method=method,
                                   workers=1)
        pn = fftconv.plan_convolve(x.shape, k, "same", x_dtype="float32", method=method,
                                   workers=cores)
        one_t = best_time(functools.partial(p1, x), repeat)
        eff[method] = (one_t / best_time(functools.partial(pn, x), repeat) - 1) / (cores - 1)
    threshold = _fftw_threads_min_size(repeat, quick, cores)
    return {k: float(min(max(v, 0.0), 1.0)) for k, v in eff.items()}, threshold


def _entry(key: str, sub: str, measure: Callable[..., Any], *args: Any) -> tuple[str, str, Any]:
    return key, sub, measure(*args)


def _steps(quick: bool) -> Iterator[tuple[str, Callable[[], Any]]]:
    repeat = 3 if quick else 7
    side = 256 if quick else 512
    sides = (64, 256, 1024) if quick else (32, 64, 128, 256, 512, 1024, 2048)
    for d in _DTYPES_DIRECT:
        yield f"direct sum, {d}", functools.partial(_entry, "direct_per_mac", d, _direct, d,
                                                   side, repeat)
    for d in _DTYPES_BLOCKED:
        yield (f"blocked direct sum, {d}",
               functools.partial(_entry, "direct_blocked_per_mac", d, _blocked, d, side, repeat,
                                 False))
        if d.startswith("float"):
            yield (f"sparse blocked sum, {d}",
                   functools.partial(_entry, "direct_sparse_per_mac", d, _blocked, d, side,
                                     repeat, True))
    for d in _DTYPES_FFT:
        yield f"FFT, {d}", functools.partial(_entry, "fft_per_nlogn_by_size", d, _fft_rates, d,
                                            sides, repeat)
    yield "FFT prime factors", lambda: ("prime_weight", None, _prime_weights(repeat, quick))
    yield "memory bandwidth", lambda: ("memory_per_byte", None, _memory(repeat))
    yield "call overheads", lambda: ("overhead", None, _overheads(repeat))
    yield "loading compiled code", lambda: ("overhead", "jit_load", _jit_load(1 if quick else 3))
    yield "threads", lambda: ("threads", None, _parallel(repeat, quick))
    yield "fftconv.nn kernels", lambda: ("nn", None, _nn(repeat))


def _nn(repeat: int) -> dict[str, Any]:
    from .calibration_nn import nn_constants

    return nn_constants(repeat, _costs.default_costs()["nn"])


def calibrate(*, quick: bool = False, progress: bool = True) -> tuple[dict[str, Any], str]:
    """Measure this machine, store the constants, and return ``(constants, path)``.

    When the cache directory cannot be written, a warning names the file, the constants
    are used by this process only, and ``path`` is ``''``.

    Parameters
    ----------
    quick : bool
        Fewer sizes and repeats (under a minute on a 2-core machine).
    progress : bool
        Show a progress bar on stderr.
    """
    from tqdm import tqdm

    steps = list(_steps(quick))
    costs: dict[str, Any] = {"direct_per_mac": {}, "fft_per_nlogn_by_size": {},
                             "direct_blocked_per_mac": {}, "direct_sparse_per_mac": {}}
    bar = tqdm(steps, desc="calibrating", unit="step", disable=not progress, leave=False)
    for label, step in bar:
        bar.set_postfix_str(label)
        key, sub, value = step()
        if key == "threads":
            costs["parallel_efficiency"], costs["fft_threads_min_size"] = value
        elif sub is None:
            costs[key] = value
        else:
            costs[key][sub] = value
    # the single rate: the median over sizes (used where no size is known)
    costs["fft_per_nlogn"] = {d: float(np.median(list(r.values())))
                              for d, r in costs["fft_per_nlogn_by_size"].items()}
    costs["about"] = f"measured by `fftconv calibrate{' --quick' if quick else ''}`"
    path = write_json(_costs.CALIBRATION_FILE, costs)
    from . import fft as _fft

    _fft.save_wisdom()
    _costs.reload()
    if path is None:  # not saved (a warning said why): in force for this process only
        _costs.install(costs, "this process's calibration (not saved)")
        return costs, ""
    return costs, str(path)
