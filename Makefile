# Two commands: `make demo` (set up + run the main job) and `make test` (set up + run every test).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch is pinned to the CPU build that lies on disk; anything that pulls torch gets that one.
PIP_CONSTRAINT_FILE := constraints.txt

# Debian packages the tests start for real (redis-server for Feast's Redis online store, chromium for the
# JupyterLab browser tests; playwright-core drives it, no browser download).
# code-server (the VS Code end-to-end test) compiles native modules against these headers; postgresql runs the
# metadata store's PostgreSQL test (a throwaway cluster per test module).
SYSDEPS := redis-server chromium postgresql libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config
# The root package.json workspaces (labextension, vscode_ext) install with one `jlpm install`; the JupyterLab
# extension is rebuilt when its sources change.
LABEXT_STAMP := $(VENV)/.labext-built
LABEXT_SRC := $(wildcard labextension/src/* labextension/style/* labextension/schema/*) labextension/package.json vscode_ext/package.json package.json yarn.lock
LAB_WS ?= .shipyard-demo

.PHONY: sysdeps setup demo lab test test-unit test-integration bench lint clean

setup: $(STAMP) $(LABEXT_STAMP)

sysdeps:
	@missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSDEPS) >/dev/null; \
	  else echo "install these Debian packages first:$$missing" >&2; exit 1; fi; fi

$(STAMP): pyproject.toml $(PIP_CONSTRAINT_FILE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT="$(CURDIR)/$(PIP_CONSTRAINT_FILE) $${PIP_CONSTRAINT:-}" $(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# `pip install -e .` builds the extension once (hatch-jupyter-builder) and copies it into the venv; after that
# the venv points at the source build, so an edit to labextension/ only needs this rebuild.
$(LABEXT_STAMP): $(STAMP) $(LABEXT_SRC)
	cd labextension && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jlpm install >/dev/null && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jlpm build:prod >/dev/null
	rm -rf $(VENV)/share/jupyter/labextensions/shipyard-labextension
	ln -s "$(CURDIR)/shipyard/labextension" $(VENV)/share/jupyter/labextensions/shipyard-labextension
	touch $(LABEXT_STAMP)

demo: setup
	$(VENV)/bin/shipyard demo

lab: setup
	$(VENV)/bin/shipyard lab --workspace $(LAB_WS)

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
	rm -rf $(VENV) .shipyard-demo benchmarks/results/*.json shipyard/labextension labextension/lib labextension/node_modules vscode_ext/node_modules
