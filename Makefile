# Switchboard: `make run` starts everything, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUN_VERSION := 1.4.5
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt requirements-nodeps.txt | sha1sum | cut -c1-12)

# Offline-friendly defaults: bun from the npm registry, no telemetry, no model hubs.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# Bytecode caches: litellm, torch and Reflex are thousands of modules; compiling
# them again in every process (the worker, the app, each test subprocess) costs
# minutes on a small machine.
unexport PYTHONDONTWRITEBYTECODE
NPM_REGISTRY := $(shell npm config get registry 2>/dev/null)
export NPM_CONFIG_REGISTRY ?= $(NPM_REGISTRY)

.PHONY: install run run-prod test soak lint format scenarios bench report clean help

help:
	@echo "make run        start PostgreSQL, Redis, worker and app (demo data loaded)"
	@echo "make test       run every test (lint first)"
	@echo "make soak       the crash and outage tests, long (SOAK_TRIALS=100)"
	@echo "make lint       ruff format --check, ruff check, import layers, mypy"
	@echo "make scenarios  run assistant scenarios (FILE=path.yaml for one file)"
	@echo "make bench      latency, throughput, fairness, CPU per turn, fan-out, retrieval and cost benchmarks"
	@echo "make report     make bench, then docs/feasibility.md from bench/results/"

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and alone: the CPU build, not the CUDA stack.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	npm install --silent --no-audit --no-fund --prefix .tools bun@$(BUN_VERSION)
	rm -f $(VENV)/.installed-*
	touch $@

run: install
	$(PY) -m app.cli run

run-prod: install
	$(PY) -m app.cli run --env prod

lint: install
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: install lint
	$(PY) -m pytest --cov --cov-report=term:skip-covered -p no:cacheprovider $(PYTEST_ARGS)
	$(PY) -m coverage report --include='agents/*,jobs/*' --fail-under=80

# The reliability tests with many trials (make test runs a few of each).
SOAK_TRIALS ?= 100
# Per test: 100 kill trials take about an hour on a busy 2-core machine.
SOAK_TIMEOUT_S ?= 10800
soak: install
	SOAK_TRIALS=$(SOAK_TRIALS) $(PY) -m pytest -p no:cacheprovider -m reliability -s --timeout=$(SOAK_TIMEOUT_S) $(PYTEST_ARGS)

scenarios: install
	$(PY) -m devtools.scenarios $(FILE)

eval: install
	$(PY) -m devtools.eval $(FILE)

intents: install
	$(PY) -m agents.intents

bench: install
	$(PY) -m bench

report: bench
	$(PY) -m bench.report

clean:
	rm -rf .web .pytest_cache .mypy_cache .ruff_cache .coverage
