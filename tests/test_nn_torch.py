"""fftconv.nn against torch.nn.functional.conv1d/2d/3d, on every method.

Random configurations (seeded): 1-3 spatial dims, stride 1-3, dilation 1-2, groups
1/2/C, every padding form and padding_mode, bias, float32/float64/complex, unbatched.
The expected padding is computed here from the formulas (TensorFlow's SAME rule) and
applied by torch's own ``F.pad``; where torch can take the padding itself (symmetric
zeros, ``'same'`` at stride 1) it does. Both implementations of the direct method (the
compiled kernel and im2col + BLAS) are checked, also with wider layers that fill the
kernel's blocks of four output channels and chunks of taps, on threads.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import fftconv
from fftconv import nn
from fftconv._machine.costs import machine_costs
import fftconv.nn._direct as nn_direct
import fftconv.nn._fft as nn_fft
import fftconv.nn._plan as nn_plan
from fftconv.nn._plan import NNPlan, build_fft, fft_layout, get_plan
from fftconv.nn._problem import make_nn_problem

TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}
DTYPES = (np.float32, np.float64, np.complex64, np.complex128)
EPS = {np.float32: 2e-6, np.complex64: 2e-6, np.float64: 1e-13, np.complex128: 1e-13}


@dataclass
class Config:
    d: int
    batch: int | None
    c: int
    o: int
    groups: int
    n: tuple[int, ...]
    k: tuple[int, ...]
    stride: object
    dilation: object
    padding: object
    mode: str
    bias: bool
    dtype: type
    seed: int

    def __str__(self) -> str:
        return (f"d{self.d}-N{self.batch}-C{self.c}-O{self.o}-g{self.groups}-n{self.n}-k{self.k}"
                f"-s{self.stride}-dil{self.dilation}-p{self.padding}-{self.mode}"
                f"-{'b' if self.bias else 'nob'}-{self.dtype.__name__}")


def per_axis(v: object, d: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, tuple) else (v,) * d  # type: ignore[arg-type]


def tf_same(n: int, k: int, s: int, dil: int) -> tuple[int, int]:
    total = max((math.ceil(n / s) - 1) * s + (k - 1) * dil + 1 - n, 0)
    return total // 2, total - total // 2


def expected_pads(cfg: Config) -> list[tuple[int, int]]:
    d = cfg.d
    s, dil = per_axis(cfg.stride, d), per_axis(cfg.dilation, d)
    if cfg.padding == "valid":
        return [(0, 0)] * d
    if cfg.padding == "same":
        return [tf_same(*a) for a in zip(cfg.n, cfg.k, s, dil)]
    if isinstance(cfg.padding, int):
        return [(cfg.padding, cfg.padding)] * d
    if isinstance(cfg.padding[0], tuple):
        return list(cfg.padding)
    return [(p, p) for p in cfg.padding]


def random_config(seed: int) -> Config:
    rng = np.random.default_rng(seed)
    d = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    groups = int(rng.choice([1, 2, 3]))  # 3 stands for "groups = C" (depthwise)
    cg = int(rng.integers(1, 4))
    if groups == 3:
        c = int(rng.integers(1, 5))
        groups, cg = c, 1
    else:
        c = cg * groups
    o = groups * int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 5 if d < 3 else 4, size=d))
    stride = tuple(int(v) for v in rng.integers(1, 4, size=d))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=d))
    n = tuple(int(v) for v in rng.integers(6, 14 if d < 3 else 9, size=d))
    span = [(ki - 1) * di + 1 for ki, di in zip(k, dilation)]
    form = rng.choice(["int", "tuple", "pairs", "valid", "same"])
    if form == "int":
        padding: object = int(rng.integers(0, 4))
    elif form == "tuple":
        padding = tuple(int(v) for v in rng.integers(0, 4, size=d))
    elif form == "pairs":
        padding = tuple((int(a), int(b)) for a, b in rng.integers(0, 4, size=(d, 2)))
    else:
        padding = str(form)
    if rng.random() < 0.3:  # scalar stride / dilation
        stride, dilation = stride[0], dilation[0]
        span = [(ki - 1) * dilation + 1 for ki in k]
    n = tuple(max(ni, si) for ni, si in zip(n, span))
    return Config(d=d, batch=None if rng.random() < 0.15 else int(rng.integers(1, 4)), c=c,
                  o=o, groups=groups, n=n, k=k, stride=stride, dilation=dilation,
                  padding=padding, mode=str(rng.choice(list(TORCH_MODE))),
                  bias=bool(rng.random() < 0.6),
                  dtype=DTYPES[rng.choice(4, p=[0.35, 0.35, 0.15, 0.15])], seed=seed)


CONFIGS = [random_config(seed) for seed in range(90)]


def arrays(cfg: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(1000 + cfg.seed)

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        a = rng.standard_normal(shape)
        if np.dtype(cfg.dtype).kind == "c":
            a = a + 1j * rng.standard_normal(shape)
        return a.astype(cfg.dtype)

    x = draw(((cfg.batch,) if cfg.batch else ()) + (cfg.c, *cfg.n))
    w = draw((cfg.o, cfg.c // cfg.groups, *cfg.k))
    return x, w, draw((cfg.o,)) if cfg.bias else None


def torch_reference(cfg: Config, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    conv = getattr(F, f"conv{cfg.d}d")
    tx = torch.from_numpy(x if cfg.batch else x[None])
    tw, tb = torch.from_numpy(w), None if b is None else torch.from_numpy(b)
    kwargs = dict(stride=cfg.stride, dilation=cfg.dilation, groups=cfg.groups)
    pads = expected_pads(cfg)
    stride1 = all(s == 1 for s in per_axis(cfg.stride, cfg.d))
    if cfg.mode == "zeros" and cfg.padding == "same" and stride1:
        y = conv(tx, tw, tb, padding="same", **kwargs)  # torch's own rule
    elif cfg.mode == "zeros" and all(lo == hi for lo, hi in pads):
        y = conv(tx, tw, tb, padding=tuple(lo for lo, _ in pads), **kwargs)
    else:
        flat = tuple(v for lo_hi in reversed(pads) for v in lo_hi)
        y = conv(F.pad(tx, flat, mode=TORCH_MODE[cfg.mode]), tw, tb, padding=0, **kwargs)
    y = y.numpy()
    return y if cfg.batch else y[0]


def tolerance(cfg: Config, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> float:
    """EPS times a bound on any output's magnitude (K*C taps): misalignments exceed it."""
    bound = np.abs(x).max() * np.abs(w).reshape(cfg.o, -1).sum(axis=1).max()
    bound += 0 if b is None else np.abs(b).max()
    return EPS[cfg.dtype] * float(bound)


def check(cfg: Config, y: np.ndarray, ref: np.ndarray, tol: float) -> None:
    assert y.shape == ref.shape
    assert y.dtype == np.dtype(cfg.dtype)
    np.testing.assert_allclose(y, ref, rtol=0, atol=tol)


def call(cfg: Config, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
         method: str) -> np.ndarray:
    return getattr(nn, f"conv{cfg.d}d")(x, w, b, stride=cfg.stride, padding=cfg.padding,
                                         dilation=cfg.dilation, groups=cfg.groups,
                                         padding_mode=cfg.mode, method=method)


def run_plan(cfg: Config, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, method: str,
             workers: int, direct: str | None = None) -> np.ndarray:
    """A plan built here (not the cache) with a chosen direct implementation."""
    p, xc, wc, bc, _, _, _ = make_nn_problem(
        cfg.d, x, w, b, stride=cfg.stride, padding=cfg.padding, dilation=cfg.dilation,
        groups=cfg.groups, data_format="channels_first", padding_mode=cfg.mode, method=method)
    y = NNPlan(p, np.ascontiguousarray(wc), method, workers, direct=direct)(xc, bc)
    return y if cfg.batch else y[0]


def direct_impls(cfg: Config) -> tuple[str, ...]:
    return ("kernel", "im2col") if np.dtype(cfg.dtype).kind == "f" else ("im2col",)


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_matches_torch_every_method(cfg: Config) -> None:
    x, w, b = arrays(cfg)
    ref = torch_reference(cfg, x, w, b)
    tol = tolerance(cfg, x, w, b)
    for method in ("auto", "direct", "fft"):
        check(cfg, call(cfg, x, w, b, method), ref, tol)
    for impl in direct_impls(cfg):
        check(cfg, run_plan(cfg, x, w, b, "direct", 1, impl), ref, tol)


def wide_config(seed: int) -> Config:
    """Wider layers: 1-9 output channels per group (blocks of four and a remainder), up to
    12 input channels per group (often more taps than one chunk), real dtypes, batch 1-5;
    every fifth at stride 1 without padding (the input read in place)."""
    cfg = random_config(10_000 + seed)
    rng = np.random.default_rng(20_000 + seed)
    groups = int(rng.choice([1, 2, 3]))
    cg, og = int(rng.integers(1, 13)), int(rng.integers(1, 10))
    dtype = (np.float32, np.float64)[seed % 2]
    stride, padding = (1, "valid") if seed % 5 == 0 else (cfg.stride, cfg.padding)
    return Config(d=cfg.d, batch=None if seed % 7 == 0 else int(rng.integers(1, 6)),
                  c=cg * groups, o=og * groups, groups=groups, n=cfg.n, k=cfg.k,
                  stride=stride, dilation=cfg.dilation, padding=padding,
                  mode=cfg.mode, bias=cfg.bias, dtype=dtype, seed=10_000 + seed)


WIDE = [wide_config(seed) for seed in range(40)]


@pytest.mark.parametrize("split", ["items", "fine"])
@pytest.mark.parametrize("strip", [2048, 64], ids=["strip2048", "strip64"])
@pytest.mark.parametrize("cfg", WIDE, ids=str)
def test_direct_kernel_on_threads_matches_torch(cfg: Config, strip: int, split: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled kernel on two threads of the shared queue, in pieces of whole batch
    items or in pieces of (item, output channels, strips) -- the finest split, every
    channel block and strip a piece -- with long strips and with strips shorter than a row
    (rows cut into column chunks); im2col + BLAS alongside. Every split sums each output
    the same way: the results equal the single-thread ones exactly."""
    monkeypatch.setattr(nn_direct, "_STRIP_BYTES", strip)
    x, w, b = arrays(cfg)
    ref = torch_reference(cfg, x, w, b)
    tol = tolerance(cfg, x, w, b)
    one = run_plan(cfg, x, w, b, "direct", 1, "kernel")
    monkeypatch.setattr(nn_direct, "kernel_split", lambda p, workers: (
        nn_direct.KernelSplit(2, 1 << 20, False) if split == "fine"
        else nn_direct.KernelSplit(2, p.batch, True)))
    for impl in ("kernel", "im2col"):
        y = run_plan(cfg, x, w, b, "direct", 2, impl)
        check(cfg, y, ref, tol)
        if impl == "kernel":
            np.testing.assert_array_equal(y, one)


def test_direct_kernel_sums_long_float32_sums_accurately() -> None:
    """147 same-signed float32 products per output (3 channels x 7 x 7 ones over [0, 1)
    data): within a few ulps of torch's float64 result, as im2col + BLAS is."""
    rng = np.random.default_rng(11)
    x = rng.random((1, 3, 96, 96))
    w = np.ones((1, 3, 7, 7))
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same").numpy()
    ulp = float(np.spacing(np.float32(ref.max())))
    p = make_nn_problem(2, x.astype(np.float32), w.astype(np.float32), None, stride=1,
                        padding="same", dilation=1, groups=1, data_format="channels_first",
                        padding_mode="zeros", method="direct")[0]
    for impl in ("kernel", "im2col"):
        y = NNPlan(p, w.astype(np.float32), "direct", 1, direct=impl)(x.astype(np.float32), None)
        assert np.abs(y - ref).max() < 6 * ulp, impl


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_kernel_puts_nonfinite_values_where_torch_does(dtype: type) -> None:
    """NaN and inf stay in the direct sum's footprint: the positions the kernel computes
    between rows (and drops) never leak into the output."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 5, 19, 23)).astype(dtype)
    x[0, 1, 4, 0] = np.nan
    x[1, 3, 18, 22] = np.inf
    x[1, 0, 9, 11] = -np.inf
    w = rng.standard_normal((6, 5, 3, 4)).astype(dtype)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=(1, 2), dilation=(1, 2)
                   ).numpy()
    p = make_nn_problem(2, x, w, None, stride=1, padding=(1, 2), dilation=(1, 2), groups=1,
                        data_format="channels_first", padding_mode="zeros", method="direct")[0]
    y = NNPlan(p, w, "direct", 2, direct="kernel")(x, None)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(y), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(y), np.isneginf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(y[fin], ref[fin], rtol=0,
                               atol=EPS[dtype] * np.abs(x[np.isfinite(x)]).max()
                               * np.abs(w).reshape(6, -1).sum(axis=1).max())


def test_direct_implementation_follows_the_cost_model_and_the_dtype() -> None:
    """A 3x3 layer with few channels takes the compiled kernel; a complex one (which the
    kernel cannot serve) takes im2col, and asking the kernel for it is an error."""
    x = np.zeros((8, 16, 64, 64), np.float32)
    w = np.ones((16, 16, 3, 3), np.float32)
    p = make_nn_problem(2, x, w, None, stride=1, padding="same", dilation=1, groups=1,
                        data_format="channels_first", padding_mode="zeros", method="auto")[0]
    plan = NNPlan(p, w, "auto", 2)
    assert plan.method == "direct" and plan.direct == "kernel"
    assert plan.direct_estimates["kernel"] < plan.direct_estimates["im2col"]
    xc, wc = x.astype(np.complex64), w.astype(np.complex64)
    pc = make_nn_problem(2, xc, wc, None, stride=1, padding="same", dilation=1, groups=1,
                         data_format="channels_first", padding_mode="zeros", method="direct")[0]
    assert NNPlan(pc, wc, "direct", 2).direct == "im2col"
    with pytest.raises(ValueError, match="direct='kernel' cannot serve dtype complex64; "
                                         "expected one of 'im2col'"):
        NNPlan(pc, wc, "direct", 2, direct="kernel")


@pytest.mark.parametrize("cfg", [c for c in CONFIGS if max(per_axis(c.stride, c.d)) > 1][:30],
                         ids=str)
@pytest.mark.parametrize("polyphase", [False, True], ids=["subsample", "polyphase"])
def test_fft_stride_variants_match_torch(cfg: Config, polyphase: bool) -> None:
    """Both ways of serving a stride on the FFT path, whichever the cost model prefers."""
    x, w, b = arrays(cfg)
    p, xc, wc, bc, _, _, _ = make_nn_problem(
        cfg.d, x, w, b, stride=cfg.stride, padding=cfg.padding, dilation=cfg.dilation,
        groups=cfg.groups, data_format="channels_first", padding_mode=cfg.mode, method="fft")
    lay = fft_layout(p, polyphase, machine_costs()["prime_weight"])
    run = build_fft(p, np.ascontiguousarray(wc), lay, 2)[0]
    out = np.empty((p.batch, p.out_channels, *p.out_len), p.dtype)
    run(np.ascontiguousarray(xc), out)
    if bc is not None:
        out += bc.reshape(-1, *(1,) * cfg.d)
    ref = torch_reference(cfg, x, w, b)
    check(cfg, out if cfg.batch else out[0], ref, tolerance(cfg, x, w, b))


def test_polyphase_skips_phases_the_dilation_leaves_empty() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 20, 21))
    p = make_nn_problem(2, x, np.ones((4, 3, 3, 3)), None, stride=2, padding=0, dilation=2,
                        groups=1, data_format="channels_first", padding_mode="zeros",
                        method="fft")[0]
    lay = fft_layout(p, True, machine_costs()["prime_weight"])
    assert lay.phases == (0,)  # taps at even offsets only: one phase of four
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, dilation=2).numpy()
    run = build_fft(p, w, lay, 1)[0]
    out = np.empty(ref.shape)
    run(x, out)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_larger_image_and_kernel(method: str) -> None:
    """A size where 'auto' would take the FFT: both methods, float32, depthwise and not."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 40, 37)).astype(np.float32)
    for groups in (1, 4):
        w = rng.standard_normal((8, 4 // groups, 11, 9)).astype(np.float32)
        ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same",
                       groups=groups).numpy()
        y = nn.conv2d(x, w, padding="same", groups=groups, method=method)
        bound = np.abs(x).max() * np.abs(w).reshape(8, -1).sum(axis=1).max()
        np.testing.assert_allclose(y, ref, rtol=0, atol=2e-6 * bound)


def test_auto_picks_fft_for_large_kernels_and_direct_for_small() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 16, 64, 64)).astype(np.float32)

    def chosen(k: int) -> str:
        w = rng.standard_normal((16, 16, k, k)).astype(np.float32)
        p = make_nn_problem(2, x, w, None, stride=1, padding="same", dilation=1, groups=1,
                            data_format="channels_first", padding_mode="zeros",
                            method="auto")[0]
        return get_plan(p, w, "auto", 2).method

    assert chosen(1) == "direct"
    assert chosen(31) == "fft"


def test_nonfinite_input_stays_local_with_auto() -> None:
    """'auto' does not let an FFT smear a NaN: the direct sum's footprint, as torch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 50, 50))
    w = rng.standard_normal((2, 2, 15, 15))
    p = make_nn_problem(2, x, w, None, stride=1, padding="same", dilation=1, groups=1,
                        data_format="channels_first", padding_mode="zeros", method="auto")[0]
    assert get_plan(p, w, "auto", fftconv.get_workers()).method == "fft"
    x[0, 1, 3, 4] = np.nan
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same").numpy()
    y = nn.conv2d(x, w, padding="same")
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


def test_weight_spectra_are_reused_and_threads_agree() -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 33, 30))
    w = rng.standard_normal((5, 3, 9, 9))
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=4).numpy()
    p = make_nn_problem(2, x, w, None, stride=2, padding=4, dilation=1, groups=1,
                        data_format="channels_first", padding_mode="zeros", method="fft")[0]
    workers = fftconv.get_workers()
    plan = get_plan(p, w, "fft", workers)
    assert get_plan(p, w.copy(), "fft", workers) is plan  # same weight values: same plan
    results: list[np.ndarray] = [np.empty(0)] * 6

    def work(i: int) -> None:
        results[i] = plan(x, None)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_allclose(r, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_array_equal(r, results[0])


def test_dtype_promotion_follows_numpy() -> None:
    x8 = np.arange(2 * 9 * 9, dtype=np.uint8).reshape(2, 9, 9)
    w = np.ones((1, 2, 3, 3), np.float32)
    assert nn.conv2d(x8, w).dtype == np.float32  # as Keras: uint8 image x float32 kernel
    assert nn.conv2d(x8, w.astype(np.int64)).dtype == np.float64
    assert nn.conv2d(x8.astype(np.float16), w.astype(np.float16)).dtype == np.float32
    ref = F.conv2d(torch.from_numpy(x8[None].astype(np.float64)),
                   torch.ones(1, 2, 3, 3, dtype=torch.float64)).numpy()[0]
    np.testing.assert_array_equal(nn.conv2d(x8, w.astype(np.int64)), ref)


def test_small_scratch_budgets_split_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Row chunks of the im2col columns, batch chunks of the spectra and the kernel's
    shortest strips give the same result."""
    monkeypatch.setattr(nn_direct, "_COLS_BYTES", 1000)
    monkeypatch.setattr(nn_fft, "_SPEC_BYTES", 1000)
    monkeypatch.setattr(nn_direct, "_STRIP_BYTES", 8)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4, 12, 11))
    w = rng.standard_normal((6, 2, 3, 4))
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=(2, 1), padding=(1, 2),
                   groups=2).numpy()
    p = make_nn_problem(2, x, w, None, stride=(2, 1), padding=(1, 2), dilation=1, groups=2,
                        data_format="channels_first", padding_mode="zeros", method="auto")[0]
    for method, impl in (("direct", "kernel"), ("direct", "im2col"), ("fft", None)):
        y = nn_plan.NNPlan(p, w, method, 2, direct=impl)(x, None)
        np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
def test_empty_batch_and_no_input_channels(method: str) -> None:
    # an empty batch gives an empty result, as torch's; with no input channels every
    # output is the bias alone (an empty sum), which torch does not compute
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((0, 2, 8, 8)), rng.standard_normal((3, 2, 3, 3))
    want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    got = nn.conv2d(x, w, method=method)
    assert got.shape == want.shape == (0, 3, 6, 6)
    bias = np.array([1.0, -2.0, 0.5])
    got = nn.conv2d(np.zeros((2, 0, 8, 8)), np.zeros((3, 0, 3, 3)), bias, method=method)
    np.testing.assert_array_equal(got, np.broadcast_to(bias[:, None, None], (2, 3, 6, 6)))
