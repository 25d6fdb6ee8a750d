"""Time (or profile) the report and plots of a run on a benchmark matrix, without rerunning DESeq2.

The first call per size runs the analysis in-process as the benchmark does (``run --reference
A --transform none``) and caches the result, without its R model, in ``benchmarks/data/``;
later calls only draw. Prints wall and CPU seconds per plot (best of ``--reps``) and of the
whole drawing (every plot as PNG and as a page of plots.pdf, then report.html), and the
output sizes; ``--profile`` adds a cProfile listing of one drawing.

Usage::

    python benchmarks/profile_report.py --size large [--reps 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import pickle
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from simulate import SIZES, simulate  # noqa: E402

PLOT_FUNCTIONS = (
    "size_factor_plot",
    "dispersion_plot",
    "pca_plot",
    "sample_distance_plot",
    "ma_plot",
    "volcano_plot",
    "pvalue_histogram",
)


def analysis_result(size: str, data: Path) -> Any:
    """The run's AnalysisResult (model dropped), from the cache or computed and cached."""
    genes, n, seed = SIZES[size]
    cache = data / f"report_result_{genes}x{n}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from deseq2_normalized.analysis import AnalysisOptions, run_analysis
    from deseq2_normalized.reader import read_counts, read_samples

    counts_path, samples_path = data / f"counts_{genes}x{n}.tsv", data / f"samples_{genes}x{n}.tsv"
    if not counts_path.exists() or not samples_path.exists():
        simulate(genes, n, seed, data)
    options = AnalysisOptions(reference="A", transform="none")
    result = run_analysis(read_counts(counts_path), read_samples(samples_path), options, source=str(counts_path))
    # The fitted R model cannot be pickled, and the report does not read it.
    result = dataclasses.replace(result, model=None)  # type: ignore[arg-type]
    cache.write_bytes(pickle.dumps(result))
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="large")
    parser.add_argument("--reps", type=int, default=3, help="drawings to time (default 3)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile listing of one drawing")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="cache of matrices and results")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import deseq2_normalized.plots as plots
    from deseq2_normalized.figures import draw_run_plots
    from deseq2_normalized.report import write_report
    from deseq2_normalized.results import InputNames

    imported = time.perf_counter() - start
    result = analysis_result(args.size, args.data)

    per_plot: dict[str, list[tuple[float, float]]] = {}

    def timed(name: str) -> None:
        function = getattr(plots, name)

        @functools.wraps(function)
        def wrapper(*a: Any, **k: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*a, **k)
            finally:
                per_plot.setdefault(name, []).append((time.perf_counter() - wall, time.process_time() - cpu))

        setattr(plots, name, wrapper)

    for name in PLOT_FUNCTIONS:
        timed(name)
    work = Path(tempfile.mkdtemp(prefix="profile-report-"))
    totals = []
    profiler = cProfile.Profile() if args.profile else None
    try:
        for rep in range(args.reps):
            out = work / str(rep)
            (out / "plots").mkdir(parents=True)
            if profiler is not None and rep == args.reps - 1:
                profiler.enable()
            wall, cpu = time.perf_counter(), time.process_time()
            drawn = draw_run_plots(result, out / "plots", out / "plots.pdf")
            write_report(result, drawn, out / "report.html", inputs=InputNames(args.size))
            totals.append((time.perf_counter() - wall, time.process_time() - cpu))
            if profiler is not None and rep == args.reps - 1:
                profiler.disable()
        genes, n, _ = SIZES[args.size]
        print(f"{args.size} ({genes:,} x {n}): importing the plot and report modules {imported:.2f} s")
        for name, runs in per_plot.items():
            print(f"  {name}: {min(w for w, _ in runs):.2f} s wall, {min(c for _, c in runs):.2f} s CPU (best)")
        print("  drawing + report, wall / CPU s per repetition: " + ", ".join(f"{w:.2f} / {c:.2f}" for w, c in totals))
        last = work / str(args.reps - 1)
        sizes = {p.relative_to(last): p.stat().st_size for p in sorted(last.rglob("*")) if p.is_file()}
        print("  files: " + ", ".join(f"{p} {b / 1024:.0f} KiB" for p, b in sizes.items()))
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
