"""The cache directory never breaks a call: unwritable places and corrupt files are
warnings naming the full path, and the work goes on without persistence."""

import json
import tempfile
import warnings

import numpy as np
import pytest

import fftconv
from fftconv._cli import main
from fftconv._engine import clear_caches
from fftconv._machine import cache as _cache
from fftconv._machine import calibration as _calibration
from fftconv._machine import costs as _costs
from fftconv._machine import fft as _fft
from fftconv._machine import measured as _measured
from fftconv._machine import schema as _schema

W = fftconv.FFTConvWarning


@pytest.fixture
def fresh(monkeypatch):
    """Forget every in-memory copy of the cache directory's contents."""
    _costs.reload()
    clear_caches()
    monkeypatch.setattr(_measured, "_measured", None)
    monkeypatch.setattr(_fft, "_stored_wisdom", None)
    yield
    _costs.reload()
    clear_caches()


@pytest.fixture(params=["file", "under-a-file", "read-only"])
def unwritable(request, tmp_path, monkeypatch, fresh):
    """A cache directory nothing can be written to; yields the path warnings must name."""
    if request.param == "read-only":  # root ignores permission bits: refuse like EACCES
        monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))

        def refuse(*a, **k):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        return tmp_path
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    where = blocker if request.param == "file" else blocker / "sub"
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(where))
    return where


def _warned(record, path, what="write"):
    msgs = [str(w.message) for w in record if issubclass(w.category, W)]
    assert any(str(path) in m and f"could not {what}" in m for m in msgs), msgs


def test_measure_one_shot_and_plan_work_when_the_cache_cannot_be_written(unwritable):
    x = np.random.default_rng(0).standard_normal(600)
    k = np.ones(40)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        y = fftconv.convolve(x, k, effort="measure")
        p = fftconv.plan_convolve(x.shape, k, "same", effort="measure")
        ys = p(x)
    np.testing.assert_allclose(y, np.convolve(x, k), atol=1e-9)
    np.testing.assert_allclose(ys, np.convolve(x, k, "same"), atol=1e-9)
    _warned(rec, unwritable / "decisions.json")


def test_calibrate_works_when_the_cache_cannot_be_written(unwritable, monkeypatch):
    monkeypatch.setattr(_calibration, "_steps", lambda quick: iter([
        ("direct", lambda: ("direct_per_mac", "float64", 7e-9)),
        ("fft", lambda: ("fft_per_nlogn_by_size", "float64", {"1024": 3e-9})),
        ("threads", lambda: ("threads", None, ({"direct": 0.5, "fft": 0.5, "overlap": 0.5}, 4096))),
    ]))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        _, path = _calibration.calibrate(quick=True, progress=False)
    _warned(rec, unwritable / "calibration.json")
    assert path == ""
    # in force for this process although not saved
    assert _costs.machine_costs()["direct_per_mac"]["float64"] == 7e-9
    assert "not saved" in _costs.source()


def test_cli_info_and_plan_measure_work_when_the_cache_cannot_be_written(unwritable, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["info"]) == 0
        out = capsys.readouterr().out
        assert str(unwritable / "calibration.json") in out
        assert main(["plan", "--shape", "64x64", "--kernel", "9x9", "--effort", "measure"]) == 0
    assert "measured" in capsys.readouterr().out


# ------------------------------------------------------------------- corrupt payloads
def _doc(payload):
    return json.dumps({"signature": _cache.signature(), "payload": payload})


CALIBRATION_PAYLOADS = {
    "a list": [1, 2],
    "a string for a table": {"direct_per_mac": "fast"},
    "null constants": {"direct_per_mac": {"float64": None}},
    "NaN constants": {"direct_per_mac": {"float64": float("nan")}, "memory_per_byte": float("nan")},
    "negative constants": {"fft_per_nlogn": {"float64": -1.0}},
    "a bool constant": {"memory_per_byte": True},
    "a bad size key": {"fft_per_nlogn_by_size": {"float64": {"big": 1e-9}}},
    "a null table": {"overhead": None},
    "efficiency over 1": {"parallel_efficiency": {"fft": 7.0}},
    "nested too deep for the schema": {"prime_weight": {"2": [[[[1.0]]]]}},
}


@pytest.mark.parametrize("label", CALIBRATION_PAYLOADS)
def test_malformed_calibration_payload_is_ignored_naming_the_file(tmp_path, monkeypatch, fresh,
                                                                   label):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    (tmp_path / "calibration.json").write_text(_doc(CALIBRATION_PAYLOADS[label]))
    with pytest.warns(W, match=f"ignoring {tmp_path / 'calibration.json'}: its content is malformed"):
        costs = _costs.machine_costs()
    assert costs == _costs.default_costs()
    # and measuring (which compares estimates) works
    p = fftconv.plan_convolve((300,), np.ones(31), effort="measure")
    assert p.method in {c.name for c in p.report().candidates if c.measured is not None}


def test_deeply_nested_json_is_not_a_recursion_error(tmp_path, monkeypatch, fresh):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    deep = "[" * 200_000 + "]" * 200_000
    for name in ("calibration.json", "decisions.json"):
        (tmp_path / name).write_text('{"signature": 1, "payload": ' + deep + "}")
    with pytest.warns(W, match=f"ignoring {tmp_path / 'calibration.json'}: it is not valid JSON"):
        _costs.machine_costs()
    with pytest.warns(W, match=f"ignoring {tmp_path / 'decisions.json'}"):
        p = fftconv.plan_convolve((300,), np.ones(31), effort="measure")
    assert p(np.ones(300)).shape == (330,)
    # info reads the same file
    assert "nested too deeply" in _cache.file_status("calibration.json")


def test_oversized_file_is_not_read(tmp_path, monkeypatch, fresh):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_cache, "MAX_BYTES", 1000)
    (tmp_path / "calibration.json").write_text(_doc({"about": "x" * 2000}))
    with pytest.warns(W, match=f"ignoring {tmp_path / 'calibration.json'}: it is larger than"):
        assert _costs.machine_costs() == _costs.default_costs()


@pytest.mark.parametrize("payload", [
    {"k1": ["fft"]},                       # one item
    {"k1": ["fft", "fast"]},               # times not a table
    {"k1": ["fft", {"fft": float("nan")}]},
    {"k1": [None, {}]},
    ["fft", {}],
])
def test_malformed_decisions_are_ignored_naming_the_file(tmp_path, monkeypatch, fresh, payload):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    (tmp_path / "decisions.json").write_text(_doc(payload))
    with pytest.warns(W, match=f"ignoring {tmp_path / 'decisions.json'}: its content is malformed"):
        p = fftconv.plan_convolve((200,), np.ones(21), effort="measure")
    np.testing.assert_allclose(p(np.ones(200)), np.convolve(np.ones(200), np.ones(21)))
    # the file was rewritten whole
    saved = json.loads((tmp_path / "decisions.json").read_text())["payload"]
    _schema.check(saved, _schema.DECISIONS)


@pytest.mark.parametrize("payload", [{"wisdom": "AAAA"}, {"wisdom": ["@@not base64@@"]},
                                     {"wisdom": [1]}, {}])
def test_malformed_wisdom_is_ignored_naming_the_file(tmp_path, monkeypatch, fresh, payload):
    pyfftw = pytest.importorskip("pyfftw")
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    (tmp_path / "fftw_wisdom.json").write_text(_doc(payload))
    with pytest.warns(W, match=f"ignoring {tmp_path / 'fftw_wisdom.json'}"):
        _fft._load_wisdom(pyfftw)


def test_shipped_defaults_match_the_calibration_schema():
    _schema.check(_costs.default_costs(), _schema.COSTS)


def test_schema_messages_name_the_place():
    with pytest.raises(_schema.Invalid, match=r"payload\['direct_per_mac'\]\['float64'\] is null"):
        _schema.check({"direct_per_mac": {"float64": None}}, _schema.COSTS)
    with pytest.raises(_schema.Invalid, match=r"payload\[0\] is str; expected an array of two"):
        _schema.check(["ab", 1], _schema.ListOf(_schema.Pair(_schema.Str(), _schema.Num())))
