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
bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"
r_ok || { echo "R / DESeq2 still not usable after installing ${packages[*]}" >&2; exit 1; }
