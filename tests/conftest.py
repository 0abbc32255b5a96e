"""Shared pytest configuration: the naive reference lives in ``reference.py``."""

import pytest
from hypothesis import HealthCheck, settings

# numba compiles on first use and FFTW plans on first shape: no per-example deadline.
settings.register_profile(
    "fftconv", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("fftconv")


def pytest_configure(config):
    """Keep the suite away from the user's calibration, wisdom and measured decisions."""
    import os
    import tempfile

    os.environ["FFTCONV_CACHE_DIR"] = tempfile.mkdtemp(prefix="fftconv-test-cache-")
    # Plans learn from their own timings; tests of choices need the model's own figures
    # (tests/test_learning.py turns it on where it is the subject).
    os.environ["FFTCONV_LEARN"] = "off"
    # Jobs use fewer threads while other processes hold the CPUs; the suite's results
    # must not depend on what else the machine runs, so it sees an idle machine
    # (tests/test_parallel.py sets a busy one where that is the subject).
    from fftconv._machine import threads

    threads.set_probe(lambda: 0)
    # Until compiled code is loaded, small problems run on numpy stand-ins (see
    # docs/planner.md, "Short-lived processes"); the suite tests a process in its steady
    # state, with compiled code loaded (tests/test_taps.py tests the other).
    from fftconv._machine import jit

    jit.import_numba()


@pytest.fixture
def learn(monkeypatch, tmp_path):
    """Learning on, an empty cache directory, a fake clock (yielded); see learning_util."""
    from learning_util import learn_fixture

    yield from learn_fixture(monkeypatch, tmp_path)


@pytest.fixture(autouse=True)
def conditional_strategies_skip(request, monkeypatch):
    """A test parametrised over the registry skips a case that a *conditional* strategy
    (one serving only some problems, like ``separable``) declines, with its reason; every
    other strategy must serve every case it is given."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None:
        return
    from fftconv import _planner
    from fftconv.strategies import registry

    conditional = {v for v in callspec.params.values()
                   if isinstance(v, str) and getattr(registry().get(v), "conditional", False)}
    if not conditional:
        return
    choose = _planner.choose

    def choose_or_skip(decision, method):
        if method in conditional:
            for c in decision.candidates:
                if c.name == method and c.rejected:
                    pytest.skip(f"{method!r} declines this case: {c.rejected}")
        return choose(decision, method)

    monkeypatch.setattr(_planner, "choose", choose_or_skip)
