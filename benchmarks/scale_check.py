"""Scale check: ``deseq2-normalized check`` on a 60,000 x 500 DESeq2-normalized matrix.

Simulates the matrix (tab-separated like R's ``write.table`` of ``counts(dds, normalized=TRUE)``,
optionally gzip-compressed) into a temporary folder, runs ``deseq2-normalized check`` on it in a
subprocess and reports the wall time and the peak resident memory of that process (``ru_maxrss``
from ``os.wait4``). Not a unit test: run it by hand and copy the figures to benchmarks/SCALE.md.

Usage::

    .venv/bin/python benchmarks/scale_check.py [--genes 60000] [--samples 500] [--gzip] [--noise SD] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulate import simulate  # benchmarks/ is not a package

log = logging.getLogger("scale_check")


def run_measured(cmd: list[str]) -> tuple[int, float, float, str]:
    """Run ``cmd``; return its exit code, wall seconds, peak RSS in MiB and stderr."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", errors="replace")
    return proc.returncode, wall, usage.ru_maxrss / 1024, text  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    """Simulate the matrix, time ``deseq2-normalized check`` on it, log the figures; its exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=60_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gzip", action="store_true", help="check a gzip-compressed copy of the matrix")
    parser.add_argument("--keep", type=Path, help="simulate into this folder and keep it (default: a temp folder)")
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        metavar="SD",
        help="multiply every value by exp(N(0, SD)): a table with no per-sample unit, the recovery's worst case",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    folder = args.keep or Path(tempfile.mkdtemp(prefix="scale-check-"))
    try:
        start = time.perf_counter()
        counts, samples = simulate(args.genes, args.samples, args.seed, folder)
        if args.noise:
            import numpy as np
            import pandas as pd

            table = pd.read_csv(counts, sep="\t", index_col=0)
            noise = np.exp(np.random.default_rng(args.seed).normal(0, args.noise, table.shape))
            (table * noise).to_csv(counts, sep="\t", float_format="%.15g")
        if args.gzip:
            packed = counts.with_suffix(".tsv.gz")
            with open(counts, "rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst)
            counts = packed
        log.info("simulated in %.1f s: %s (%.0f MiB)", time.perf_counter() - start, counts,
                 counts.stat().st_size / 2**20)  # fmt: skip
        exe = Path(sys.executable).with_name("deseq2-normalized")
        cmd = [str(exe), "check", "--counts", str(counts), "--samples", str(samples), "--json", str(folder / "c.json")]
        code, wall, peak, err = run_measured(cmd)
        for line in err.splitlines():
            log.info("  %s", line)
        log.info(
            "check %d x %d%s%s: exit %d, wall %.1f s, peak RSS %.0f MiB (%s, %d CPUs, Python %s)",
            args.genes, args.samples, " (gzip)" if args.gzip else "", f" (noise {args.noise:g})" if args.noise else "",
            code, wall, peak,
            platform.machine(), os.cpu_count() or 0, platform.python_version(),
        )  # fmt: skip
        return code
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
