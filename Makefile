# The two commands: `make dev` (local stack on :3000) and `make test` (the whole suite).
# Everything they need is installed here, into .venv (project) and .tools/sam (aws-sam-cli,
# kept apart because its pins conflict with the project's own).
SHELL := /bin/bash
# The first python3.13 that actually runs (a pyenv shim may exist without the version selected).
PYTHON313 ?= $(shell for p in $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 2>/dev/null) \
	$$(command -v python3.13 2>/dev/null); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' \
	2>/dev/null && echo "$$p" && break; done)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
PIP_FLAGS := --quiet --disable-pip-version-check --no-warn-script-location

.PHONY: dev test lint typecheck unit integration e2e infra build bench fuzz openapi clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON313)" || { echo "python3.13 not found (install it, or put it on PATH)"; exit 1; }
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -m pip install $(PIP_FLAGS) -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

# The official Node SDKs that tests/e2e/test_node_sdks.py runs, exactly as the lock file pins them.
NODE_E2E := tests/e2e/node
$(NODE_E2E)/node_modules/.installed: $(NODE_E2E)/package.json $(NODE_E2E)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: the Node SDK e2e tests need Node.js 20.18+ and npm"; exit 1; }
	npm ci --prefix $(NODE_E2E) --no-audit --no-fund --no-progress
	@touch $@

$(SAM_VENV)/.installed:
	@test -n "$(PYTHON313)" || { echo "python3.13 not found"; exit 1; }
	@test -x $(SAM_VENV)/bin/python || $(PYTHON313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) aws-sam-cli 2>&1 | grep -v '^WARNING: Location' ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

dev: $(VENV)/.installed
	$(PY) -m sluice.local

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The tests import their helpers through pytest's path (tests/ and each suite's own folder), and
# each suite has its own conftest.py: one mypy run per suite, with that suite's path.
MYPY_TESTS := $(VENV)/bin/mypy --explicit-package-bases --allow-untyped-defs
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy shared functions sluice bench
	MYPYPATH=tests $(MYPY_TESTS) tests/conftest.py tests/unit tests/infrastructure tests/fixtures tests/fakes tests/support
	MYPYPATH=tests/integration:tests $(MYPY_TESTS) tests/integration
	MYPYPATH=tests/e2e:tests $(MYPY_TESTS) tests/e2e

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed
	$(PY) -m pytest tests/integration

e2e: $(VENV)/.installed $(NODE_E2E)/node_modules/.installed
	$(PY) -m pytest tests/e2e

infra: $(VENV)/.installed $(SAM_VENV)/.installed
	SAM_CLI=$(abspath $(SAM)) $(PY) -m pytest tests/infrastructure

# sam build needs python3.13 on PATH.
build: $(SAM_VENV)/.installed
	PATH="$(dir $(PYTHON313)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build

test: $(VENV)/.installed $(SAM_VENV)/.installed $(NODE_E2E)/node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	PATH="$(dir $(PYTHON313)):$$PATH" SAM_CLI=$(abspath $(SAM)) $(PY) -m pytest

# docs/openapi.json from template.yaml's routes, the handlers and the wire models (checked by the tests).
openapi: $(VENV)/.installed
	$(PY) -m sluice.openapi --out docs/openapi.json

# The fuzz suite with a larger budget and fresh random cases each run (`make test` runs ~1,200, derandomized).
FUZZ_CASES ?= 4000
fuzz: $(VENV)/.installed
	SLUICE_FUZZ_CASES=$(FUZZ_CASES) SLUICE_FUZZ_RANDOM=1 $(PY) -m pytest tests/e2e/test_fuzz_api.py

# Gateway overhead, CPU, AWS calls, throughput, RSS, import and translation costs (docs/BENCHMARKS.md);
# uses ../shared/bench/fake_upstream.py (SLUICE_SHARED_BENCH=<dir> to point elsewhere). About 6 minutes.
bench: $(VENV)/.installed
	$(PY) -m bench.run
	$(PY) -m bench.aws_client
	$(PY) -m bench.ttfb_steps
	$(PY) -m bench.ttfb_steps --pin  # the gateway alone on CPU 0: the first-byte target's figure

clean:
	rm -rf .aws-sam .sluice .pytest_cache .mypy_cache .ruff_cache
