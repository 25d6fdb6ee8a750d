# Container image built from Debian packages (included by the Makefile).
#   make container        install podman, runc and mmdebstrap (apt, when missing); build a Debian 12
#                         base image with mmdebstrap (once) and the image deseq2-normalized:VERSION
#                         from Containerfile with the project's own wheel; no registry needed
#   make container-test   the pasilla example inside the image (--network=none) against the same
#                         run outside it: results tables compared numerically
.PHONY: container container-test

container: venv ## build the container image (podman)
	@VENV="$(abspath $(VENV))" bash scripts/container.sh build

container-test: container ## run the example in the image and compare with the host
	@VENV="$(abspath $(VENV))" bash scripts/container.sh test
