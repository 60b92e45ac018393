# Two commands for a newcomer: `make demo` and `make test`. Both build .venv from scratch.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TORCH_CPU := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-fast bench bench-quick clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU build of torch first: a plain `torch` requirement pulls a multi-GB CUDA build.
	$(PIP) install --quiet "$(TORCH_CPU)"
	$(PIP) install --quiet -e ".[all,dev,bench]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/causalsynth demo --out causalsynth-out

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

bench-quick: $(STAMP)
	$(PY) benchmarks/run_all.py --quick --check

clean:
	rm -rf $(VENV) causalsynth-out build *.egg-info
