"""``--prefilter N``: genes whose counts add up to less than N are left out before the fit.

The truth is DESeq2 on the raw counts pre-filtered as its vignette does
(``dds[rowSums(counts(dds)) >= N, ]`` before ``DESeq()``), which is also what the IUC DESeq2
Galaxy tool's pre-filter does.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from agreement import assert_agrees
from deseq2_normalized import run_analysis
from deseq2_normalized.analysis import _prefiltered
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.reader import read_counts, read_samples

STEM = "results_condition_treated_vs_untreated"


def test_the_kept_genes_are_those_whose_counts_add_up_to_the_minimum():
    counts = pd.DataFrame({"a": [0, 4, 5, 100], "b": [9, 5, 5, 0]}, index=["g0", "g1", "g2", "g3"])
    assert _prefiltered(counts, 0, "t") is None
    assert _prefiltered(counts, 10, "t").tolist() == [False, False, True, True]
    assert _prefiltered(counts, 9, "t").tolist() == [True, True, True, True]


def test_a_minimum_no_gene_reaches_is_an_input_error():
    counts = pd.DataFrame({"a": [1, 2], "b": [3, 4]}, index=["g0", "g1"])
    with pytest.raises(InputError, match=r"^t: --prefilter 100: no gene's counts add up to 100 or more$"):
        _prefiltered(counts, 100, "t")


def test_a_negative_minimum_is_refused():
    with pytest.raises(InputError, match="--prefilter must not be negative, got -1"):
        AnalysisOptions(prefilter=-1).validate()


@pytest.mark.r
def test_recovered_counts_prefiltered_equal_deseq2_on_the_raw_counts_prefiltered(
    tmp_path, raw_path, samples_path, normalized_path, rscript
):
    reference = tmp_path / "raw.tsv"
    rscript("raw_deseq2.R", raw_path, samples_path, reference, "10")
    result = run_analysis(
        read_counts(normalized_path),
        read_samples(samples_path),
        design="~ type + condition",
        reference="untreated",
        transform="none",
        prefilter=10,
    )
    raw = read_counts(raw_path)
    kept = raw.index[raw.sum(axis=1) >= 10]
    assert 0 < len(kept) < len(raw)
    ours = assert_agrees(result.results[STEM], reference)
    assert sorted(ours.index) == sorted(kept)
    record = build_diagnostics(result)
    assert record["method"]["name"] == "recover"
    assert record["input"]["genes"] == len(raw) and record["input"]["genes_fitted"] == len(kept)
    assert record["options"]["prefilter"] == 10
    assert "estimated on the genes --prefilter kept" in record["method"]["size_factors"]["why"]


@pytest.mark.r
def test_the_rounded_table_is_prefiltered_on_its_rounded_sums(tmp_path, cli, normalized_path, samples_path):
    out = tmp_path / "out"
    run = cli(
        "run", "--counts", normalized_path, "--samples", samples_path, "--out-dir", out,
        "--reference", "untreated", "--method", "round", "--prefilter", "50", "--transform", "none",
    )  # fmt: skip
    assert run.code == 0, run.err
    rounded = read_counts(normalized_path).round()
    kept = int((rounded.sum(axis=1) >= 50).sum())
    assert f"pre-filter: {kept} of {len(rounded)} genes have counts adding up to at least 50" in run.err
    table = pd.read_csv(out / f"{STEM}.tsv", sep="\t", index_col=0)
    normalized = pd.read_csv(out / "normalized_counts.tsv", sep="\t", index_col=0)
    assert len(table) == len(normalized) == kept
    assert (normalized.sum(axis=1) >= 50).all()
    record = json.loads((out / "diagnostics.json").read_text(encoding="utf-8"))
    assert record["input"]["genes_fitted"] == kept and record["options"]["prefilter"] == 50
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<th>pre-filter (minimum total count)</th><td>50</td>" in page
    assert f"<th>genes fitted</th><td>{kept:,}:" in page
