"""Rounding sensitivity: stochastic roundings and the stability of DE calls."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import rounding


def test_stochastic_roundings_are_unbiased_and_seeded():
    values = np.array([[0.0, 1.25, 7.5], [3.0, 0.1, 99.9]])
    draws = np.stack(list(rounding.stochastic_roundings(values, 4000, seed=3)))
    assert draws.dtype == np.int64
    assert ((draws == np.floor(values)) | (draws == np.ceil(values))).all()
    np.testing.assert_allclose(draws.mean(axis=0), values, atol=0.03)
    np.testing.assert_array_equal(
        draws[:, values == np.round(values)],
        np.broadcast_to(values[values == np.round(values)], draws[:, values == np.round(values)].shape),
    )
    again = np.stack(list(rounding.stochastic_roundings(values, 4000, seed=3)))
    np.testing.assert_array_equal(draws, again)
    other = np.stack(list(rounding.stochastic_roundings(values, 4000, seed=4)))
    assert not np.array_equal(draws, other)


def test_calls_agreement_and_summary():
    genes = ["g1", "g2", "g3", "g4"]
    main = rounding.calls(
        pd.DataFrame({"padj": [0.01, 0.5, np.nan, 0.05], "stat": [3.0, 1.0, 0.0, -4.0]}, index=genes), 0.1
    )
    assert main.tolist() == [1, 0, 0, -1]
    rerun1 = pd.Series([1, 0, 0, -1], index=genes)
    rerun2 = pd.Series([0, 1, 0, -1], index=genes)[::-1]  # order must not matter
    agree = rounding.agreement(main, [rerun1, rerun2])
    assert agree.tolist() == [1, 1, 2, 2]
    summary = rounding.summarize(main, [rerun1, rerun2], agree)
    assert summary.to_dict() == {
        "main_calls": 2,
        "called_in_any_run": 3,
        "unstable_calls": 2,
        "unstable_fraction": 2 / 3,
    }
    lrt = rounding.calls(pd.DataFrame({"padj": [0.01, 0.01], "stat": [-3.0, 5.0]}), 0.1, directional=False)
    assert lrt.tolist() == [1, 1]


@pytest.mark.r
def test_run_reports_rounding_sensitivity(tmp_path, normalized_path, samples_path, cli):
    from deseq2_normalized.reader import read_counts

    counts = tmp_path / "c.tsv"
    read_counts(normalized_path).iloc[:2500].to_csv(counts, sep="\t")
    run = cli("run", "--counts", counts, "--samples", samples_path, "--out-dir", tmp_path / "o", "--transform", "none",
              "--rounding-sensitivity", "3", "--seed", "5", "--method", "round")  # fmt: skip
    assert run.code == 0, run.err
    assert "changed their call in at least one of 3 stochastic roundings" in run.err
    table = pd.read_csv(tmp_path / "o" / "results_condition_untreated_vs_treated.tsv", sep="\t")
    assert table.columns[-1] == "rounding_agreement"
    assert table["rounding_agreement"].between(0, 3).all()
    assert (table["rounding_agreement"] == 3).mean() > 0.9
    diag = json.loads((tmp_path / "o" / "diagnostics.json").read_text())["rounding_sensitivity"]
    assert diag["roundings"] == 3 and diag["seed"] == 5
    summary = diag["contrasts"]["results_condition_untreated_vs_treated.tsv"]
    assert 0 < summary["main_calls"] <= summary["called_in_any_run"]
    # A call that differs from the main run's is a DE call in one of the two runs: unstable.
    assert summary["unstable_calls"] == (table["rounding_agreement"] < 3).sum()


#: Two contrasts, so that each refit's tables have to reach their own results file.
TWO_CONTRASTS = ("--design", "~ type + condition", "--contrast", "condition,treated,untreated",
                 "--contrast", "type,single_read,paired_end")  # fmt: skip


@pytest.mark.r
def test_threads_leave_every_table_and_the_rounding_agreement_unchanged(tmp_path, normalized_path, samples_path, cli):
    from deseq2_normalized.reader import read_counts

    counts = tmp_path / "c.tsv"
    read_counts(normalized_path).iloc[:1000].to_csv(counts, sep="\t")
    runs = {}
    for threads, plots in (("1", "none"), ("2", "png")):
        runs[threads] = cli("run", "--counts", counts, "--samples", samples_path, "--out-dir", tmp_path / threads,
                            "--transform", "none", "--no-report", "--plots", plots, "--method", "round",
                            "--rounding-sensitivity", "2", "--seed", "7", *TWO_CONTRASTS,
                            "--threads", threads)  # fmt: skip
        assert runs[threads].code == 0, runs[threads].err
    # With two threads the refits ran in a forked R process beside the main fit, as well as in this
    # one once it had drawn the plots.
    err = runs["2"].err
    assert "2 refits started in 1 forked R process beside the main fit" in err
    assert err.index("drawing plots: done") < err.index("rounding sensitivity: 2 refits: done")
    assert (tmp_path / "2" / "plots" / "dispersion.png").stat().st_size > 0
    assert "forked" not in runs["1"].err
    names = sorted(p.name for p in (tmp_path / "1").glob("*.tsv"))
    assert names == sorted(p.name for p in (tmp_path / "2").glob("*.tsv"))
    results = [n for n in names if n.startswith("results_")]
    assert results == ["results_condition_treated_vs_untreated.tsv", "results_type_single_read_vs_paired_end.tsv"]
    for name in names:
        one = pd.read_csv(tmp_path / "1" / name, sep="\t")
        pd.testing.assert_frame_equal(one, pd.read_csv(tmp_path / "2" / name, sep="\t"), check_exact=True)
    agreement = {n: pd.read_csv(tmp_path / "1" / n, sep="\t", index_col=0)["rounding_agreement"] for n in results}
    assert all(a.between(0, 2).all() and (a < 2).any() for a in agreement.values())
    diag = [json.loads((tmp_path / t / "diagnostics.json").read_text())["rounding_sensitivity"] for t in ("1", "2")]
    assert diag[0] == diag[1]


@pytest.mark.r
def test_refits_in_forked_processes_equal_one_fit_per_rounding(normalized_path, samples_path):
    """Against single fits: each rounding fitted alone, serially, then tested per contrast."""
    from deseq2_normalized import rbackend
    from deseq2_normalized.analysis import AnalysisOptions, check_table
    from deseq2_normalized.planning import plan_run
    from deseq2_normalized.reader import read_counts, read_samples

    values = read_counts(normalized_path).iloc[:1000]
    opts = AnalysisOptions(design="~ type + condition", contrasts=(("condition", "treated", "untreated"),
                           ("type", "single_read", "paired_end")))  # fmt: skip
    checked = check_table(values, read_samples(samples_path))
    assert checked.samples is not None
    plan = plan_run(opts, checked.samples)
    design = plan.design.r_formula(plan.aliases)
    contrasts = [contrast for _, contrast in plan.tests]
    roundings = list(rounding.stochastic_roundings(checked.counts.to_numpy(), 2, seed=11))
    pending = rbackend.start_refits(
        iter(roundings), checked.counts.index, plan.coldata, plan.aliases, design, contrasts=contrasts, test="wald",
        reduced=None, fit_options=opts.fit_options, results_options=opts.results_options, threads=2,
    )  # fmt: skip
    assert pending.forks == 1
    tables = rbackend.collect_refits(pending)
    assert len(tables) == 2 and all(len(refit) == 2 for refit in tables)
    for matrix, refit in zip(roundings, tables, strict=True):
        frame = pd.DataFrame(matrix, index=checked.counts.index, columns=checked.counts.columns)
        model = rbackend.fit(frame, plan.coldata, plan.aliases, design, np.ones(frame.shape[1]), test="wald",
                             reduced=None, options=opts.fit_options, threads=1)  # fmt: skip
        for contrast, table in zip(contrasts, refit, strict=True):
            alone = rbackend.results(model, contrast, opts.results_options)
            pd.testing.assert_frame_equal(table, alone, check_exact=True)
    # The roundings differ, and so do their results.
    assert not tables[0][0]["stat"].equals(tables[1][0]["stat"])


@pytest.mark.r
def test_a_failing_refit_is_an_r_error_and_leaves_no_process_behind(normalized_path, samples_path):
    from deseq2_normalized import rbackend
    from deseq2_normalized.analysis import AnalysisOptions, check_table
    from deseq2_normalized.errors import RError
    from deseq2_normalized.planning import plan_run
    from deseq2_normalized.reader import read_counts, read_samples

    checked = check_table(read_counts(normalized_path).iloc[:300], read_samples(samples_path))
    assert checked.samples is not None
    opts = AnalysisOptions()
    plan = plan_run(opts, checked.samples)

    def start(fit_type: str) -> rbackend.PendingRefits:
        return rbackend.start_refits(
            rounding.stochastic_roundings(checked.counts.to_numpy(), 2, seed=1), checked.counts.index, plan.coldata,
            plan.aliases, plan.design.r_formula(plan.aliases), contrasts=[c for _, c in plan.tests], test="wald",
            reduced=None, fit_options=replace(opts.fit_options, fit_type=fit_type),
            results_options=opts.results_options, threads=2,
        )  # fmt: skip

    def child_pids(pending: rbackend.PendingRefits) -> list[int]:
        return [int(job.rx2("pid")[0]) for job in pending.handle.rx2("children")]

    def gone(pid: int) -> bool:
        # Collected, a child may still be exiting for a moment; a zombie (never waited for) stays.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
        return False

    failing = start("no-such-fit")
    pids = child_pids(failing)
    assert len(pids) == 1
    with pytest.raises(RError, match="should be one of"):
        rbackend.collect_refits(failing)
    assert all(gone(pid) for pid in pids)
    stopped = start("parametric")
    pids = child_pids(stopped)
    rbackend.stop_refits(stopped)
    assert len(pids) == 1 and all(gone(pid) for pid in pids)


@pytest.mark.r
def test_collecting_the_refits_gives_a_new_result_and_leaves_the_old_one(normalized_path, samples_path):
    """A result is never changed once built: collecting the refits returns another one; stopping after it is safe."""
    from deseq2_normalized.analysis import run_analysis
    from deseq2_normalized.reader import read_counts, read_samples

    values = read_counts(normalized_path).iloc[:1000]
    result = run_analysis(
        values, read_samples(samples_path), design="~ condition", method="round", transform="none",
        rounding_sensitivity=2, threads=2, wait_for_refits=False,
    )  # fmt: skip
    assert result.pending_refits is not None and result.rounding_sensitivity is None
    before = {stem: table.copy() for stem, table in result.results.items()}
    collected = result.collect_refits()
    assert collected is not result and collected.pending_refits is None
    assert collected.rounding_sensitivity is not None and collected.rounding_sensitivity.roundings == 2
    for stem, table in result.results.items():
        pd.testing.assert_frame_equal(table, before[stem], check_exact=True)
        assert "rounding_agreement" not in table.columns
        with_agreement = collected.results[stem]
        assert list(with_agreement.columns) == [*table.columns, "rounding_agreement"]
        assert with_agreement["rounding_agreement"].between(0, 2).all()
    result.stop_refits()  # the handle was collected: nothing left to stop, nothing killed
    assert collected.collect_refits() is collected
    with pytest.raises(RuntimeError, match="already collected"):
        result.collect_refits()
