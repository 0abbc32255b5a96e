"""Start-up: a fresh process imports only what its first call needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys
import numpy as np
import fftconv
after_import = sorted(sys.modules)
fftconv.convolve(np.ones(500, np.float32), np.array([1, 2, 1], np.float32), "same")
after_direct = sorted(sys.modules)
fftconv.convolve(np.ones((64, 64), np.float32), np.ones((3, 3), np.float32), "same")
after_small = sorted(sys.modules)
fftconv.convolve(np.ones((64, 64), np.float32), np.ones((9, 9), np.float32), "same",
                 method="fft")
print(json.dumps([after_import, after_direct, after_small, sorted(sys.modules)]))
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def modules() -> list[set[str]]:
    proc = _run(PROBE)
    assert proc.returncode == 0, proc.stderr
    return [set(m) for m in json.loads(proc.stdout)]


def test_import_fftconv_is_light(modules):
    after_import = modules[0]
    for heavy in ("numba", "scipy", "pyfftw", "dask", "platformdirs"):
        assert heavy not in after_import


def test_a_first_small_call_needs_no_compiled_code_scipy_linalg_nor_pyfftw(modules):
    """A first small call is cheaper summed tap by tap in numpy than loading numba's
    compiled code (docs/planner.md, "Short-lived processes")."""
    after_direct = modules[1]
    for heavy in ("numba", "scipy.linalg", "pyfftw", "dask", "xarray", "scipy.fft"):
        assert heavy not in after_direct, heavy


def test_a_first_small_image_call_loads_no_compiled_code(modules):
    """64x64 with 3x3: the tap sum and a small FFT cost about the same here, and either
    is far cheaper than loading compiled code; which one wins is the constants' call."""
    after_small = modules[2]
    for heavy in ("numba", "scipy.linalg", "dask", "xarray"):
        assert heavy not in after_small, heavy


def test_a_first_fft_call_does_not_import_dask_or_xarray(modules):
    after_fft = modules[3]
    assert "pyfftw" in after_fft
    assert "dask" not in after_fft and "xarray" not in after_fft


def test_scipy_linalg_still_imports_for_real_afterwards():
    proc = _run("import numpy as np, fftconv\n"
                "fftconv.convolve(np.ones(50, np.float32), np.ones(3, np.float32))\n"
                "import scipy.linalg\n"
                "from scipy.linalg import cython_blas\n"
                "assert hasattr(cython_blas, '__pyx_capi__'), 'placeholder left behind'\n"
                "print(scipy.linalg.lu_factor(np.eye(3))[1])")
    assert proc.returncode == 0, proc.stderr
    assert "[0 1 2]" in proc.stdout


def test_pyfftw_interfaces_stay_importable():
    proc = _run("import numpy as np, fftconv\n"
                "fftconv.convolve(np.ones((64, 64)), np.ones((9, 9)), method='fft')\n"
                "import pyfftw.interfaces.scipy_fft as f\n"
                "print(f.rfft(np.ones(4))[0])")
    assert proc.returncode == 0, proc.stderr
    assert "4" in proc.stdout


def test_an_unwritable_compiled_code_cache_works_quietly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = _run("import numpy as np, fftconv\n"
                "from fftconv._machine import jit; jit.import_numba()  # compiled code\n"
                "print(fftconv.convolve(np.ones(5, np.float32), np.ones(3, np.float32)))",
                NUMBA_CACHE_DIR=str(blocker / "cache"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    assert "[1. 2. 3. 3. 3. 2. 1.]" in proc.stdout


def test_njit_compiles_in_memory_when_no_cache_location_exists(monkeypatch):
    import numba

    from fftconv._machine import jit

    calls = []
    real = numba.njit

    def fake_njit(*args, **kwargs):
        calls.append(kwargs.get("cache"))
        if kwargs.get("cache"):
            def fail(fn):
                raise RuntimeError("cannot cache function 'f': no locator available")
            return fail
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", fake_njit)

    @jit.njit(cache=True, nogil=True)
    def f(a):
        return a + 1

    assert f(1) == 2
    assert calls[:2] == [True, False]  # (numba itself calls njit while compiling)


def test_a_second_process_compiles_nothing_for_a_first_small_call(tmp_path):
    """Every kernel a first small call runs is loaded from numba's cache in the next
    process, none compiled again (a compiled function numba cannot cache, such as one
    calling another through a closure, would be compiled in every process: seconds)."""
    code = ("import numpy as np, fftconv\n"
            "from fftconv._machine import jit; jit.import_numba()  # compiled code, not taps\n"
            "fftconv.convolve(np.ones((64, 64), np.float32), np.ones((3, 3), np.float32),"
            " 'same')\n"
            "fftconv.convolve(np.ones((64, 64)), np.random.default_rng(0).random((5, 5)),"
            " 'same')\n")
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_DEBUG_CACHE": "1"}
    first = _run(code, **env)
    assert first.returncode == 0, first.stderr
    assert "data saved" in first.stdout + first.stderr  # the cache directory is fresh
    second = _run(code, **env)
    assert second.returncode == 0, second.stderr
    saved = [line for line in (second.stdout + second.stderr).splitlines()
             if "data saved" in line or "index saved" in line]
    assert saved == []
