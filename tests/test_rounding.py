"""Rounding sensitivity: stochastic roundings and the stability of DE calls."""

from __future__ import annotations

import json

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
    assert summary == {"main_calls": 2, "called_in_any_run": 3, "unstable_calls": 2, "unstable_fraction": 2 / 3}
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
