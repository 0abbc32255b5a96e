"""docs/api.md's reference is generated from the docstrings and must be up to date."""

import importlib.util
from pathlib import Path

import fftconv

SPEC = importlib.util.spec_from_file_location(
    "gen_api", Path(__file__).resolve().parents[1] / "docs" / "gen_api.py")
gen_api = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gen_api)


def test_api_reference_is_current():
    _, generated = gen_api.current()
    assert generated == gen_api.render(), "run: python docs/gen_api.py"


def test_every_public_name_is_documented():
    text = gen_api.API.read_text(encoding="utf-8")
    for name in fftconv.__all__:
        assert f"`fftconv.{name}`" in text
