"""Benchmark ``deseq2-normalized run`` against a bare Rscript and PyDESeq2.

For every size: simulate the matrix (cached in ``benchmarks/data``), then run the three
tools ``--reps`` times each, alternating (the order rotates every repetition), measuring
per run the wall time, the CPU time (user + system of the process and its waited-for
children, from ``os.wait4``) and the peak resident memory (``ru_maxrss``: the largest of the
process and its children, not their sum). Then check that the results agree and write
``benchmarks/RESULTS.md`` (and the raw runs to ``benchmarks/results.json``).

The like-for-like run of this tool passes ``--no-report --plots none``: the bare R script
writes no report and no plots, so neither does the tool when the two are compared.

Extras (``--extras``): ``--threads 2`` against ``--threads 1`` at the medium size, the
glmGamPoi fit against the default parametric fit at the large size,
``deseq2-normalized check`` at the large size, and the tool with its defaults (report.html
and plots as PNG and PDF) at every size, which measures what the report costs.

Usage::

    python benchmarks/run.py [--sizes small,medium,large] [--reps 5,3,1] [--extras threads,glmgampoi,check,report]

Only the report extra, merged into the existing record (no other tool is run)::

    python benchmarks/run.py --sizes small,medium,large --reps 0 --extras report --merge
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from simulate import SIZES, simulate  # noqa: E402

log = logging.getLogger("bench")

TOOLS = ("deseq2-normalized", "bare Rscript", "PyDESeq2")
EXTRAS = ("threads", "glmgampoi", "check", "report")
#: Label of the report extra's runs (the tool with its defaults: report.html and plots both).
REPORT = "defaults (report + plots)"
#: The arguments that make this tool do the bare R script's work: no report, no plot files.
LIKE_FOR_LIKE = ("--no-report", "--plots", "none")
#: The tool's progress line for a finished stage: ``deseq2-normalized: NAME: done in 1.2 s``.
STAGE_LINE = re.compile(r"^deseq2-normalized: (?P<name>.+): done in (?P<seconds>[0-9.]+) s$", re.MULTILINE)
RESULT_FILE = "results_condition_B_vs_A.tsv"
#: R vs this tool: the same DESeq2 run, so the results must agree to this relative error.
EXACT_RTOL = 1e-8
#: PyDESeq2's own test suite compares its results with DESeq2's at 2% relative error.
PYDESEQ2_RTOL = 0.02
COMPARED = ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")


@dataclass
class Run:
    """One timed run."""

    tool: str
    size: str
    rep: int
    wall_s: float
    cpu_s: float
    maxrss_mib: float
    returncode: int
    load1: float
    #: This tool's stage times (wall seconds) from its progress lines; absent in older records.
    stages: dict[str, float] = field(default_factory=dict)


#: Exit code recorded for a run stopped at ``--timeout``.
TIMED_OUT = -9
TIMEOUT = [3600.0]


def timed(cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """Run ``cmd``; return wall seconds, CPU seconds, peak RSS (MiB) and the exit code.

    A run still going after ``--timeout`` seconds is killed (with its children) and
    reported with exit code :data:`TIMED_OUT`; its wall time is then a lower bound.
    """
    with open(log_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if not killed and time.perf_counter() - start > TIMEOUT[0]:
                os.killpg(proc.pid, 9)
                killed = True
            time.sleep(0.05)
        wall = time.perf_counter() - start
    proc.returncode = TIMED_OUT if killed else os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def commands(
    tool: str,
    counts: Path,
    samples: Path,
    out: Path,
    args: argparse.Namespace,
    extra: tuple[str, ...] = (),
    *,
    report: bool = False,
) -> list[str]:
    """The command line of ``tool`` on one matrix.

    This tool runs like for like (no report, no plot files) unless ``report``: then with
    its defaults, report.html and plots as PNG and PDF.
    """
    if tool == "deseq2-normalized":
        return [
            str(ROOT / args.venv / "bin" / "deseq2-normalized"),
            "run",
            "--counts",
            str(counts),
            "--samples",
            str(samples),
            "--out-dir",
            str(out),
            "--reference",
            "A",
            "--transform",
            args.transform,
            *(() if report else LIKE_FOR_LIKE),
            *extra,
        ]
    if tool == "bare Rscript":
        return ["Rscript", str(HERE / "bare_deseq2.R"), str(counts), str(samples), str(out), args.transform, *extra]
    if tool == "PyDESeq2":
        return [
            str(ROOT / args.bench_venv / "bin" / "python"),
            str(HERE / "run_pydeseq2.py"),
            str(counts),
            str(samples),
            str(out),
            "--transform",
            args.transform,
            "--cpus",
            str(args.pydeseq2_cpus),
        ]
    raise ValueError(tool)


def load1() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def stage_times(log_path: Path) -> dict[str, float]:
    """The stage times this tool printed on stderr (captured in the run's log)."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return {m["name"]: float(m["seconds"]) for m in STAGE_LINE.finditer(text)}


def report_stage(run: Run) -> float:
    """Wall seconds of the run's report and plots stage (``drawing ...``), nan when absent."""
    times = [s for name, s in run.stages.items() if name.startswith("drawing")]
    return sum(times) if times else float("nan")


def read_results(path: Path) -> pd.DataFrame:
    """A results table indexed by gene."""
    return pd.read_csv(path, sep="\t", index_col=0, na_values=["NA"]).sort_index()


def compare(reference: pd.DataFrame, other: pd.DataFrame, rtol: float) -> dict[str, object]:
    """Relative differences of ``other`` against ``reference`` column by column.

    Returns the NA-pattern agreement, the largest relative difference per column (where
    both are finite), the share of genes within ``rtol`` and whether all columns pass.
    """
    out: dict[str, object] = {"genes": len(reference), "same_genes": bool(reference.index.equals(other.index))}
    if not out["same_genes"]:
        out["passed"] = False
        return out
    worst: dict[str, float] = {}
    within: dict[str, float] = {}
    na_same = True
    for col in COMPARED:
        a = reference[col].to_numpy(dtype=float)
        b = other[col].to_numpy(dtype=float)
        na_same &= bool(np.array_equal(np.isnan(a), np.isnan(b)))
        both = ~np.isnan(a) & ~np.isnan(b)
        rel = np.abs(a[both] - b[both]) / np.maximum(np.abs(a[both]), 1e-300)
        rel[(a[both] == 0) & (b[both] == 0)] = 0.0
        worst[col] = float(rel.max()) if rel.size else 0.0
        within[col] = float(np.mean(rel <= rtol)) if rel.size else 1.0
    out.update(na_pattern_same=na_same, max_rel_diff=worst, share_within=within, rtol=rtol)
    out["passed"] = na_same and all(v <= rtol for v in worst.values())
    sig_a = reference["padj"] < 0.1
    sig_b = other["padj"] < 0.1
    out["calls_padj_0.1"] = {
        "reference": int(sig_a.sum()),
        "other": int(sig_b.sum()),
        "both": int((sig_a & sig_b).sum()),
    }
    return out


def compare_counts(a: Path, b: Path) -> bool:
    """Whether two normalized-count tables hold the same numbers."""
    x = pd.read_csv(a, sep="\t", index_col=0).sort_index()
    y = pd.read_csv(b, sep="\t", index_col=0).sort_index()
    return bool(x.index.equals(y.index) and np.allclose(x.to_numpy(float), y.to_numpy(float), rtol=1e-12, atol=0))


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


def median(values: list[float]) -> float:
    """Median (nan for no values)."""
    return statistics.median(values) if values else float("nan")


def summarize(runs: list[Run], size: str, tool: str) -> dict[str, float]:
    """Medians of the successful runs of one tool at one size."""
    ok = [r for r in runs if r.size == size and r.tool == tool and r.returncode == 0]
    stopped = [r for r in runs if r.size == size and r.tool == tool and r.returncode == TIMED_OUT]
    return {
        "n": len(ok),
        "timed_out": len(stopped),
        "lower_bound": min((r.wall_s for r in stopped), default=float("nan")),
        "wall": median([r.wall_s for r in ok]),
        "cpu": median([r.cpu_s for r in ok]),
        "rss": median([r.maxrss_mib for r in ok]),
        "wall_min": min((r.wall_s for r in ok), default=float("nan")),
        "wall_max": max((r.wall_s for r in ok), default=float("nan")),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="Benchmark deseq2-normalized against a bare Rscript and PyDESeq2")
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: tiny, small, medium, large")
    parser.add_argument(
        "--reps",
        default="5,3,1",
        help="repetitions per size (one number, or one per size; default 5,3,1: the smallest size has the "
        "shortest runs, where run-to-run noise weighs most against the 5%% target)",
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    parser.add_argument(
        "--extras",
        default=",".join(EXTRAS),
        help="comma-separated: threads (medium), glmgampoi, check (large), report (every size: the tool's "
        "defaults, report.html and plots), or none",
    )
    parser.add_argument("--extra-reps", type=int, default=1, help="repetitions of each extra (default 1)")
    parser.add_argument("--transform", choices=("none", "vst"), default="none", help="transform in every tool")
    parser.add_argument("--pydeseq2-reps", type=int, default=1, help="at most this many PyDESeq2 runs per size")
    parser.add_argument(
        "--timeout", type=float, default=600, help="stop a run after this many seconds (reported as a lower bound)"
    )
    parser.add_argument("--pydeseq2-cpus", type=int, default=1, help="PyDESeq2 n_cpus (default 1 = serial, as R)")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="cache of simulated matrices")
    parser.add_argument("--venv", default=".venv")
    parser.add_argument("--bench-venv", default="benchmarks/.venv-bench")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--render-only", action="store_true", help="rewrite RESULTS.md from --json, run nothing")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="add this invocation's runs to the existing --json record (and RESULTS.md) instead of replacing it",
    )
    args = parser.parse_args(argv)
    TIMEOUT[0] = args.timeout
    if args.render_only:
        record = json.loads(args.json.read_text(encoding="utf-8"))
        sizes, tools = sizes_and_tools(record)
        write_results(args.out, render(record, sizes, {}, tools))
        return 0
    logging.basicConfig(
        level=logging.INFO, format="bench %(asctime)s: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    reps_list = [int(x) for x in args.reps.split(",")]
    reps = {s: reps_list[i] if i < len(reps_list) else reps_list[-1] for i, s in enumerate(sizes)}
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    extras = [] if args.extras == "none" else [e.strip() for e in args.extras.split(",") if e.strip()]
    unknown = [e for e in extras if e not in EXTRAS]
    if unknown:
        parser.error(f"--extras: unknown {', '.join(unknown)} (choose from {', '.join(EXTRAS)}, or none)")
    runs_pydeseq2 = "PyDESeq2" in tools and args.pydeseq2_reps > 0 and any(reps.values())
    if runs_pydeseq2 and not (ROOT / args.bench_venv / "bin" / "python").exists():
        parser.error(
            f"{args.bench_venv} is missing: make bench creates it (pip install -r benchmarks/requirements.txt)"
        )

    started = dt.datetime.now()
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="deseq2-normalized-bench-"))
    runs: list[Run] = []
    checks: dict[str, dict[str, object]] = {}
    extra_runs: list[Run] = []
    check_detail: dict[str, object] = {}
    try:
        for size in sizes:
            genes, n_samples, seed = SIZES[size]
            counts = args.data / f"counts_{genes}x{n_samples}.tsv"
            samples = args.data / f"samples_{genes}x{n_samples}.tsv"
            if not counts.exists() or not samples.exists():
                simulate(genes, n_samples, seed, args.data)
            for rep in range(reps[size]):
                order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
                for tool in order:
                    if tool == "PyDESeq2" and rep >= args.pydeseq2_reps:
                        continue
                    out = work / size / tool.replace(" ", "_") / str(rep)
                    if out.exists():
                        shutil.rmtree(out)
                    out.mkdir(parents=True)
                    la = load1()
                    log_path = out.parent / f"{rep}.log"
                    wall, cpu, rss, rc = timed(commands(tool, counts, samples, out, args), log_path)
                    stages = stage_times(log_path) if tool == "deseq2-normalized" else {}
                    runs.append(Run(tool, size, rep, wall, cpu, rss, rc, la, stages))
                    log.info(
                        "%s %s rep %d: %.1f s wall, %.1f s CPU, %.0f MiB, exit %d (load %.2f)",
                        size,
                        tool,
                        rep + 1,
                        wall,
                        cpu,
                        rss,
                        rc,
                        la,
                    )
                    if rc == TIMED_OUT:
                        log.warning("%s stopped after --timeout %g s", tool, args.timeout)
                    elif rc != 0:
                        log.error("%s failed; see %s", tool, out.parent / f"{rep}.log")
            checks[size] = check_size(work / size, tools)
            log.info("%s: results check %s", size, json.dumps(checks[size]))

            if size == "medium" and "threads" in extras:
                for rep in range(args.extra_reps):
                    for threads in (1, 2) if rep % 2 == 0 else (2, 1):
                        extra_runs.append(
                            run_extra(
                                f"threads {threads}",
                                size,
                                rep,
                                counts,
                                samples,
                                work,
                                args,
                                ("--threads", str(threads)),
                            )
                        )
            if size == "large" and "glmgampoi" in extras:
                for rep in range(args.extra_reps):
                    extra_runs.append(
                        run_extra(
                            "fit-type glmGamPoi", size, rep, counts, samples, work, args, ("--fit-type", "glmGamPoi")
                        )
                    )
                checks[size]["deseq2-normalized glmGamPoi vs parametric"] = compare_glmgampoi(work / size)
            if size == "large" and "check" in extras:
                for rep in range(max(args.extra_reps, 3)):
                    cmd = [
                        str(ROOT / args.venv / "bin" / "deseq2-normalized"),
                        "check",
                        "--counts",
                        str(counts),
                        "--samples",
                        str(samples),
                    ]
                    la = load1()
                    wall, cpu, rss, rc = timed(cmd, work / f"check_{rep}.log")
                    extra_runs.append(Run("check", size, rep, wall, cpu, rss, rc, la))
                    log.info("check %s rep %d: %.1f s wall, %.0f MiB, exit %d", size, rep + 1, wall, rss, rc)
                check_detail = {"stage_times": (work / "check_0.log").read_text(errors="replace")}
            if "report" in extras:
                for rep in range(args.extra_reps):
                    extra_runs.append(run_extra(REPORT, size, rep, counts, samples, work, args, (), report=True))
    finally:
        finished = dt.datetime.now()
        info = machine()
        record = {
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "load_start": load_start,
            "load_end": os.getloadavg(),
            "command": " ".join(["python benchmarks/run.py", *sys.argv[1:]]),
            "args": {k: str(v) for k, v in vars(args).items()},
            "machine": info,
            "runs": [asdict(r) for r in runs],
            "extra_runs": [asdict(r) for r in extra_runs],
            "checks": checks,
            "check_detail": check_detail,
        }
        if args.merge and args.json.exists():
            record = merge(json.loads(args.json.read_text(encoding="utf-8")), record)
            sizes, tools = sizes_and_tools(record)
        args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        if write_results(args.out, render(record, sizes, reps, tools)) and not args.merge:
            log.warning("kept the hand-written notes at the end of %s: check that they still fit this run", args.out)
        log.info("wrote %s and %s (scratch outputs in %s)", args.out, args.json, work)
    shutil.rmtree(work, ignore_errors=True)
    failed = [r for r in runs + extra_runs if r.returncode not in (0, TIMED_OUT)]
    bad = [
        name
        for c in checks.values()
        for name, v in c.items()
        if isinstance(v, dict) and v.get("strict", True) and not v.get("passed", False)
    ]
    return 1 if failed or bad else 0


def run_extra(
    label: str,
    size: str,
    rep: int,
    counts: Path,
    samples: Path,
    work: Path,
    args: argparse.Namespace,
    extra: tuple[str, ...],
    *,
    report: bool = False,
) -> Run:
    """One extra run of this tool (threads, fit type; with ``report``, the tool's defaults)."""
    out = work / size / re.sub(r"[^A-Za-z0-9.-]+", "_", label) / str(rep)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    la = load1()
    log_path = out.parent / f"{rep}.log"
    cmd = commands("deseq2-normalized", counts, samples, out, args, extra, report=report)
    wall, cpu, rss, rc = timed(cmd, log_path)
    log.info(
        "%s %s rep %d: %.1f s wall, %.1f s CPU, %.0f MiB, exit %d (load %.2f)",
        size,
        label,
        rep + 1,
        wall,
        cpu,
        rss,
        rc,
        la,
    )
    return Run(label, size, rep, wall, cpu, rss, rc, la, stage_times(log_path))


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


NOTES_HEADING = "## Notes on this run"


def write_results(path: Path, text: str) -> bool:
    """Write RESULTS.md, keeping the hand-written notes section of the existing file.

    Everything above the ``## Notes on this run`` heading is generated; the heading and
    what follows it are written by hand and carried over. Returns whether notes were kept.
    """
    notes = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        at = old.find("\n" + NOTES_HEADING)
        if at >= 0:
            notes = old[at + 1 :]
    path.write_text(text.rstrip("\n") + "\n\n" + notes if notes else text, encoding="utf-8")
    return bool(notes)


def check_size(folder: Path, tools: list[str]) -> dict[str, object]:
    """Compare the last run's results of each tool with the bare R script's."""

    def result_of(tool: str) -> Path | None:
        base = folder / tool.replace(" ", "_")
        reps = sorted((p.parent for p in base.glob("*/" + RESULT_FILE)), key=lambda p: int(p.name))
        return reps[-1] if reps else None

    out: dict[str, object] = {}
    r_dir = result_of("bare Rscript")
    if r_dir is None:
        return out
    reference = read_results(r_dir / RESULT_FILE)
    ours = result_of("deseq2-normalized")
    if ours is not None:
        cmp = compare(reference, read_results(ours / RESULT_FILE), EXACT_RTOL)
        cmp["normalized_counts_equal"] = compare_counts(r_dir / "normalized_counts.tsv", ours / "normalized_counts.tsv")
        cmp["passed"] = bool(cmp["passed"]) and cmp["normalized_counts_equal"]
        out["deseq2-normalized vs bare Rscript"] = cmp
    py = result_of("PyDESeq2")
    if py is not None:
        cmp = compare(reference, read_results(py / RESULT_FILE), PYDESEQ2_RTOL)
        cmp["normalized_counts_equal"] = compare_counts(r_dir / "normalized_counts.tsv", py / "normalized_counts.tsv")
        cmp["strict"] = False  # reported, not a failure of the benchmark: PyDESeq2 is a re-implementation
        out["PyDESeq2 vs bare Rscript"] = cmp
    return out


def compare_glmgampoi(folder: Path) -> dict[str, object]:
    """How far glmGamPoi's results are from the default fit's (this tool, both)."""
    default = sorted((folder / "deseq2-normalized").glob("*/" + RESULT_FILE))
    gam = sorted((folder / "fit-type_glmGamPoi").glob("*/" + RESULT_FILE))
    if not default or not gam:
        return {}
    cmp = compare(read_results(default[-1]), read_results(gam[-1]), PYDESEQ2_RTOL)
    cmp["strict"] = False
    return cmp


def fmt(x: float, digits: int = 1) -> str:
    """A number for the table ('n/a' for nan)."""
    return "n/a" if x != x else f"{x:,.{digits}f}"


def render(record: dict, sizes: list[str], reps: dict[str, int], tools: list[str]) -> str:
    """RESULTS.md from the record."""
    runs = [Run(**r) for r in record["runs"]]
    extra = [Run(**r) for r in record["extra_runs"]]
    m = record["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.py` (`make bench`); the raw runs are in `benchmarks/results.json`.",
        "",
        f"- Run: {record['started']} to {record['finished']}; command: "
        f"`{record.get('command', 'python benchmarks/run.py')}`",
        f"- Load average (1, 5, 15 min) at start {tuple(round(x, 2) for x in record['load_start'])}, "
        f"at end {tuple(round(x, 2) for x in record['load_end'])}",
        f"- CPU: {m['cpu']}",
        f"- Memory (free -g): `{m['memory']}`",
        f"- OS: {m['kernel']}; Python {m['python']}",
        f"- R: {m['R']}",
        f"- deseq2-normalized {m['deseq2-normalized']} (git {m['git']})",
        f"- {m['PyDESeq2']}",
    ]
    for merged in record.get("merged", []):
        lines.append(
            f"- Merged into this record: `{merged['command']}`, {merged['started']} to {merged['finished']}, load "
            f"average at start {tuple(round(x, 2) for x in merged['load_start'])}, at end "
            f"{tuple(round(x, 2) for x in merged['load_end'])} (git {merged['machine']['git']})"
        )
    lines += [
        "",
        "Every tool does the same work: read the tab-separated normalized table, round it, fix every size "
        f"factor to 1, fit condition B vs A, test at alpha 0.1 and write the sorted results table and the "
        f"normalized counts (transform: `{record['args']['transform']}`; `none` leaves vst out of all three; "
        "this tool with `--no-report --plots none`, as the R script writes no report and no plots). "
        "Wall = elapsed time, CPU = user + system time of the process and its children, peak RSS = "
        "`ru_maxrss` (largest resident set of the process or any one child). Medians over the runs; the "
        "three tools ran alternately (the order rotates each repetition). The machine is shared with other "
        "engineers' test runs, so single runs are noisy; the load average of every run is in results.json.",
        "",
        "| size (genes x samples) | tool | runs | wall s (median) | wall s (min-max) | CPU s | peak RSS MiB "
        "| wall / bare R | RSS / bare R |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        if not any(r.size == size for r in runs):
            continue  # only extras at this size
        genes, n, _ = SIZES[size]
        base = summarize(runs, size, "bare Rscript")
        for tool in tools:
            s = summarize(runs, size, tool)
            ratio_w = s["wall"] / base["wall"] if base["n"] else float("nan")
            ratio_m = s["rss"] / base["rss"] if base["n"] else float("nan")
            if not s["n"] and not s["timed_out"]:
                continue  # not run at this size (e.g. a merged run of some of the tools)
            if not s["n"] and s["timed_out"]:
                lines.append(
                    f"| {size} ({genes:,} x {n}) | {tool} | 0 ({s['timed_out']} stopped) | > {fmt(s['lower_bound'])} "
                    f"| stopped at --timeout | n/a | n/a | > {fmt(s['lower_bound'] / base['wall'], 2)} | n/a |"
                )
                continue
            lines.append(
                f"| {size} ({genes:,} x {n}) | {tool} | {s['n']} | {fmt(s['wall'])} | {fmt(s['wall_min'])}-"
                f"{fmt(s['wall_max'])} | {fmt(s['cpu'])} | {fmt(s['rss'], 0)} | {fmt(ratio_w, 3)} | {fmt(ratio_m, 2)} |"
            )
    lines += ["", "## Do the results match?", ""]
    for size, cmp in record["checks"].items():
        for name, c in cmp.items():
            if not isinstance(c, dict) or "max_rel_diff" not in c:
                lines.append(f"- {size}, {name}: {c}")
                continue
            worst = ", ".join(f"{k} {v:.1e}" for k, v in c["max_rel_diff"].items())
            share = ", ".join(f"{k} {100 * v:.2f}%" for k, v in c["share_within"].items())
            calls = c.get("calls_padj_0.1", {})
            lines.append(
                f"- **{size}, {name}** (tolerance {c['rtol']:g} relative): "
                f"{'PASS' if c['passed'] else 'outside tolerance'}; same NA pattern: {c['na_pattern_same']}; "
                f"normalized counts equal: {c.get('normalized_counts_equal', 'n/a')}; largest relative difference: "
                f"{worst}; genes within tolerance: {share}; genes at padj < 0.1: {calls.get('reference')} vs "
                f"{calls.get('other')} ({calls.get('both')} in both)."
            )
    if extra:
        lines += [
            "",
            "## Extras (deseq2-normalized only)",
            "",
            "| size | variant | runs | wall s (median) | CPU s | peak RSS MiB |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for label in dict.fromkeys(r.tool for r in extra):
            for size in dict.fromkeys(r.size for r in extra if r.tool == label):
                ok = [r for r in extra if r.tool == label and r.size == size and r.returncode == 0]
                lines.append(
                    f"| {size} | {label} | {len(ok)} | {fmt(median([r.wall_s for r in ok]))} | "
                    f"{fmt(median([r.cpu_s for r in ok]))} | {fmt(median([r.maxrss_mib for r in ok]), 0)} |"
                )
    lines += targets(runs, extra, sizes, tools)
    lines += METHOD_NOTES
    lines.append("")
    return "\n".join(lines)


def targets(runs: list[Run], extra: list[Run], sizes: list[str], tools: list[str]) -> list[str]:
    """The issue's targets, each with the measured figure."""
    out = ["", "## Targets", ""]
    for size in sizes:
        ours, bare, py = (summarize(runs, size, t) for t in TOOLS)
        if ours["n"] and bare["n"]:
            w, m = ours["wall"] / bare["wall"], ours["rss"] / bare["rss"]
            out.append(
                f"- {size}: wall time {w:.3f}x the bare R script ({'holds' if w <= 1.05 else 'MISSED'}: target 1.05x; "
                f"{ours['wall'] - bare['wall']:+.1f} s); CPU {ours['cpu'] / bare['cpu']:.3f}x; peak memory {m:.2f}x "
                f"({'holds' if m <= 1.3 else 'MISSED'}: target 1.3x)."
            )
        if ours["n"] and "PyDESeq2" in tools:
            if py["n"]:
                verdict = "holds" if ours["wall"] < py["wall"] else "MISSED"
                out.append(f"- {size}: PyDESeq2 takes {py['wall'] / ours['wall']:.2f}x this tool's time ({verdict}).")
            elif py["timed_out"]:
                out.append(
                    f"- {size}: PyDESeq2 was stopped at {py['lower_bound']:.0f} s, more than "
                    f"{py['lower_bound'] / ours['wall']:.1f}x this tool's time (holds)."
                )

    def wall(label: str, size: str) -> float:
        return median([r.wall_s for r in extra if r.tool == label and r.size == size and r.returncode == 0])

    one, two = wall("threads 1", "medium"), wall("threads 2", "medium")
    if one == one and two == two:
        out.append(f"- medium: `--threads 2` {one / two:.2f}x faster than `--threads 1` ({one:.1f} s vs {two:.1f} s).")
    gam = wall("fit-type glmGamPoi", "large")
    default = summarize(runs, "large", "deseq2-normalized")["wall"]
    if gam == gam and default == default:
        out.append(f"- large: `--fit-type glmGamPoi` {default / gam:.2f}x faster than the default fit ({gam:.1f} s).")
    chk = [r for r in extra if r.tool == "check" and r.returncode == 0]
    if chk:
        out.append(
            f"- large: `deseq2-normalized check` {median([r.wall_s for r in chk]):.1f} s wall, "
            f"{median([r.maxrss_mib for r in chk]):.0f} MiB peak."
        )
    out += report_cost(runs, extra)
    return out


def report_cost(runs: list[Run], extra: list[Run]) -> list[str]:
    """What report.html and the plots add, per size: the tool's own time for that stage.

    The stage time comes from the progress line of each defaults run; a whole-run
    difference against the like-for-like runs would be lost in their run-to-run spread.
    """
    out = []
    for size in [s for s in SIZES if any(r.tool == REPORT and r.size == s for r in extra)]:
        ok = [r for r in extra if r.tool == REPORT and r.size == size and r.returncode == 0]
        if not ok:
            continue
        wall, cpu = median([r.wall_s for r in ok]), median([r.cpu_s for r in ok])
        load = median([r.load1 for r in ok])
        drawing = median([x for x in map(report_stage, ok) if x == x])
        base = summarize(runs, size, "deseq2-normalized")
        like = (
            f"; like-for-like runs (no report): {base['wall']:.1f} s wall, {base['cpu']:.1f} s CPU (median of "
            f"{base['n']})"
            if base["n"]
            else ""
        )
        if drawing == drawing:
            rest = wall - drawing
            out.append(
                f"- {size}: report and plots add {drawing:.1f} s ({100 * drawing / rest:.1f}%) at size {size}: the "
                f"tool's drawing stage, against {rest:.1f} s for the rest of the run (with them: {wall:.1f} s wall, "
                f"{cpu:.1f} s CPU, load {load:.1f}, median of {len(ok)}){like}."
            )
        elif base["n"]:
            added = wall - base["wall"]
            out.append(
                f"- {size}: report and plots add {added:+.1f} s ({100 * added / base['wall']:+.1f}%) "
                f"at size {size}, {cpu - base['cpu']:+.1f} s CPU: difference of the medians of the runs with them "
                f"and of the like-for-like runs (no stage times recorded)."
            )
    return out


METHOD_NOTES = [
    "",
    "## How the comparison is set up",
    "",
    "- **Same work.** `deseq2-normalized run --reference A --transform none --no-report --plots none` against "
    "`benchmarks/bare_deseq2.R` (read, `round`, `sizeFactors<-` 1, `DESeq`, `results(alpha = 0.1)`, sort, write "
    "the results and `counts(dds, normalized = TRUE)`) and `benchmarks/run_pydeseq2.py`. vst is left out of all "
    "three by default because it is an extra output, not part of the test; `--transform vst` runs it in all three. "
    "The tool's report.html and plot files (on by default) are left out the same way: the R script draws nothing.",
    "- **Report and plots** (`--extras report`, at every size): the tool with its defaults, report.html and the "
    "plots as PNGs and plots.pdf, and otherwise the same arguments. What they add is the time of the tool's own "
    "`drawing plots and report` stage (its progress line, which includes importing matplotlib), shown in Targets "
    "next to the whole run's wall and CPU time.",
    "- **This tool does more**: it also validates the table, runs the size-factor check and the table "
    "classification, extracts the dispersions and writes size_factors.tsv and diagnostics.json. All of it "
    "is counted in its time.",
    "- **The bare R script** reads and writes with data.table (`fread`/`fwrite`) when installed, as a "
    "performance-minded R user would (base R otherwise); R startup and loading DESeq2 (about 6-7 s here) are "
    "in both tools' times.",
    "- **PyDESeq2** runs with `n_cpus=1` (serial like DESeq2; `--pydeseq2-cpus` changes it), `alpha=0.1`, "
    "`refit_cooks=True`, and every size factor fixed to 1 by replacing `fit_size_factors`. Its results are "
    "compared with DESeq2's at 2% relative error, the tolerance PyDESeq2's own test suite uses against "
    "DESeq2 (log2FoldChange, pvalue, padj; same NA pattern). It is a re-implementation, so differences are "
    "reported, not treated as a benchmark failure. A run still going at `--timeout` is stopped and its time "
    "reported as a lower bound.",
    "- **Measurement.** Each run is a fresh process, timed with `os.wait4` (wall, user + system CPU, "
    "`ru_maxrss`). With `--threads 2` the BiocParallel workers are forked children: their CPU is included, "
    "their memory is not added up (ru_maxrss is the largest single process).",
    "- **Reproduce**: `make bench` (defaults: `--sizes small,medium,large --reps 5,3,1 --pydeseq2-reps 1 "
    '--timeout 600`), or for example `make bench BENCH_ARGS="--sizes small --reps 3 --extras none"`. '
    "Simulated matrices (fixed seeds, `benchmarks/simulate.py`) are cached in `benchmarks/data/`.",
]


if __name__ == "__main__":
    sys.exit(main())
