#!/usr/bin/env bash
# Install Debian packages without recommends: apt-get install, and on failure apt-get update and
# install again. Waits (APT_LOCK_WAIT seconds, default 900) when another apt or dpkg holds the
# package lock instead of failing at once. Every set-up script of the project installs through this.
# Usage: bash scripts/apt-install.sh PACKAGE...
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
wait_lock=(-o DPkg::Lock::Timeout="${APT_LOCK_WAIT:-900}")
echo "installing with apt-get: $*" >&2
$sudo apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 || {
    $sudo apt-get "${wait_lock[@]}" update -qq
    $sudo apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}
