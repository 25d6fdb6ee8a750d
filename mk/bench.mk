# make bench: time deseq2-normalized against a bare Rscript and PyDESeq2 (benchmarks/RESULTS.md).
# Not part of `make test`. Sizes and repetitions are configurable, for example
#   make bench BENCH_ARGS="--sizes small --reps 3 --extras none"
# PyDESeq2 lives in its own venv (benchmarks/.venv-bench), never in the package's dependencies.
BENCH_ARGS ?=
BENCH_VENV ?= benchmarks/.venv-bench

.PHONY: bench bench-venv bench-r-deps

$(BENCH_VENV)/.installed: benchmarks/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -r benchmarks/requirements.txt
	@touch $@

bench-venv: $(BENCH_VENV)/.installed

# The bare R script reads and writes with data.table, as a performance-minded R user would.
bench-r-deps:
	@Rscript -e 'quit(status = !requireNamespace("data.table", quietly = TRUE))' 2>/dev/null || \
	    { $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends r-cran-data.table >/dev/null || \
	      { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	        $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends r-cran-data.table >/dev/null; }; }

bench: venv bench-venv bench-r-deps
	$(PY) benchmarks/run.py --bench-venv $(BENCH_VENV) $(BENCH_ARGS)
