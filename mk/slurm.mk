# Slurm: the tool's Galaxy jobs through a one-node Slurm cluster (included by the Makefile).
#   make galaxy-slurm-test   install Slurm + munge from Debian (when missing), start a one-node
#                            cluster and a fresh Galaxy sending deseq2_normalized jobs to it
#                            (CLI runner, 2 CPUs per job), run tool tests 1 (success) and 13
#                            (the XML's test 11, a bad value: expected failure; numbered by position), prove from Galaxy's job metrics that each ran as
#                            a Slurm job with 2 slots and 2 threads; stop both
#   make slurm-deps          only install Slurm + munge
SLURM_TESTS ?= 1,13

.PHONY: galaxy-slurm-test slurm-deps

slurm-deps:
	@bash scripts/slurm-cluster.sh install

galaxy-slurm-test: venv galaxy-setup slurm-deps ## tool tests with jobs sent to a one-node Slurm cluster
	$(GALAXY_ENV) python3 galaxy/harness.py slurm-test --tests $(SLURM_TESTS)
