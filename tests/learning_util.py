"""The fake clock and the fixture the learning tests share (the fixture is in conftest)."""

from __future__ import annotations


import fftconv
from fftconv._machine import costs as _costs
from fftconv._machine import learning


class FakeClock:
    """Time advances ``step`` seconds per reading: a timed call (two readings) appears
    to last ``step`` seconds, whatever the machine is doing."""

    def __init__(self) -> None:
        self.now, self.step = 0.0, 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def learn_fixture(monkeypatch, tmp_path):
    """Learning on, an empty cache directory, a fake clock; the true constants saved."""
    monkeypatch.setenv("FFTCONV_LEARN", "on")
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    _costs.reload()
    learning.reset()
    fftconv._engine.clear_caches()
    clock = FakeClock()
    learning.set_clock(clock)
    yield clock
    learning.set_clock(None)
    learning.reset()
    _costs.reload()
    fftconv._engine.clear_caches()
