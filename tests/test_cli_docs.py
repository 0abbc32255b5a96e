"""Every ``$ fftconv plan|bench|calibrate|info`` line of docs/cli.md runs (filter lines are
run by test_cli_filter.py on the sample photograph)."""

import shlex
from pathlib import Path

import pytest

from fftconv._machine import costs as _costs
from fftconv._cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
LINES = [line[2:] for line in DOC.read_text(encoding="utf-8").splitlines()
         if line.startswith("$ fftconv ") and not line.startswith("$ fftconv filter")]
SLOW = ("1000x1500", "calibrate\n")


def test_the_doc_has_examples_of_every_command():
    commands = {shlex.split(line)[1] for line in LINES}
    assert commands == {"plan", "bench", "calibrate", "info"}


@pytest.mark.parametrize("line", [
    pytest.param(line, marks=pytest.mark.slow) if any(s in line + "\n" for s in SLOW) else line
    for line in LINES])
def test_doc_command_runs(line, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path / "cache"))
    _costs.reload()
    try:
        assert main(shlex.split(line)[1:]) == 0
    finally:
        _costs.reload()
    out = capsys.readouterr().out
    assert out.strip()
    for name in ("--csv", "--plot"):
        argv = shlex.split(line)
        if name in argv:
            assert (tmp_path / argv[argv.index(name) + 1]).stat().st_size > 0
