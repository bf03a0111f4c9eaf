# flask-service: every developer and CI entry point. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(PATH)
# pytest arguments, e.g. `make test PYTEST_ARGS="-x -k metrics"`
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv from the hashed dev lock

.PHONY: lock
lock: ## Regenerate the hashed locks from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements.lock
	uv pip compile pyproject.toml --extra test --generate-hashes --universal --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements-dev.lock

.PHONY: run
run: venv ## Serve on 127.0.0.1:5000 under gunicorn (no Docker)
	mkdir -p .run/metrics
	HOST=127.0.0.1 PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.run/metrics $(PY) -m service

.PHONY: lint
lint: venv ## ruff and hadolint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile

.PHONY: test
test: venv ## Every tier: unit, integration, container, chart, e2e (needs Docker and the cluster tools)
	$(MAKE) lint
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: unit integration container chart e2e
unit integration container chart e2e: venv ## One tier only: make unit | integration | container | chart | e2e
	$(PY) -m pytest -m $@ $(PYTEST_ARGS)
