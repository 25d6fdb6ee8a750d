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
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Wait (up to 15 minutes by default) when another apt or dpkg process holds the package lock,
# instead of failing at once.
APT_LOCK_WAIT="${APT_LOCK_WAIT:-900}"
echo "installing with apt-get: ${need[*]}" >&2
$sudo apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
    $sudo apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" update -qq
    $sudo apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
