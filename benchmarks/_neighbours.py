"""Competing processes for benchmarks: started and stopped by the benchmark itself.

``busy``: one single-threaded Python busy loop. ``blas``: numpy matrix products on the
BLAS's own thread pool (as many threads as cores), the neighbour that stalls barrier-
synchronised thread pools when the OS deschedules one of their threads.

    with neighbour("blas"):
        ...time things...
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

_CODE = {
    "busy": "while True: pass",
    "blas": ("import numpy as np\n"
             "a = np.random.default_rng(0).standard_normal((768, 768))\n"
             "while True: a @ a"),
}
KINDS = ("idle", *_CODE)


@contextlib.contextmanager
def neighbour(kind: str) -> Iterator[None]:
    """Run the ``kind`` neighbour ('idle': none) for the duration of the block."""
    if kind == "idle":
        yield
        return
    env = dict(os.environ)
    if kind == "blas":
        cores = str(len(os.sched_getaffinity(0)))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = cores
    proc = subprocess.Popen([sys.executable, "-c", _CODE[kind]], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # let it start and take its cores
        yield
    finally:
        proc.kill()
        proc.wait()
