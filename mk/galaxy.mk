# Galaxy: the deseq2_normalized tool in a real local Galaxy (included by the Makefile).
#   make galaxy-test   install Galaxy (cached), start it, run the tool tests and the browser test, stop it
#   make galaxy        start the same Galaxy for a person; prints URL and login; Ctrl-C stops it
#   make galaxy-lint   planemo lint of the tool and planemo shed_lint of .shed.yml (offline checks)
# The Galaxy virtualenv (about 1.6 GB) is cached in $(GALAXY_HOME), outside the repository.
GALAXY_HOME ?= $(or $(DESEQ2N_GALAXY_HOME),$(HOME)/.cache/deseq2-normalized/galaxy)
GALAXY_PORT ?= 8080
GALAXY_ENV = DESEQ2N_GALAXY_HOME="$(GALAXY_HOME)" DESEQ2N_TOOL_BIN="$(abspath $(VENV))/bin"

.PHONY: galaxy galaxy-test galaxy-lint galaxy-setup galaxy-system-deps

galaxy-system-deps:
	@bash galaxy/system_deps.sh

galaxy-setup: galaxy-system-deps
	@$(GALAXY_ENV) bash galaxy/setup_galaxy.sh

galaxy-lint: galaxy-setup ## planemo lint of the Galaxy tool and planemo shed_lint of .shed.yml
	$(GALAXY_ENV) python3 galaxy/harness.py lint

galaxy-test: venv galaxy-setup ## the tool tests and browser tests in a live local Galaxy
	$(GALAXY_ENV) python3 galaxy/harness.py test

galaxy: venv galaxy-setup ## start a local Galaxy with the tool for a person (Ctrl-C stops it)
	$(GALAXY_ENV) python3 galaxy/harness.py serve --port $(GALAXY_PORT)
