"""The progress hook: overlap-save reports every block exactly once, per caller."""

import threading

import numpy as np

import fftconv
from fftconv._machine.progress import current, reporting


def test_overlap_reports_every_block_once():
    x = np.random.default_rng(0).standard_normal((2, 260, 250))
    plan = fftconv.plan_correlate(x.shape, np.ones((15, 15)), "same", axes=(1, 2),
                                  method="overlap", max_memory=300_000)
    per_image = int(np.prod([-(-n // b) for n, b in zip(plan.out_shape[1:], plan.block_shape)]))
    done = []
    with reporting(done.append):
        plan(x)
    assert sum(done) == 2 * per_image and len(done) >= 2
    assert current() is None
    done.clear()
    plan(x)  # no listener: nothing reported
    assert done == []


def test_each_thread_sees_its_own_listener():
    x = np.random.default_rng(1).standard_normal((200, 200))
    plan = fftconv.plan_correlate(x.shape, np.ones((9, 9)), "same", method="overlap",
                                  max_memory=200_000)
    totals = {}

    def work(name):
        got = []
        with reporting(got.append):
            plan(x)
        totals[name] = sum(got)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(totals.values())) == 1 and next(iter(totals.values())) > 1
