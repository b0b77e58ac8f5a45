# The two commands a new user needs: `make run` and `make test`.
# `make run` installs requirements.txt (what runs the app); `make test`,
# `make test-fast` and `make lint` add requirements-dev.txt (tests, lint,
# Playwright). Both are compiled from their .in files by `make requirements`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_VERSION := 26.3
# xstatic-bootstrap ships only as a source package whose build needs
# setuptools<81; older pip reads PIP_CONSTRAINT in the build environment,
# newer pip takes --build-constraint.
export PIP_CONSTRAINT := $(CURDIR)/constraints-build.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast install install-dev requirements lint migrate seed clean bench-thank-yous bench-data bench bench-install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt constraints-build.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --build-constraint constraints-build.txt -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Both files in one pip run, so pip checks them together.
$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --build-constraint constraints-build.txt -r requirements.txt -r requirements-dev.txt
	touch $@

install-dev: $(VENV)/.installed-dev

## make requirements: recompile requirements.txt and requirements-dev.txt from
## their .in files, keeping every pin that still fits. To move one package:
## make requirements COMPILE_ARGS="--upgrade-package celery"; all: --upgrade.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile \
	--quiet --no-strip-extras --no-emit-index-url --no-emit-find-links \
	--pip-args "--build-constraint constraints-build.txt" $(COMPILE_ARGS)
requirements: install-dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## make run: set up, migrate, load demo data, start web + worker + beat.
run: seed
	@bash scripts/dev.sh

# The import contracts, once pyproject.toml or .importlinter declares them.
LINT_IMPORTS := if grep -qs '^\[tool\.importlinter\]' pyproject.toml || [ -f .importlinter ]; \
	then $(BIN)/lint-imports; fi

## make test: lint, import contracts, migrations check, the whole test suite.
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

## make test-fast: the same without the browser and Celery worker tests, for
## local work; `make test` (and CI) still runs them all.
test-fast: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -m "not browser and not worker"

lint: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var

## make bench-thank-yous: thank-you emails through 1 then 2 Celery workers on
## PostgreSQL + Redis to a local SMTP sink; prints emails/s and latency and
## writes bench/RESULTS.md (see bench/README.md). The sink is aiosmtpd, a
## dev requirement.
bench-thank-yous: install-dev
	$(BIN)/python bench/thank_yous.py $(BENCH_ARGS)

BENCH_DB := referrals_crm_loadbench
BENCH_DATABASE_URL := postgres://postgres@127.0.0.1:5432/$(BENCH_DB)

## make bench-data: the 1M-referral data set in PostgreSQL (4 to 6 minutes).
bench-data: install
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $(BENCH_DB)"
	psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $(BENCH_DB)"
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py bench_data $(BENCH_DATA_ARGS)

# With requirements-dev.txt in the same pip run: locust needs pytest, and
# gevent greenlet, which only that file pins.
$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -r requirements-bench.txt
	touch $@

bench-install: $(VENV)/.bench-installed

## make bench: every page as a rep, a manager and an admin under load (locust,
## 8 users), 3 rounds of 20 s per page, about 35 minutes; appends the table to
## bench/RESULTS.md (see bench/README.md).
bench: bench-install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/load.py
