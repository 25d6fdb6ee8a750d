"""The timed runs of the benchmark: the command line of each tool, one timed process, one run.

Each run is a fresh process timed with ``os.wait4``: wall time, CPU time (user + system of the
process and its waited-for children) and peak resident memory (``ru_maxrss``: the largest of the
process and its children, not their sum, measured by ``peak_rss.py`` from the command's start).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

log = logging.getLogger("bench")

#: Every timed command runs under this small process, which reports the command's own peak memory
#: (a command forked from this large process would count this process's size as its own).
PEAK_RSS = (sys.executable, "-I", str(HERE / "peak_rss.py"))

TOOLS = ("deseq2-normalized", "bare Rscript", "PyDESeq2")
#: Label of the report extra's runs (the tool with its defaults: report.html and plots both).
REPORT = "defaults (report + plots)"
#: Label of the threads-sensitivity extra's runs (``--rounding-sensitivity 4``, the tool's defaults).
SENSITIVITY = "sensitivity 4, threads {threads}"
#: The arguments that make this tool do the bare R script's work: the rounding method (the default,
#: auto, would recover the simulated raw counts instead), no report, no plot files.
LIKE_FOR_LIKE = ("--method", "round", "--no-report", "--plots", "none")
#: A finished stage: the tool's progress line ``deseq2-normalized: NAME: done in 1.2 s``, or the bare
#: R script's line for its fit, ``bare_deseq2.R: fitting: done in 1.23 s``.
STAGE_LINE = re.compile(
    r"^(?:deseq2-normalized|bare_deseq2\.R): (?P<name>.+): done in (?P<seconds>[0-9.]+) s$", re.MULTILINE
)
#: Exit code recorded for a run stopped at ``--timeout``.
TIMED_OUT = -9


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


@dataclass(frozen=True)
class Setup:
    """How the tools are run.

    Their virtualenvs (relative to the repository root, or absolute), the transform all three
    apply, PyDESeq2's CPUs and the time after which a run is stopped.
    """

    venv: str
    bench_venv: str
    transform: str
    pydeseq2_cpus: int
    timeout: float

    @property
    def tool(self) -> str:
        """The console script of deseq2-normalized (this tool)."""
        return str(ROOT / self.venv / "bin" / "deseq2-normalized")

    @property
    def bench_python(self) -> Path:
        """The Python of PyDESeq2's virtualenv."""
        return ROOT / self.bench_venv / "bin" / "python"


def timed(cmd: list[str], log_path: Path, timeout: float) -> tuple[float, float, float, int]:
    """Run ``cmd`` from the repository root, its output to ``log_path``.

    Parameters
    ----------
    cmd
        The command line.
    log_path
        File for the command's stdout and stderr.
    timeout
        Seconds after which the run is killed (with its children) and reported with exit code
        :data:`TIMED_OUT`; its wall time is then a lower bound.

    Returns
    -------
    tuple of (float, float, float, int)
        Wall seconds, CPU seconds, peak RSS (MiB) and the exit code.
    """
    peak_file = log_path.with_name(log_path.name + ".peak")
    peak_file.unlink(missing_ok=True)
    with open(log_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*PEAK_RSS, str(peak_file), *cmd], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if not killed and time.perf_counter() - start > timeout:
                os.killpg(proc.pid, 9)
                killed = True
            time.sleep(0.05)
        wall = time.perf_counter() - start
    proc.returncode = TIMED_OUT if killed else os.waitstatus_to_exitcode(status)
    peak = int(peak_file.read_text()) if peak_file.exists() else usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, peak / 1024, proc.returncode


def commands(
    tool: str,
    counts: Path,
    samples: Path,
    out: Path,
    setup: Setup,
    extra: tuple[str, ...] = (),
    *,
    report: bool = False,
) -> list[str]:
    """The command line of ``tool`` on one matrix.

    Parameters
    ----------
    tool
        One of :data:`TOOLS`.
    counts, samples
        The normalized matrix and its sample sheet.
    out
        Output folder of the run.
    setup
        Virtualenvs, transform and PyDESeq2's CPUs.
    extra
        Further arguments (this tool and the bare R script).
    report
        This tool runs like for like (no report, no plot files) unless ``report``: then with its
        defaults, report.html and plots as PNG and PDF.

    Returns
    -------
    list of str
        The command line.
    """
    if tool == "deseq2-normalized":
        return [
            setup.tool,
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
            setup.transform,
            *(() if report else LIKE_FOR_LIKE),
            *extra,
        ]
    if tool == "bare Rscript":
        return ["Rscript", str(HERE / "bare_deseq2.R"), str(counts), str(samples), str(out), setup.transform, *extra]
    if tool == "PyDESeq2":
        return [
            str(setup.bench_python),
            str(HERE / "run_pydeseq2.py"),
            str(counts),
            str(samples),
            str(out),
            "--transform",
            setup.transform,
            "--cpus",
            str(setup.pydeseq2_cpus),
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


def fit_stage(run: Run) -> float:
    """Wall seconds of the run's fit (DESeqDataSet, size factors, ``DESeq()``), nan when absent."""
    times = [s for name, s in run.stages.items() if name.startswith("fitting")]
    return times[0] if len(times) == 1 else float("nan")


def report_stage(run: Run) -> float:
    """Wall seconds of the run's report and plots stage (``drawing ...``), nan when absent."""
    times = [s for name, s in run.stages.items() if name.startswith("drawing")]
    return sum(times) if times else float("nan")


def _fresh(out: Path) -> None:
    """An empty output folder ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)


def _logged(run: Run, label: str) -> Run:
    """``run``, once its figures are logged under ``label``."""
    log.info(
        "%s %s rep %d: %.1f s wall, %.1f s CPU, %.0f MiB, exit %d (load %.2f)",
        run.size,
        label,
        run.rep + 1,
        run.wall_s,
        run.cpu_s,
        run.maxrss_mib,
        run.returncode,
        run.load1,
    )
    return run


def run_tool(tool: str, size: str, rep: int, counts: Path, samples: Path, work: Path, setup: Setup) -> Run:
    """One like-for-like run of ``tool``, in ``work/SIZE/TOOL/REP`` (its log beside that folder).

    Parameters
    ----------
    tool
        One of :data:`TOOLS`.
    size, rep
        The size's name and the repetition (from 0).
    counts, samples
        The normalized matrix and its sample sheet.
    work
        Scratch folder of the benchmark.
    setup
        How the tools are run.

    Returns
    -------
    Run
        The run's figures (and this tool's stage times).
    """
    out = work / size / tool.replace(" ", "_") / str(rep)
    _fresh(out)
    la = load1()
    log_path = out.parent / f"{rep}.log"
    wall, cpu, rss, rc = timed(commands(tool, counts, samples, out, setup), log_path, setup.timeout)
    stages = stage_times(log_path) if tool != "PyDESeq2" else {}
    run = _logged(Run(tool, size, rep, wall, cpu, rss, rc, la, stages), tool)
    if rc == TIMED_OUT:
        log.warning("%s stopped after --timeout %g s", tool, setup.timeout)
    elif rc != 0:
        log.error("%s failed; see %s", tool, log_path)
    return run


def run_extra(
    label: str,
    size: str,
    rep: int,
    counts: Path,
    samples: Path,
    work: Path,
    setup: Setup,
    extra: tuple[str, ...],
    *,
    report: bool = False,
) -> Run:
    """One extra run of this tool (threads, fit type; with ``report``, the tool's defaults).

    Parameters
    ----------
    label
        The variant's name, recorded as the run's tool.
    size, rep, counts, samples, work, setup
        As for :func:`run_tool`.
    extra
        The variant's arguments.
    report
        Run with the tool's defaults (report.html and plots) instead of like for like.

    Returns
    -------
    Run
        The run's figures and stage times.
    """
    out = work / size / run_dir(label) / str(rep)
    _fresh(out)
    la = load1()
    log_path = out.parent / f"{rep}.log"
    cmd = commands("deseq2-normalized", counts, samples, out, setup, extra, report=report)
    wall, cpu, rss, rc = timed(cmd, log_path, setup.timeout)
    return _logged(Run(label, size, rep, wall, cpu, rss, rc, la, stage_times(log_path)), label)


def run_dir(label: str) -> str:
    """The folder name of an extra's runs (one folder per repetition in it)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", label)


#: Label of the check extra's baseline: a process that imports pandas and reads the matrix with
#: ``pandas.read_csv``'s defaults (the gene IDs as index), as ``benchmarks/scale_check.py`` does.
PLAIN_READ = "pandas.read_csv"
_PLAIN_READ_CODE = "import sys, pandas; pandas.read_csv(sys.argv[1], sep='\\t', index_col=0)"


def run_check(size: str, rep: int, counts: Path, samples: Path, work: Path, setup: Setup) -> Run:
    """One run of ``deseq2-normalized check`` on the matrix, its log in ``work/check_REP.log``."""
    cmd = [setup.tool, "check", "--counts", str(counts), "--samples", str(samples)]
    la = load1()
    wall, cpu, rss, rc = timed(cmd, work / f"check_{rep}.log", setup.timeout)
    log.info("check %s rep %d: %.1f s wall, %.0f MiB, exit %d", size, rep + 1, wall, rss, rc)
    return Run("check", size, rep, wall, cpu, rss, rc, la)


def run_plain_read(size: str, rep: int, counts: Path, work: Path, setup: Setup) -> Run:
    """One plain ``pandas.read_csv`` of the matrix in a fresh process of this tool's Python: check's baseline."""
    cmd = [str(Path(setup.tool).with_name("python")), "-c", _PLAIN_READ_CODE, str(counts)]
    la = load1()
    wall, cpu, rss, rc = timed(cmd, work / f"plain_read_{rep}.log", setup.timeout)
    log.info("%s %s rep %d: %.1f s wall, %.0f MiB, exit %d", PLAIN_READ, size, rep + 1, wall, rss, rc)
    return Run(PLAIN_READ, size, rep, wall, cpu, rss, rc, la)
