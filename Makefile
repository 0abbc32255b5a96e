# Two entry points: `make demo` and `make test`. Each creates .venv if it is
# missing and installs what it needs from pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test lint types bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes (the stamp is newer otherwise).
$(VENV)/.stamp-demo: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[image,plot,bench]'
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.stamp-demo
	$(PY) examples/large_kernel_filtering.py

# Lint, then types, then the tests: CI runs exactly this. The tests run in one process
# per core (pytest-xdist): most of a first run's time is numba compiling the small-kernel
# sums, one per kernel shape and dtype, and the processes share that work through the
# compiled-code cache. TEST_JOBS=0 runs them in this process.
TEST_JOBS ?= auto

test: $(VENV)/.stamp-test lint types
	$(PY) -m pytest -n $(TEST_JOBS) --dist worksteal

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check fftconv tests benchmarks examples docs

types: $(VENV)/.stamp-test
	$(VENV)/bin/mypy

bench: $(VENV)/.stamp-demo
	$(PY) benchmarks/bench_2d.py

clean:
	rm -rf $(VENV) demo-output build *.egg-info
