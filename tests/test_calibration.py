"""Calibration, FFTW wisdom and remembered measurements in the cache directory."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fftconv
from fftconv._machine import cache as _cache
from fftconv._machine import costs as _costs
from fftconv import _planner
from fftconv._engine import clear_caches
from fftconv._machine.calibration import calibrate


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache directory, with every in-memory copy of its contents forgotten."""
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    _costs.reload()
    clear_caches()
    yield tmp_path
    _costs.reload()
    clear_caches()


def write(path, doc):
    path.write_text(json.dumps(doc))


def test_shipped_defaults_without_calibration(cache):
    assert _costs.source() == "shipped defaults"
    assert _costs.machine_costs() == _costs.default_costs()


@pytest.mark.slow
def test_calibrate_quick_stores_and_is_used(cache):
    costs, path = calibrate(quick=True, progress=False)
    assert path == str(cache / "calibration.json")
    doc = json.loads((cache / "calibration.json").read_text())
    assert doc["signature"] == _cache.signature()
    for dtype in ("float32", "float64", "complex128", "int64"):
        assert 0 < doc["payload"]["direct_per_mac"][dtype] < 1e-6
    assert (cache / "fftw_wisdom.json").exists()
    assert _costs.source() == path
    assert _costs.machine_costs()["direct_per_mac"] == costs["direct_per_mac"]
    # and a new process picks it up too
    out = subprocess.run([sys.executable, "-c", "from fftconv._machine import costs; print(costs.source())"],
                         capture_output=True, text=True, check=True, env=os.environ.copy())
    assert out.stdout.strip() == path


def test_stale_file_is_ignored_with_a_warning_naming_it(cache):
    write(cache / "calibration.json", {"signature": {**_cache.signature(), "numpy": "0.0"},
                                       "payload": {"memory_per_byte": 1.0}})
    with pytest.warns(fftconv.FFTConvWarning,
                      match=r"ignoring .*calibration\.json: it was made with other versions"):
        costs = _costs.machine_costs()
    assert costs["memory_per_byte"] == _costs.default_costs()["memory_per_byte"]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_corrupt_file_is_ignored_never_a_crash(cache, content):
    (cache / "calibration.json").write_text(content)
    with pytest.warns(fftconv.FFTConvWarning, match=r"ignoring .*calibration\.json"):
        costs = _costs.machine_costs()
    assert costs == _costs.default_costs()
    y = fftconv.convolve(np.ones(5), np.ones(2))
    np.testing.assert_array_equal(y, [1, 2, 2, 2, 2, 1])


def test_calibration_values_are_merged_over_defaults(cache):
    write(cache / "calibration.json", {"signature": _cache.signature(),
                                       "payload": {"direct_per_mac": {"float32": 1e-3},
                                                   "direct_blocked_per_mac": {"float32": 1e-3},
                                                   "unknown_key": 5}})
    costs = _costs.machine_costs()
    assert costs["direct_per_mac"]["float32"] == 1e-3
    assert costs["direct_per_mac"]["float64"] == _costs.default_costs()["direct_per_mac"]["float64"]
    assert "unknown_key" not in costs
    # direct sums this slow (row-axpy and register-blocked) make the planner avoid them
    assert fftconv.explain((256, 256), (5, 5), "same", x_dtype="float32").method != "direct"


def test_writes_are_atomic_under_concurrency(cache):
    errors = []

    def writer(i):
        try:
            for j in range(20):
                _cache.write_json("calibration.json", {"direct_per_mac": {"float64": i + j / 100}})
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    doc = json.loads((cache / "calibration.json").read_text())  # one complete file
    assert doc["signature"] == _cache.signature()
    assert [p.name for p in cache.iterdir()] == ["calibration.json"]  # no temporaries left


def test_measure_is_remembered_across_processes(cache, monkeypatch):
    x = np.random.default_rng(0).standard_normal((96, 80))
    k = np.random.default_rng(1).standard_normal((9, 9))
    plan = fftconv.plan_convolve(x.shape, k, "same", effort="measure")
    measured = {c.name: c.measured for c in plan.report().candidates if c.measured is not None}
    assert measured and plan.method == min(measured, key=measured.get)
    saved = json.loads((cache / "decisions.json").read_text())["payload"]
    assert [v[0] for v in saved.values()] == [plan.method]
    # this process never measures the same problem again ...
    monkeypatch.setattr(_planner, "_measure", lambda *a, **k: pytest.fail("measured twice"))
    again = fftconv.plan_convolve(x.shape, k, "same", effort="measure")
    assert again.method == plan.method
    # ... and neither does a new one, which reads the decision from the cache directory
    code = ("import numpy as np, fftconv, fftconv._planner as P\n"
            "P._measure = lambda *a, **k: (_ for _ in ()).throw(AssertionError('measured'))\n"
            "x = np.random.default_rng(0).standard_normal((96, 80))\n"
            "k = np.random.default_rng(1).standard_normal((9, 9))\n"
            "print(fftconv.plan_convolve(x.shape, k, 'same', effort='measure').method)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == plan.method


def test_calibration_measures_the_nn_constants():
    from fftconv._machine.calibration import _steps
    from fftconv._machine.calibration_nn import nn_constants

    assert "fftconv.nn kernels" in [label for label, _ in _steps(True)]
    shipped = _costs.default_costs()["nn"]
    measured = nn_constants(1, shipped)
    structural = {"kernel_pass_positions", "kernel_single_factor"}
    assert set(measured) == set(shipped) - structural
    for key, value in measured.items():
        values = value.values() if isinstance(value, dict) else [value]
        assert all(0 < v < 1e-3 for v in values), (key, value)
        if isinstance(value, dict):
            assert set(value) == set(shipped[key])


def test_measured_nn_constants_are_used(cache):
    nn = {"gemm_per_mac": {"float32": 1.0, "float64": 1.0, "complex64": 1.0,
                           "complex128": 1.0}}
    write(cache / "calibration.json", {"signature": _cache.signature(), "payload": {"nn": nn}})
    _costs.reload()
    merged = _costs.machine_costs()["nn"]
    assert merged["gemm_per_mac"] == nn["gemm_per_mac"]
    assert merged["kernel_per_mac"] == _costs.default_costs()["nn"]["kernel_per_mac"]
