# `make demo` sets everything up and serves the demo catalog on http://127.0.0.1:8000;
# `make test` sets everything up and runs the whole test suite. Nothing else is needed.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DATA ?= .semcat-demo
STAMP := $(VENV)/.installed
# dbt, in a venv of its own (its pins clash with semcat's): the tests build a dbt project with it
DBT_VENV := .venv-dbt
DBT_STAMP := $(DBT_VENV)/.installed
# Virtuoso (Debian), a remote SPARQL store the store contract tests start (installing needs root)
VIRTUOSO_STAMP := $(VENV)/.virtuoso
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: install demo serve test lint bench clean ui

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0" $(QUIET_PIP)
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]" $(QUIET_PIP)
	touch $@

$(DBT_STAMP): Makefile
	test -x $(DBT_VENV)/bin/python || $(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install -q --disable-pip-version-check "dbt-core>=1.11,<1.12" "dbt-duckdb>=1.11,<1.12" $(QUIET_PIP)
	touch $@

$(VIRTUOSO_STAMP): $(STAMP)
	command -v virtuoso-t >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends virtuoso-opensource; }
	touch $@

install: $(STAMP)

# The web UI's browser tests drive Debian's chromium (tests/test_web_ui.py); Playwright cannot
# download its own browsers here.
CHROMIUM_STAMP := $(VENV)/.chromium
$(CHROMIUM_STAMP): $(STAMP)
	test -x /usr/bin/chromium || apt-get install -y --no-install-recommends chromium \
		|| { apt-get update && apt-get install -y --no-install-recommends chromium; }
	touch $@

# Rebuild the shipped web UI (sparql_api/ui_dist) from its source in ui/; needs Node.js, which
# `make demo` does not.
ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

# A fresh demo each time: --force replaces the last one, but never while it is being served.
demo: install
	$(BIN)/semcat demo --data $(DEMO_DATA) --force
	$(BIN)/semcat serve --data $(DEMO_DATA) --host 127.0.0.1 --port 8000 --open

serve: install
	$(BIN)/semcat serve --data $(DEMO_DATA) --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Two workers (pytest-xdist), a test file each at a time: module fixtures (servers, demo
# catalogs, browsers) stay within one worker. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: lint $(DBT_STAMP) $(VIRTUOSO_STAMP) $(CHROMIUM_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

bench: install
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.lubm_sparql
	$(BIN)/python -m bench.validation
	$(BIN)/python -m bench.reasoning
	$(BIN)/python -m bench.search_latency --sizes 100000,1000000
	$(BIN)/python -m bench.rules
	$(BIN)/python -m bench.access
	$(BIN)/python -m bench.remote_store
	$(BIN)/python -m bench.property_graph
	$(BIN)/python -m bench.nats_changelog
	command -v wrk >/dev/null || apt-get install -y -q --no-install-recommends wrk
	$(BIN)/python -m bench.scale

clean:
	rm -rf $(VENV) $(DBT_VENV) $(DEMO_DATA) .pytest_cache
