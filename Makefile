# Thin wrappers: every target runs one `uv run python -m ...` inside svc/.
# uv is installed from PyPI into ~/.local/bin when it is missing (see README, "Install").

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := cd svc && $(UV) run --frozen python -m
export UV_PYTHON_PREFERENCE := only-system

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt migrate migrate-status db db-stop clean bench fuzz check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet --user --break-system-packages uv

install: | $(UV) ## create svc/.venv from uv.lock
	cd svc && $(UV) sync --frozen

run: install ## serve on HOST:PORT (WORKERS=N processes); local PostgreSQL unless DATABASE_URL
	$(RUN) configsvc

test: install ## the whole test suite against a throwaway PostgreSQL, with the coverage floor
	$(RUN) pytest --cov --cov-report=term-missing:skip-covered -p no:cacheprovider

lint: install ## ruff (lint and format check) and mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy configsvc client/configsvc_client

fmt: install ## format and autofix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

migrate: install ## apply pending migrations
	$(RUN) configsvc.db.migrations apply

migrate-status: install ## list applied and pending migrations
	$(RUN) configsvc.db.migrations status

db: install ## start (or reuse) the project-local PostgreSQL under svc/.pgdata
	$(RUN) configsvc.devtools.pgcluster start

db-stop: install ## stop the project-local PostgreSQL
	$(RUN) configsvc.devtools.pgcluster stop

bench: install ## benchmarks; QUICK=1 for a short run
	$(RUN) bench $(if $(QUICK),--quick,)

fuzz: install ## generated requests against the served OpenAPI document
	$(RUN) pytest -p no:cacheprovider -m fuzz configsvc/fuzz_test.py

check: lint test ## everything CI checks

clean: db-stop ## stop PostgreSQL, remove the local cluster and the virtualenv
	rm -rf svc/.pgdata svc/.venv svc/.coverage svc/.mypy_cache svc/.ruff_cache

token: install ## a token: make token ARGS='--name ci --grant APP_ID:read' (prints the secret once)
	$(RUN) configsvc tokens create $(ARGS)
.PHONY: token
