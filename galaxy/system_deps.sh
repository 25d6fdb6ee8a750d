#!/usr/bin/env bash
# Debian packages the Galaxy harness needs, installed only when missing: headless Chromium and
# its WebDriver for the browser test, python3-venv for the Galaxy virtualenv.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
bash "$(dirname "$0")/../scripts/apt-install.sh" "${need[@]}"
