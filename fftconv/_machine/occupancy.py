"""How many other threads hold the CPUs: a running mean of readings, each one confirmed.

A reading is the instantaneous count of runnable threads besides this process's own
(``threads._runnable_others``). One reading alone misleads both ways. A neighbour's
thread pool sleeps between its jobs, so a reading can miss it; and a kernel worker, a
helper thread on its way back to sleep or another library's pool spinning for a few
microseconds after its job (OpenCV's) is runnable now and then on any idle machine, so a
reading can see a neighbour that is not there. Where readings are far apart (one per
call of 30 ms and more), a single such reading would carry the mean with it and put
the next call on one thread, at half speed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["CONFIRM_READS", "CONFIRM_SECONDS", "HOLD_SECONDS", "Occupancy"]

#: Time constant of the running mean of the readings.
HOLD_SECONDS = 0.1
#: A reading above what the mean holds is taken again this many times, this far apart,
#: and the least is kept: a thread holding a CPU is in every reading, one passing through
#: is not (an OpenCV pool thread spins for tens of microseconds after its job).
CONFIRM_READS = 3
CONFIRM_SECONDS = 5e-5


class Occupancy:
    """Other runnable threads, as a time-weighted running mean of confirmed readings.

    The mean over the last :data:`HOLD_SECONDS` (an exponential weight by age) counts a
    neighbour that holds a CPU most of the time and not one seen in passing. A reading
    that says more than the mean holds is confirmed first (``again``: a fresh reading;
    :data:`CONFIRM_READS` of them, :data:`CONFIRM_SECONDS` apart, the least kept). The
    value is the larger of the mean (rounded) and the confirmed reading: a thread that
    holds a CPU at this moment is not run over.
    """

    def __init__(self, tau: float = HOLD_SECONDS) -> None:
        self.tau = tau
        self.mean = 0.0
        self.at: float | None = None

    def update(self, now: float, reading: int,
               again: Callable[[], int | None] | None = None) -> int:
        """Fold in ``reading`` taken at ``now`` (seconds), confirmed by ``again`` where it
        exceeds the mean; the count to believe."""
        held = int(self.mean + 0.5)
        if again is not None and reading > held:
            for _ in range(CONFIRM_READS):
                time.sleep(CONFIRM_SECONDS)
                fresh = again()
                if fresh is None:
                    break
                reading = min(reading, fresh)
                if reading <= held:
                    break
        if self.at is not None:  # the first reading counts as it is, and enters the mean
            weight = 1.0 - math.exp(-max(now - self.at, 0.0) / self.tau)  # by its age
            self.mean += weight * (reading - self.mean)
        self.at = now
        return max(reading, int(self.mean + 0.5))
