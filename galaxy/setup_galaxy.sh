#!/usr/bin/env bash
# Create (once) the cached virtualenv holding Galaxy and planemo, outside the git tree.
#   DESEQ2N_GALAXY_HOME  cache folder (default ~/.cache/deseq2-normalized/galaxy)
#   GALAXY_PIP_SPEC      what to install (default: the versions the harness was tested with;
#                        selenium drives Chromium in the browser test)
# Prints nothing on stdout; progress goes to stderr. Safe to rerun: a stamp file records what was
# installed, and the virtualenv is rebuilt when GALAXY_PIP_SPEC changes.
set -euo pipefail
HOME_DIR="${DESEQ2N_GALAXY_HOME:-$HOME/.cache/deseq2-normalized/galaxy}"
VENV="$HOME_DIR/venv"
STAMP="$VENV/.deseq2n-installed"
PYTHON="${PYTHON:-python3}"
SPEC="${GALAXY_PIP_SPEC:-galaxy==26.1.1 planemo==0.75.47 selenium==4.51.0}"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$SPEC" && -x "$VENV/bin/galaxy-tool-test" && -x "$VENV/bin/planemo" ]]; then
    echo "Galaxy virtualenv ready: $VENV" >&2
    exit 0
fi
mkdir -p "$HOME_DIR"
echo "Creating the Galaxy virtualenv in $VENV (about 2 minutes, 1.6 GB)..." >&2
start=$(date +%s)
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q $SPEC 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$VENV/bin/python" -c 'import galaxy.webapps.galaxy.fast_factory' >&2
printf '%s' "$SPEC" > "$STAMP"
echo "Galaxy virtualenv installed in $(( $(date +%s) - start )) s: $VENV" >&2
