# Bakehouse: two commands set everything up from nothing.
#   make demo   simulate a small chain for a week and run every night end to end
#   make test   lint and run the whole test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export MLFLOW_DISABLE_TELEMETRY := true
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: setup demo test lint fmt bench ui clean

# The dbt manifest Dagster loads the gold assets from: prepared at setup, never at import.
MANIFEST := target/manifest.json
DBT_SOURCES := dbt_project.yml profiles.yml $(shell find models macros dbt_tests -type f 2>/dev/null)

setup: $(STAMP) $(MANIFEST)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dagster-dbt project prepare-and-package \
	  --file orchestration/defs/gold/project.py
	touch $(MANIFEST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) $(MANIFEST)
	$(BIN)/bakehouse demo

lint: $(STAMP) $(MANIFEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros dbt_tests

test: lint
	$(BIN)/python -m pytest -q

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

ui: $(STAMP) $(MANIFEST)
	BAKEHOUSE_HOME=$${BAKEHOUSE_HOME:-$$PWD/.bakehouse} DAGSTER_HOME=$${BAKEHOUSE_HOME:-$$PWD/.bakehouse}/dagster_home \
	  $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

clean:
	rm -rf .bakehouse .pytest_cache .ruff_cache target
