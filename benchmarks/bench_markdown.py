"""RESULTS.md from the benchmark's record.

The page gives the timings table, whether the results agree, the extras, the targets with their
measured figures and how the comparison is set up. A hand-written ``## Notes on this run`` section
at the end of the file is kept.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench_runs import PLAIN_READ, REPORT, SENSITIVITY, TIMED_OUT, TOOLS, Run, fit_stage, report_stage
from simulate import SIZES


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


def fmt(x: float, digits: int = 1) -> str:
    """A number for the table ('n/a' for nan)."""
    return "n/a" if x != x else f"{x:,.{digits}f}"


def render(record: dict, sizes: list[str], tools: list[str]) -> str:
    """RESULTS.md from the record.

    Parameters
    ----------
    record
        The raw record (``results.json``).
    sizes, tools
        The sizes and tools of the timings table, in its order.

    Returns
    -------
    str
        The generated text, without the hand-written notes.
    """
    runs = [Run(**r) for r in record["runs"]]
    extra = [Run(**r) for r in record["extra_runs"]]
    lines = _header(record)
    lines += _timings(runs, sizes, tools)
    lines += _agreement(record["checks"])
    lines += _extras(extra)
    lines += targets(runs, extra, sizes, tools)
    lines += METHOD_NOTES
    lines.append("")
    return "\n".join(lines)


def _header(record: dict) -> list[str]:
    """The title, when and where the benchmark ran, and the runs merged into its record."""
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
        "this tool with `--method round --no-report --plots none`, as the R script writes no report and no plots). "
        "Wall = elapsed time, CPU = user + system time of the process and its children, peak RSS = "
        "`ru_maxrss` (largest resident set of the process or any one child). Medians over the runs; the "
        "three tools ran alternately (the order rotates each repetition). The machine is shared with other "
        "engineers' test runs, so single runs are noisy; the load average of every run is in results.json.",
    ]
    return lines


def _timings(runs: list[Run], sizes: list[str], tools: list[str]) -> list[str]:
    """The table of the three tools' timings, each against the bare R script's."""
    lines = [
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
    return lines


def _agreement(checks: dict[str, dict]) -> list[str]:
    """Whether the results match: one line per size and comparison."""
    lines = ["", "## Do the results match?", ""]
    for size, cmp in checks.items():
        for name, c in cmp.items():
            if isinstance(c, dict) and "differing" in c:
                verdict = "PASS" if c["passed"] else f"DIFFER: {', '.join(c['differing']) or 'no tables'}"
                lines.append(
                    f"- **{size}, {name}**: {verdict}; {len(c['tables'])} tables compared byte for byte "
                    f"({', '.join(c['tables'])})."
                )
                continue
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
    return lines


def _extras(extra: list[Run]) -> list[str]:
    """The table of this tool's extra runs (none when there are none)."""
    if not extra:
        return []
    lines = [
        "",
        "## Extras (deseq2-normalized, and a plain pandas.read_csv beside check)",
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
    return lines


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
        out += fit_target(runs, size)
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
    out += sensitivity_threads(extra)
    gam = wall("fit-type glmGamPoi", "large")
    default = summarize(runs, "large", "deseq2-normalized")["wall"]
    if gam == gam and default == default:
        out.append(f"- large: `--fit-type glmGamPoi` {default / gam:.2f}x faster than the default fit ({gam:.1f} s).")
    out += check_target(extra)
    out += report_cost(runs, extra)
    return out


def check_target(extra: list[Run]) -> list[str]:
    """``deseq2-normalized check`` at the large size against a plain ``pandas.read_csv`` of the same file.

    Targets (issue 23, part 2): less wall time than the plain read (medians of the alternating
    runs), and a peak resident memory of at most 3 times the float64 matrix.
    """
    chk = [r for r in extra if r.tool == "check" and r.returncode == 0]
    if not chk:
        return []
    wall, peak = median([r.wall_s for r in chk]), max(r.maxrss_mib for r in chk)
    genes, samples, _ = SIZES["large"]
    times = peak / (genes * samples * 8 / 2**20)
    line = (
        f"- large: `deseq2-normalized check` {wall:.2f} s wall (median of {len(chk)}), peak {peak:.0f} MiB = "
        f"{times:.1f}x the float64 matrix ({'holds' if times <= 3 else 'MISSED'}: target 3x)"
    )
    plain = [r for r in extra if r.tool == PLAIN_READ and r.returncode == 0]
    if plain:
        read = median([r.wall_s for r in plain])
        load = median([r.load1 for r in chk + plain])
        line += (
            f"; a plain `pandas.read_csv` of the file {read:.2f} s, peak {max(r.maxrss_mib for r in plain):.0f} MiB "
            f"(check {wall / read:.2f}x its time, alternating, load {load:.1f}; "
            f"{'holds' if wall < read else 'MISSED'}: target under 1x)"
        )
    return [line + "."]


def fit_target(runs: list[Run], size: str) -> list[str]:
    """The fitting stage (DESeqDataSet, size factors, ``DESeq()``) of this tool against the bare R script's.

    Both print the stage's wall time (the tool's progress line, the R script's own line around
    the same calls); the ratio is that of the medians, and the pairs' ratios give its spread.
    """
    pair = [
        [r for r in runs if r.size == size and r.tool == tool and r.returncode == 0 and fit_stage(r) == fit_stage(r)]
        for tool in TOOLS[:2]
    ]
    if not pair[0] or not pair[1]:
        return []
    ours, bare = (median([fit_stage(r) for r in p]) for p in pair)
    by_rep = {r.rep: fit_stage(r) for r in pair[1]}
    ratios = sorted(fit_stage(r) / by_rep[r.rep] for r in pair[0] if r.rep in by_rep)
    spread = f"; per repetition {ratios[0]:.3f}-{ratios[-1]:.3f}" if len(ratios) > 1 else ""
    load = median([r.load1 for p in pair for r in p])
    ratio = ours / bare
    return [
        f"- {size}: fitting stage {ratio:.3f}x the same calls in the bare R script ({ours:.1f} s vs {bare:.1f} s, "
        f"medians of {len(pair[0])} and {len(pair[1])} alternating runs{spread}; load {load:.1f}; "
        f"{'holds' if ratio <= 1.03 else 'MISSED'}: target 1.03x)."
    ]


def sensitivity_threads(extra: list[Run]) -> list[str]:
    """``--rounding-sensitivity 4`` with two threads against one: the whole run and each stage (medians).

    With two threads the refits start beside the main fit, so the stages overlap: the refits'
    stage then times only what is left of them once this process joins in.
    """
    ok = {t: [r for r in extra if r.tool == SENSITIVITY.format(threads=t) and r.returncode == 0] for t in (1, 2)}
    if not ok[1] or not ok[2]:
        return []
    one, two = (median([r.wall_s for r in ok[t]]) for t in (1, 2))
    cpu = [median([r.cpu_s for r in ok[t]]) for t in (1, 2)]
    load = median([r.load1 for t in (1, 2) for r in ok[t]])
    verdict = "holds" if one / two >= 1.6 else "MISSED"
    stages = [name for name in ok[1][0].stages if any(name in r.stages for r in ok[2])]
    per_stage = "; ".join(
        f"{name} {median([r.stages[name] for r in ok[1] if name in r.stages]):.1f} s / "
        f"{median([r.stages[name] for r in ok[2] if name in r.stages]):.1f} s"
        for name in stages
    )
    return [
        f"- small: `--method round --rounding-sensitivity 4` (defaults: vst, report, plots): `--threads 2` "
        f"{one / two:.2f}x faster than `--threads 1` ({one:.1f} s vs {two:.1f} s wall, {cpu[0]:.1f} s vs "
        f"{cpu[1]:.1f} s CPU; {len(ok[1])} and {len(ok[2])} runs, alternating; load {load:.1f}; {verdict}: target "
        f"1.6x). Stage medians, one thread / two: {per_stage}."
    ]


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
    "- **Same work.** `deseq2-normalized run --reference A --transform none --method round --no-report --plots none` "
    "against "
    "`benchmarks/bare_deseq2.R` (read, `round`, `sizeFactors<-` 1, `DESeq`, `results(alpha = 0.1)`, sort, write "
    "the results and `counts(dds, normalized = TRUE)`) and `benchmarks/run_pydeseq2.py`. vst is left out of all "
    "three by default because it is an extra output, not part of the test; `--transform vst` runs it in all three. "
    "The tool's report.html and plot files (on by default) are left out the same way: the R script draws nothing.",
    "- **Report and plots** (`--extras report`, at every size): the tool with its defaults, report.html and the "
    "plots as PNGs and plots.pdf, and otherwise the same arguments. What they add is the time of the tool's own "
    "`drawing plots and report` stage (its progress line, which includes importing matplotlib), shown in Targets "
    "next to the whole run's wall and CPU time.",
    "- **Threads with rounding sensitivity** (`--extras threads-sensitivity`, at the small size): the tool with "
    "its defaults (vst, report.html, plots) and `--method round --rounding-sensitivity 4`, `--threads 1` against "
    "`--threads 2`, the order alternating per repetition; the two runs' tables must be byte-identical. With two "
    "threads the stages overlap (the refits run beside the main fit), so their stage times are not additive.",
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
    "their memory is not added up (ru_maxrss is the largest single process). Every command is started by a "
    "small process (`benchmarks/peak_rss.py`): Linux keeps a process's peak across `exec`, so a command forked "
    "from the benchmark itself would count the benchmark's own size.",
    "- **Reproduce**: `make bench` (defaults: `--sizes small,medium,large --reps 5,3,1 --pydeseq2-reps 1 "
    '--timeout 600`), or for example `make bench BENCH_ARGS="--sizes small --reps 3 --extras none"`. '
    "Simulated matrices (fixed seeds, `benchmarks/simulate.py`) are cached in `benchmarks/data/`.",
]


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
