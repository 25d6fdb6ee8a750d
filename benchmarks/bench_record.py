"""The benchmark's raw record (``benchmarks/results.json``).

The record holds the runs, the results checks and the machine and software they ran on; this
module also says how a later run is merged into an earlier record.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from dataclasses import asdict

from bench_runs import ROOT, TOOLS, Run
from simulate import SIZES


def machine() -> dict[str, str]:
    """Facts about the machine and the software versions."""

    def sh(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "unavailable"

    lscpu = sh(["lscpu"])
    keep = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)", "L3 cache", "CPU MHz")
    cpu = "; ".join(
        line.split(":", 1)[0].strip() + ": " + line.split(":", 1)[1].strip()
        for line in lscpu.splitlines()
        if line.split(":", 1)[0].strip() in keep
    )
    mem = sh(["free", "-g"]).splitlines()
    r = sh(
        [
            "Rscript",
            "-e",
            "cat(R.version.string, '; DESeq2', as.character(packageVersion('DESeq2')), "
            "'; glmGamPoi', as.character(packageVersion('glmGamPoi')), "
            "'; data.table', if (requireNamespace('data.table', quietly = TRUE)) "
            "as.character(packageVersion('data.table')) else 'not installed (base R I/O)', '; BLAS', "
            "sessionInfo()$BLAS)",
        ]
    )
    ours = sh(
        [
            str(ROOT / ".venv/bin/python"),
            "-c",
            "import deseq2_normalized, rpy2, pandas, numpy; print(deseq2_normalized.__version__, "
            "'rpy2', rpy2.__version__, 'pandas', pandas.__version__, 'numpy', numpy.__version__)",
        ]
    )
    py = sh(
        [
            str(ROOT / "benchmarks/.venv-bench/bin/python"),
            "-c",
            "import pydeseq2, pandas, numpy, scipy; print('pydeseq2', pydeseq2.__version__, 'pandas', "
            "pandas.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__)",
        ]
    )
    return {
        "cpu": cpu,
        "memory": mem[1] if len(mem) > 1 else "unavailable",
        "kernel": platform.platform(),
        "python": platform.python_version(),
        "R": r,
        "deseq2-normalized": ours,
        "PyDESeq2": py,
        "git": sh(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
    }


def new_record(
    started: dt.datetime,
    load_start: tuple[float, float, float],
    command: str,
    args: dict[str, str],
    runs: list[Run],
    extra_runs: list[Run],
    checks: dict[str, dict[str, object]],
    check_detail: dict[str, object],
) -> dict:
    """The record of a benchmark that finishes now.

    Parameters
    ----------
    started, load_start
        When the benchmark started, and the load averages (1, 5, 15 min) then.
    command
        The command line, as shown in RESULTS.md.
    args
        The parsed arguments, as text.
    runs, extra_runs
        The three tools' runs, and this tool's extra runs.
    checks
        Per size, the results checks.
    check_detail
        The ``check`` extra's stage times (its first log), or empty.

    Returns
    -------
    dict
        The record, with the machine facts and the load averages at the end.
    """
    finished = dt.datetime.now()
    info = machine()
    return {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "command": command,
        "args": args,
        "machine": info,
        "runs": [asdict(r) for r in runs],
        "extra_runs": [asdict(r) for r in extra_runs],
        "checks": checks,
        "check_detail": check_detail,
    }


def sizes_and_tools(record: dict) -> tuple[list[str], list[str]]:
    """The sizes (in simulate.SIZES order) and tools that a record has runs of."""
    seen = {r["size"] for r in record["runs"] + record["extra_runs"]}
    tools = [t for t in TOOLS if any(r["tool"] == t for r in record["runs"])]
    return [s for s in SIZES if s in seen], tools


def merge(old: dict, new: dict) -> dict:
    """``old`` with the runs and checks of ``new`` added; ``new``'s command, times and load under ``merged``."""
    out = dict(old)
    out["runs"] = old["runs"] + new["runs"]
    out["extra_runs"] = old["extra_runs"] + new["extra_runs"]
    checks = {size: dict(c) for size, c in old["checks"].items()}
    for size, c in new["checks"].items():
        if c:
            checks[f"{size} (merged run of {new['started']})" if size in checks else size] = c
    out["checks"] = checks
    if new.get("check_detail"):
        out["check_detail"] = new["check_detail"]
    keep = ("command", "started", "finished", "load_start", "load_end", "machine")
    out["merged"] = [*old.get("merged", []), {k: new[k] for k in keep}]
    return out
