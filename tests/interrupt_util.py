"""The Ctrl-C check shared by the interrupt tests: a child starts a long call, gets a
real SIGINT, and must stop promptly and stay usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if line:
            return line.strip()
        if proc.poll() is not None:
            break
    return line.strip()


def assert_interrupt_stops(child: str, *args: str) -> None:
    """Run ``child`` (prints 'ready' before its long call, 'interrupted' when the
    KeyboardInterrupt arrives, 'usable' after a further call) with ``args``; send SIGINT
    inside the long call and check each step."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A suite started in the background by a shell without job control inherits SIGINT
    # ignored, and a Python started so never installs its KeyboardInterrupt handler:
    # the child gets the default disposition back, as in a terminal.
    proc = subprocess.Popen([sys.executable, "-c", child, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert _readline(proc, 300) == "ready", proc.stderr.read()  # type: ignore[union-attr]
        time.sleep(0.5)  # well inside the long call (seconds, uninterrupted)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = _readline(proc, 60)
        latency = time.monotonic() - sent
        assert line == "interrupted", (line, proc.stderr.read())  # type: ignore[union-attr]
        # A prompt stop is a few pieces away (generous for a machine shared with other
        # work); "interrupted" shows the call itself was cut short.
        assert latency < 3.0, latency
        assert _readline(proc, 120) == "usable", proc.stderr.read()  # type: ignore[union-attr]
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
