"""Benchmark ``deseq2-normalized run`` against a bare Rscript and PyDESeq2.

For every size: simulate the matrix (cached in ``benchmarks/data``), then run the three
tools ``--reps`` times each, alternating (the order rotates every repetition), measuring
per run the wall time, the CPU time (user + system of the process and its waited-for
children, from ``os.wait4``) and the peak resident memory (``ru_maxrss``: the largest of the
process and its children, not their sum). Then check that the results agree and write
``benchmarks/RESULTS.md`` (and the raw runs to ``benchmarks/results.json``).

The like-for-like run of this tool passes ``--method round --no-report --plots none``: the bare
R script rounds and writes no report and no plots, so the tool does the same when the two are
compared (its default method, auto, would recover the simulated raw counts instead).

Extras (``--extras``): ``--threads 2`` against ``--threads 1`` at the medium size, the same
with ``--method round --rounding-sensitivity 4`` and the tool's defaults (vst, report.html and
plots) at the small size (``threads-sensitivity``: the refits run in parallel; the two runs'
tables must be byte-identical), the glmGamPoi fit against the default parametric fit at the
large size, ``deseq2-normalized check`` at the large size, and the tool with its defaults
(report.html and plots as PNG and PDF) at every size, which measures what the report costs.

Usage::

    python benchmarks/run.py [--sizes small,medium,large] [--reps 5,3,1] [--extras threads,glmgampoi,check,report]

Only the rounding-sensitivity threads comparison, 5 alternating pairs, kept apart from the record::

    python benchmarks/run.py --sizes small --reps 0 --extras threads-sensitivity --extra-reps 5 \
        --json /tmp/ts.json --out /tmp/ts.md

Only the report extra, merged into the existing record (no other tool is run)::

    python benchmarks/run.py --sizes small,medium,large --reps 0 --extras report --merge

This file is the command line and the order of the runs; beside it, ``bench_runs.py`` times one
run of a tool, ``bench_agreement.py`` checks that the results agree, ``bench_record.py`` builds
and merges results.json and ``bench_markdown.py`` writes RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # benchmarks/ is not a package: its modules import each other by name

from bench_agreement import check_size, compare_glmgampoi, compare_threads  # noqa: E402
from bench_markdown import render, write_results  # noqa: E402
from bench_record import merge, new_record, sizes_and_tools  # noqa: E402
from bench_runs import (  # noqa: E402
    REPORT,
    ROOT,
    SENSITIVITY,
    TIMED_OUT,
    TOOLS,
    Run,
    Setup,
    run_check,
    run_dir,
    run_extra,
    run_plain_read,
    run_tool,
)
from simulate import SIZES, simulate  # noqa: E402

log = logging.getLogger("bench")

EXTRAS = ("threads", "threads-sensitivity", "glmgampoi", "check", "report")


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
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
        help="comma-separated: threads (medium), threads-sensitivity (small: --rounding-sensitivity 4 with "
        "--threads 1 and 2), glmgampoi, check (large), report (every size: the tool's defaults, report.html and "
        "plots), or none",
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
    return parser


@dataclass(frozen=True)
class Plan:
    """What to run: the sizes with their repetitions, the tools, the extras and their repetitions."""

    sizes: list[str]
    reps: dict[str, int]
    tools: list[str]
    extras: list[str]
    extra_reps: int
    pydeseq2_reps: int


def plan_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Plan:
    """The plan the arguments ask for.

    A usage error (exit 2) for an unknown extra, or for a missing PyDESeq2 virtualenv when
    PyDESeq2 is to run.
    """
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
    return Plan(sizes, reps, tools, extras, args.extra_reps, args.pydeseq2_reps)


@dataclass
class Outcome:
    """What the benchmark has measured so far."""

    runs: list[Run] = field(default_factory=list)
    extra_runs: list[Run] = field(default_factory=list)
    checks: dict[str, dict[str, object]] = field(default_factory=dict)
    check_detail: dict[str, object] = field(default_factory=dict)


def matrix(size: str, data: Path) -> tuple[Path, Path]:
    """The simulated matrix of ``size`` and its sample sheet, simulated into ``data`` when not cached."""
    genes, n_samples, seed = SIZES[size]
    counts = data / f"counts_{genes}x{n_samples}.tsv"
    samples = data / f"samples_{genes}x{n_samples}.tsv"
    if not counts.exists() or not samples.exists():
        simulate(genes, n_samples, seed, data)
    return counts, samples


def bench_size(size: str, plan: Plan, setup: Setup, data: Path, work: Path, outcome: Outcome) -> None:
    """Time the tools at one size, check their results and run the extras of that size.

    Parameters
    ----------
    size
        A name in ``simulate.SIZES``.
    plan, setup
        What to run, and how.
    data
        Cache of simulated matrices.
    work
        Scratch folder for the runs' outputs.
    outcome
        Receives the runs, the results check of the size and the ``check`` extra's detail.
    """
    counts, samples = matrix(size, data)
    for rep in range(plan.reps[size]):
        order = plan.tools[rep % len(plan.tools) :] + plan.tools[: rep % len(plan.tools)]
        for tool in order:
            if tool == "PyDESeq2" and rep >= plan.pydeseq2_reps:
                continue
            outcome.runs.append(run_tool(tool, size, rep, counts, samples, work, setup))
    outcome.checks[size] = check_size(work / size)
    log.info("%s: results check %s", size, json.dumps(outcome.checks[size]))

    def extra(label: str, rep: int, args: tuple[str, ...], *, report: bool = False) -> None:
        outcome.extra_runs.append(run_extra(label, size, rep, counts, samples, work, setup, args, report=report))

    if size == "medium" and "threads" in plan.extras:
        for rep in range(plan.extra_reps):
            for threads in (1, 2) if rep % 2 == 0 else (2, 1):
                extra(f"threads {threads}", rep, ("--threads", str(threads)))
    if size == "small" and "threads-sensitivity" in plan.extras:
        # The command: the rounding method with 4 stochastic roundings and the tool's defaults
        # (vst, report.html, plots), one thread against two, the order alternating per repetition.
        for rep in range(plan.extra_reps):
            for threads in (1, 2) if rep % 2 == 0 else (2, 1):
                args = ("--method", "round", "--transform", "vst", "--rounding-sensitivity", "4")
                extra(SENSITIVITY.format(threads=threads), rep, (*args, "--threads", str(threads)), report=True)
        labels = (run_dir(SENSITIVITY.format(threads=1)), run_dir(SENSITIVITY.format(threads=2)))
        outcome.checks[size]["deseq2-normalized rounding sensitivity, threads 2 vs 1"] = compare_threads(
            work / size, labels
        )
    if size == "large" and "glmgampoi" in plan.extras:
        for rep in range(plan.extra_reps):
            extra("fit-type glmGamPoi", rep, ("--fit-type", "glmGamPoi"))
        outcome.checks[size]["deseq2-normalized glmGamPoi vs parametric"] = compare_glmgampoi(work / size)
    if size == "large" and "check" in plan.extras:
        # Issue 23's target: check takes less wall time than a plain read of the same file; the two
        # alternate, so that both see the same machine.
        for rep in range(max(plan.extra_reps, 3)):
            for is_check in (True, False) if rep % 2 == 0 else (False, True):
                if is_check:
                    outcome.extra_runs.append(run_check(size, rep, counts, samples, work, setup))
                else:
                    outcome.extra_runs.append(run_plain_read(size, rep, counts, work, setup))
        outcome.check_detail = {"stage_times": (work / "check_0.log").read_text(errors="replace")}
    if "report" in plan.extras:
        for rep in range(plan.extra_reps):
            extra(REPORT, rep, (), report=True)


def exit_status(outcome: Outcome) -> int:
    """1 when a run failed (other than stopped at --timeout) or a strict results check did not pass, else 0."""
    failed = [r for r in outcome.runs + outcome.extra_runs if r.returncode not in (0, TIMED_OUT)]
    bad = [
        name
        for c in outcome.checks.values()
        for name, v in c.items()
        if isinstance(v, dict) and v.get("strict", True) and not v.get("passed", False)
    ]
    return 1 if failed or bad else 0


def render_only(args: argparse.Namespace) -> int:
    """Rewrite RESULTS.md (``--out``) from the record (``--json``)."""
    record = json.loads(args.json.read_text(encoding="utf-8"))
    sizes, tools = sizes_and_tools(record)
    write_results(args.out, render(record, sizes, tools))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmark, write results.json and RESULTS.md.

    Parameters
    ----------
    argv
        The arguments (default: the process's).

    Returns
    -------
    int
        0 when every run finished and the strict results checks passed, else 1.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.render_only:
        return render_only(args)
    logging.basicConfig(
        level=logging.INFO, format="bench %(asctime)s: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    plan = plan_of(args, parser)
    setup = Setup(args.venv, args.bench_venv, args.transform, args.pydeseq2_cpus, args.timeout)
    command = " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])

    started = dt.datetime.now()
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="deseq2-normalized-bench-"))
    outcome = Outcome()
    try:
        for size in plan.sizes:
            bench_size(size, plan, setup, args.data, work, outcome)
    finally:
        record = new_record(
            started,
            load_start,
            command,
            {k: str(v) for k, v in vars(args).items()},
            outcome.runs,
            outcome.extra_runs,
            outcome.checks,
            outcome.check_detail,
        )
        sizes, tools = plan.sizes, plan.tools
        if args.merge and args.json.exists():
            record = merge(json.loads(args.json.read_text(encoding="utf-8")), record)
            sizes, tools = sizes_and_tools(record)
        args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        if write_results(args.out, render(record, sizes, tools)) and not args.merge:
            log.warning("kept the hand-written notes at the end of %s: check that they still fit this run", args.out)
        log.info("wrote %s and %s (scratch outputs in %s)", args.out, args.json, work)
    shutil.rmtree(work, ignore_errors=True)
    return exit_status(outcome)


if __name__ == "__main__":
    sys.exit(main())
