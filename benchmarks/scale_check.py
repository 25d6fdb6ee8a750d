"""Scale check: ``deseq2-normalized check`` against a plain ``pandas.read_csv`` of the same file.

Simulates a DESeq2-normalized matrix (tab-separated like R's ``write.table`` of
``counts(dds, normalized=TRUE)``, optionally gzip-compressed) into a temporary folder, then
runs, alternately and ``--reps`` times each, ``deseq2-normalized check`` on it and a Python
process that only imports pandas and reads the file with ``pandas.read_csv`` (its defaults,
the gene IDs as index). Each is a fresh process timed with ``os.wait4``: wall time and peak
resident memory (``ru_maxrss``). Reports the medians, the ratio of the two and the peak
against the float64 matrix, with the targets (check faster than the plain read; peak at most
3 times the matrix), and the machine's load average. Not a unit test: run it by hand and copy
the figures to benchmarks/SCALE.md.

Usage::

    .venv/bin/python benchmarks/scale_check.py [--genes 60000] [--samples 200] [--reps 5] [--gzip]
        [--noise SD] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulate import simulate  # benchmarks/ is not a package

log = logging.getLogger("scale_check")

#: The baseline: a process that imports pandas and reads the file with read_csv's defaults.
PLAIN_READ = "import sys, pandas; pandas.read_csv(sys.argv[1], sep='\\t', index_col=0)"


def run_measured(cmd: list[str]) -> tuple[int, float, float, str]:
    """Run ``cmd``; return its exit code, wall seconds, peak RSS in MiB and stderr."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        # peak_rss.py starts the command: started from this process, which simulated the matrix,
        # its peak would count this process's size at the fork (Linux keeps it across exec).
        peak_file = Path(tmp) / "peak"
        wrapper = [sys.executable, "-I", str(Path(__file__).resolve().with_name("peak_rss.py")), str(peak_file)]
        start = time.perf_counter()
        proc = subprocess.Popen([*wrapper, *cmd], stdout=subprocess.DEVNULL, stderr=err)
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", errors="replace")
        peak = int(peak_file.read_text()) if peak_file.exists() else float("nan")
    return proc.returncode, wall, peak / 1024, text  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    """Simulate the matrix, time ``deseq2-normalized check`` on it, log the figures; its exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=60_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5, help="runs of each, alternating (default 5)")
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
        json_out = str(folder / "c.json")
        check = [str(exe), "check", "--counts", str(counts), "--samples", str(samples), "--json", json_out]
        plain = [sys.executable, "-c", PLAIN_READ, str(counts)]
        runs: dict[str, list[tuple[float, float]]] = {"check": [], "pandas.read_csv": []}
        code = 0
        for rep in range(args.reps):
            order = (("check", check), ("pandas.read_csv", plain))
            for name, cmd in order if rep % 2 == 0 else order[::-1]:
                status, wall, peak, err = run_measured(cmd)
                if status != 0:
                    log.error("%s exited %d: %s", name, status, err.strip().splitlines()[-1:])
                    code = code or status
                if name == "check" and rep == 0:
                    for line in err.splitlines():
                        log.info("  %s", line)
                runs[name].append((wall, peak))
                log.info("run %d, %s: wall %.2f s, peak RSS %.0f MiB, load %.2f", rep + 1, name, wall, peak,
                         os.getloadavg()[0])  # fmt: skip
        matrix = args.genes * args.samples * 8 / 2**20
        check_wall = statistics.median(w for w, _ in runs["check"])
        read_wall = statistics.median(w for w, _ in runs["pandas.read_csv"])
        check_peak = max(p for _, p in runs["check"])
        log.info(
            "check %d x %d%s%s: median wall %.2f s vs pandas.read_csv %.2f s (%.2fx; target < 1: %s); "
            "peak RSS %.0f MiB = %.2fx the %.0f MiB float64 matrix (target <= 3: %s); %d runs each, load %s "
            "(%s, %d CPUs, Python %s)",
            args.genes, args.samples, " (gzip)" if args.gzip else "", f" (noise {args.noise:g})" if args.noise else "",
            check_wall, read_wall, check_wall / read_wall, "holds" if check_wall < read_wall else "MISSED",
            check_peak, check_peak / matrix, matrix, "holds" if check_peak <= 3 * matrix else "MISSED",
            args.reps, ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            platform.machine(), os.cpu_count() or 0, platform.python_version(),
        )  # fmt: skip
        return code
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
