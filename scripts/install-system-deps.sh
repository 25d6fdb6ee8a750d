#!/usr/bin/env bash
# Install R, DESeq2 and their companions from Debian packages when they are missing.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

r_ok() {
    command -v Rscript >/dev/null 2>&1 &&
        [ -f /usr/share/R/include/R.h ] &&
        Rscript -e 'for (p in c("DESeq2", "glmGamPoi", "BiocParallel")) if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)' >/dev/null 2>&1
}

if r_ok; then
    echo "R and DESeq2: already installed" >&2
    exit 0
fi

packages=(r-base-core r-base-dev r-bioc-deseq2 r-bioc-glmgampoi r-bioc-biocparallel)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "installing with apt-get: ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Wait (up to 15 minutes by default) when another apt or dpkg process holds the package lock,
# instead of failing at once.
APT_LOCK_WAIT="${APT_LOCK_WAIT:-900}"
$sudo apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" update -qq
$sudo apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
r_ok || { echo "R / DESeq2 still not usable after installing ${packages[*]}" >&2; exit 1; }
