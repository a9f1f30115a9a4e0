# Two commands: `make demo` (set up + run the main job) and `make test` (set up + run every test).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch is pinned to the CPU build that lies on disk; anything that pulls torch gets that one.
PIP_CONSTRAINT_FILE := constraints.txt

# Debian packages the tests start for real (redis-server for Feast's Redis online store).
SYSDEPS := redis-server

.PHONY: sysdeps setup demo test test-unit test-integration bench lint clean

setup: $(STAMP)

sysdeps:
	@missing=""; for p in $(SYSDEPS); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSDEPS) >/dev/null; \
	  else echo "install these Debian packages first:$$missing" >&2; exit 1; fi; fi

$(STAMP): pyproject.toml $(PIP_CONSTRAINT_FILE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT="$(CURDIR)/$(PIP_CONSTRAINT_FILE) $${PIP_CONSTRAINT:-}" $(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: setup
	$(VENV)/bin/shipyard demo

test: sysdeps setup
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
