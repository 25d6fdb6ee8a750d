# deseq2-normalized: set-up, demo and tests on a Debian 12 machine.
#   make demo   installs R + DESeq2 (apt) where missing, creates .venv, runs the bundled example
#   make test   the same set-up, then lint, type checks and the whole test suite, the Galaxy tool in a
#               live Galaxy (local runner, then through a one-node Slurm cluster) and the container image
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-output

.PHONY: help demo test system-deps venv lint unit unit-fast

help: ## list the targets and what each does
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{ printf "  %-20s %s\n", $$1, $$2 }'

system-deps: ## install R, DESeq2 and the Python build tools with apt (where missing)
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install the package with its test extras

demo: venv ## run the tool on the bundled pasilla example (outputs in demo-output/)
	$(VENV)/bin/deseq2-normalized run \
	    --counts test-data/pasilla_normalized.tsv --samples test-data/pasilla_samples.tsv \
	    --design '~ type + condition' --reference untreated --out-dir $(DEMO_OUT)
	@echo
	@echo "Outputs of the example run are in $(DEMO_OUT)/:"
	@ls -1 $(DEMO_OUT)

PY_FOLDERS := src tests galaxy benchmarks scripts

lint: venv ## ruff (with docstring rules), ruff format --check and mypy on every Python folder
	$(VENV)/bin/ruff check $(PY_FOLDERS)
	$(VENV)/bin/ruff format --check $(PY_FOLDERS)
	$(VENV)/bin/mypy

# tests/galaxy needs a running Galaxy and selenium (in Galaxy's virtualenv): galaxy-test runs it.
# The report tests open report.html in Debian's chromium: galaxy-system-deps installs it.
# One pytest worker per core (pytest-xdist); a test file stays on one worker, so its module
# fixtures (DESeq2 fits shared by its tests) run once.
XDIST := -n auto --dist loadfile

unit: venv galaxy-system-deps ## the pytest suite (without the live-Galaxy tests), one worker per core
	$(PY) -m pytest -q --ignore=tests/galaxy $(XDIST) --durations=15

unit-fast: venv ## the tests that need neither R nor chromium (about a minute)
	$(PY) -m pytest -q --ignore=tests/galaxy -m "not r and not chromium"

-include mk/*.mk

test: lint unit $(if $(wildcard mk/galaxy.mk),galaxy-test) $(if $(wildcard mk/slurm.mk),galaxy-slurm-test) $(if $(wildcard mk/container.mk),container-test) ## everything CI runs: lint, unit tests, Galaxy, Slurm and container tests
