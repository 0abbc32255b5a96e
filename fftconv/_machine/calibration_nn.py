"""The :mod:`fftconv.nn` constants of ``fftconv calibrate``: BLAS, im2col, the compiled
direct kernel and the spectral sum, each timed on the code path its cost model counts.

The structural constants (``kernel_pass_positions``, ``kernel_single_factor``: the
kernel's strip geometry) are kept from the shipped defaults.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .calibration import best_time

__all__ = ["nn_constants"]


def _problem(x_shape: tuple[int, ...], w_shape: tuple[int, ...], dtype: str) -> Any:
    from ..nn._problem import make_nn_problem

    x = np.ones(x_shape, dtype)
    w = np.ones(w_shape, dtype)
    call = make_nn_problem(len(w_shape) - 2, x, w, None, stride=1, padding=0, dilation=1,
                           groups=1, data_format="channels_first", padding_mode="zeros",
                           method="direct")
    return call.problem, np.ascontiguousarray(call.x), np.ascontiguousarray(call.w)


def _gemm(dtype: str, repeat: int) -> float:
    """Seconds per multiply-add of a BLAS matrix product of im2col's shape."""
    a = np.ones((32, 288), dtype)
    b = np.ones((288, 8192), dtype)
    return best_time(lambda: a @ b, repeat) / (32 * 288 * 8192)


def _im2col(gemm_f32: float, repeat: int, shipped: float) -> float:
    """Seconds per gathered column element, beyond the matrix product (float32, 1 thread);
    ``shipped`` when the product's own timing noise swallows it."""
    from ..nn._direct import build_im2col

    p, x, w = _problem((4, 16, 64, 64), (16, 16, 5, 5), "float32")
    run = build_im2col(p, w, 1)
    out = np.empty((p.batch, p.out_channels, *p.out_len), p.dtype)
    total = best_time(lambda: run(x, out), repeat)
    rest = total - p.macs * gemm_f32
    return rest / (p.macs // p.out_channels) if rest > 0 else shipped


def _kernel(dtype: str, repeat: int, shipped: dict[str, Any]) -> tuple[float, float]:
    """(seconds per modelled multiply-add, fixed cost) of the compiled direct kernel."""
    from ..nn._direct import kernel_seconds, build_kernel
    from .costs import machine_costs

    def timed(x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> tuple[float, float]:
        p, x, w = _problem(x_shape, w_shape, dtype)
        run = build_kernel(p, w, 1)[0]
        out = np.empty((p.batch, p.out_channels, *p.out_len), p.dtype)
        unit = {**shipped, "kernel_per_mac": {dtype: 1.0}, "kernel_overhead": 0.0}
        return best_time(lambda: run(x, out), repeat), kernel_seconds(p, machine_costs(), unit, 1)

    tiny, _ = timed((1, 1, 8), (1, 1, 3))
    total, units = timed((4, 16, 64, 64), (16, 16, 5, 5))
    return max(total - tiny, 0.0) / units, tiny


def _spectral(dtype: str, repeat: int) -> float:
    """Seconds per complex multiply-add of the frequency-domain sum over channels."""
    from ..nn._kernel import blocked, spectral_sum

    nbins, channels, out = 4096, 16, 16
    x = np.ones((2, channels, nbins), dtype)
    w = np.ones((out, channels, nbins), dtype)
    wr, wi = blocked(w.real.copy()), blocked(w.imag.copy())
    y = np.empty((2, out, nbins), dtype)
    seconds = best_time(lambda: spectral_sum(x, wr, wi, y, 1, 0, wr.shape[0]), repeat)
    return seconds / (2 * out * channels * nbins)


def nn_constants(repeat: int, shipped: dict[str, Any]) -> dict[str, Any]:
    """The measured ``nn`` section of the cost constants (``shipped``: the defaults)."""
    gemm = {d: _gemm(d, repeat) for d in ("float32", "float64", "complex64", "complex128")}
    kernel = {d: _kernel(d, repeat, shipped) for d in ("float32", "float64")}
    return {
        "gemm_per_mac": gemm,
        "im2col_per_element": _im2col(gemm["float32"], repeat, shipped["im2col_per_element"]),
        "kernel_per_mac": {d: v[0] for d, v in kernel.items()},
        "kernel_overhead": min(v[1] for v in kernel.values()),
        "spectral_per_mac": {d: _spectral(d, repeat) for d in ("complex64", "complex128")},
    }
