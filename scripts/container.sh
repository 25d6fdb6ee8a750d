#!/usr/bin/env bash
# The deseq2-normalized container image, built from Debian packages with podman, no registry.
#
#   container.sh install   install podman, runc and mmdebstrap from Debian when missing
#   container.sh build     base image from Debian packages (mmdebstrap --variant=minbase bookworm,
#                          podman import; once), the project's wheel from this checkout, then
#                          podman build -f Containerfile; tags deseq2-normalized:VERSION and :latest
#   container.sh test      run the pasilla example inside the image with --network=none and
#                          compare its results tables with the same run outside it (.venv)
#
# podman reads build/container/containers.conf (CONTAINERS_CONF), written here: runtime runc and
# lower ulimits (crun cannot set the default rlimits on this kind of machine), cgroupfs and file
# events (no systemd). Environment: IMAGE (default deseq2-normalized), VENV (default .venv).
# Progress goes to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/build/container"
IMAGE="${IMAGE:-deseq2-normalized}"
BASE_IMAGE="${BASE_IMAGE:-localhost/deseq2n-debian-base:bookworm}"
VENV="${VENV:-$ROOT/.venv}"
PACKAGES=(podman runc mmdebstrap)

log() { echo "container: $*" >&2; }

install() {
    if command -v podman >/dev/null && command -v runc >/dev/null && command -v mmdebstrap >/dev/null; then
        return 0
    fi
    bash "$(dirname "$0")/apt-install.sh" "${PACKAGES[@]}"
}

podman_env() {
    mkdir -p "$WORK"
    cat >"$WORK/containers.conf" <<'EOF'
# Written by scripts/container.sh: podman settings that work as root without systemd.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
    export CONTAINERS_CONF="$WORK/containers.conf"
}

version() {
    "$VENV/bin/python" -c 'from importlib.metadata import version; print(version("deseq2-normalized"))'
}

build() {
    install
    podman_env
    local began
    began=$(date +%s)
    if ! podman image exists "$BASE_IMAGE"; then
        log "making the Debian 12 base image $BASE_IMAGE with mmdebstrap (minbase)"
        rm -f "$WORK/base.tar"
        mmdebstrap --quiet --variant=minbase bookworm "$WORK/base.tar" \
            "deb http://deb.debian.org/debian bookworm main" \
            "deb http://deb.debian.org/debian bookworm-updates main" \
            "deb http://deb.debian.org/debian-security bookworm-security main"
        podman import --quiet "$WORK/base.tar" "$BASE_IMAGE" >/dev/null
        rm -f "$WORK/base.tar"
    fi
    log "building the project's wheel from $ROOT"
    rm -f "$WORK"/*.whl
    # A fixed SOURCE_DATE_EPOCH makes the wheel's bytes depend on its content only, so that an
    # unchanged checkout reuses podman's cached layers instead of reinstalling the wheel.
    SOURCE_DATE_EPOCH=315532800 "$VENV/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$WORK" "$ROOT" \
        2> >(grep -v -e "^ " -e "^$" -e "!!" -e "_finalize_license_expression" >&2)
    local tag
    tag=$(version)
    log "podman build $IMAGE:$tag"
    podman build --quiet --network=host --build-arg "BASE=$BASE_IMAGE" \
        -t "$IMAGE:$tag" -t "$IMAGE:latest" -f "$ROOT/Containerfile" "$ROOT" >/dev/null
    log "built $IMAGE:$tag ($(podman image inspect --format '{{.Size}}' "$IMAGE:$tag" | awk '{printf "%d MB", $1 / 1e6}')) in $(($(date +%s) - began)) s"
}

run_args=(run --counts test-data/pasilla_normalized.tsv --samples test-data/pasilla_samples.tsv
    --design '~ type + condition' --reference untreated --no-report --plots none --quiet)

test_image() {
    podman_env
    local tag out began
    tag=$(version)
    podman image exists "$IMAGE:$tag" || { log "no image $IMAGE:$tag: run 'make container' first"; return 1; }
    out="$WORK/test"
    rm -rf "$out"
    mkdir -p "$out"
    began=$(date +%s)
    log "the pasilla example inside $IMAGE:$tag (--network=none)"
    podman run --rm --network=none -v "$ROOT/test-data:/data/test-data:ro" -v "$out:/data/out" -w /data \
        "$IMAGE:$tag" deseq2-normalized "${run_args[@]}" --out-dir out/inside
    log "the same run outside the image ($VENV)"
    (cd "$ROOT" && "$VENV/bin/deseq2-normalized" "${run_args[@]}" --out-dir "$out/outside")
    "$VENV/bin/python" "$ROOT/scripts/compare_results.py" "$out/inside" "$out/outside"
    log "container test passed in $(($(date +%s) - began)) s"
}

case "${1:-}" in
install) install ;;
build) build ;;
test) test_image ;;
*)
    echo "usage: $0 install | build | test" >&2
    exit 2
    ;;
esac
