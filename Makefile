# Two commands: `make demo` (set up + run the main job) and `make test` (set up + run every test).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch is pinned to the CPU build that lies on disk; anything that pulls torch gets that one.
PIP_CONSTRAINT_FILE := constraints.txt

.PHONY: setup demo test test-unit test-integration bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(PIP_CONSTRAINT_FILE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT="$(CURDIR)/$(PIP_CONSTRAINT_FILE) $${PIP_CONSTRAINT:-}" $(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: setup
	$(VENV)/bin/shipyard demo

test: setup
	$(PY) -m pytest tests -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test-unit: setup
	$(PY) -m pytest tests/unit

test-integration: setup
	$(PY) -m pytest tests/integration

bench: setup
	$(PY) -m benchmarks.run

lint: setup
	$(VENV)/bin/ruff check shipyard tests benchmarks
	$(VENV)/bin/ruff format --check shipyard tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .shipyard-demo benchmarks/results/*.json
