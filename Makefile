# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_VERSION := 26.3
# xstatic-bootstrap ships only as a source package whose build needs
# setuptools<81; older pip reads PIP_CONSTRAINT in the build environment,
# newer pip takes --build-constraint.
export PIP_CONSTRAINT := $(CURDIR)/constraints-build.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install lint migrate seed clean bench-touchpoints bench-data bench bench-install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt constraints-build.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --build-constraint constraints-build.txt -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## make run: set up, migrate, load demo data, start web + worker + beat.
run: seed
	@bash scripts/dev.sh

## make test: lint, migrations check, the whole test suite.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var

## make bench-touchpoints: thank-you emails through 1 then 2 Celery workers on
## PostgreSQL + Redis to a local SMTP sink; prints emails/s and latency and
## writes bench/RESULTS.md (see bench/README.md). Needs `make install` first.
bench-touchpoints: install
	$(BIN)/python bench/touchpoints.py $(BENCH_ARGS)

BENCH_DB := referrals_crm_loadbench
BENCH_DATABASE_URL := postgres://postgres@127.0.0.1:5432/$(BENCH_DB)

## make bench-data: the 1M-referral data set in PostgreSQL (4 to 6 minutes).
bench-data: install
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $(BENCH_DB)"
	psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $(BENCH_DB)"
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py bench_data $(BENCH_DATA_ARGS)

$(VENV)/.bench-installed: requirements-bench.txt | $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

bench-install: $(VENV)/.bench-installed

## make bench: pages under load (locust, 8 users, 60 s each) on the bench data.
bench: install bench-install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/load.py
