"""The tool's results equal the recipe applied directly in R (round, size factors 1, DESeq)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import run_analysis
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.reader import read_counts, read_samples

pytestmark = pytest.mark.r

RTOL = 1e-8


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, normalized_path: Path, samples_path: Path, rscript) -> Path:
    out = tmp_path_factory.mktemp("reference")
    rscript("reference_recipe.R", normalized_path, samples_path, out)
    return out


@pytest.fixture(scope="module")
def counts(normalized_path: Path) -> pd.DataFrame:
    return read_counts(normalized_path)


@pytest.fixture(scope="module")
def samples(samples_path: Path) -> pd.DataFrame:
    sheet = read_samples(samples_path).table
    untreated = "untreated_" + sheet["type"].str.replace("_.*", "", regex=True)
    sheet["group"] = np.where(sheet["condition"] == "treated", "treated", untreated)
    return sheet


def assert_same(ours: pd.DataFrame, reference_file: Path) -> None:
    ref = pd.read_csv(reference_file, sep="\t", index_col=0)
    ours = ours.loc[ref.index]  # ours is sorted by padj; compare gene by gene
    assert len(ours) == len(ref) > 10_000
    for col in ("log2FoldChange", "pvalue", "padj"):
        a, b = ours[col].to_numpy(), ref[col].to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NA pattern of {col}")
        finite = ~np.isnan(a)
        np.testing.assert_allclose(a[finite], b[finite], rtol=RTOL, atol=0, err_msg=col)
    assert (ours["padj"] < 0.1).sum() > 100  # a real signal, not an empty comparison


def test_one_factor(counts, samples, reference):
    res = run_analysis(counts, samples[["condition", "type"]], reference="untreated", transform="none", method="round")
    assert list(res.results) == ["results_condition_treated_vs_untreated"]
    assert_same(res.results["results_condition_treated_vs_untreated"], reference / "one_factor.tsv")


def test_two_factor(counts, samples, reference):
    res = run_analysis(
        counts, samples, design="~ type + condition", reference="untreated", transform="none", method="round"
    )
    assert_same(res.results["results_condition_treated_vs_untreated"], reference / "two_factor.tsv")
    assert build_diagnostics(res)["design"] == "~ type + condition"


def test_several_contrasts(counts, samples, reference):
    res = run_analysis(counts, samples, design="~ group", transform="none", method="round")
    # Default: every level of the last design variable against the first level in sorted order.
    assert list(res.results) == [
        "results_group_untreated_paired_vs_treated",
        "results_group_untreated_single_vs_treated",
    ]
    for stem in res.results:
        assert_same(res.results[stem], reference / (stem.removeprefix("results_") + ".tsv"))


def test_lrt(counts, samples, reference):
    res = run_analysis(
        counts,
        samples,
        design="~ type + condition",
        test="lrt",
        reduced="~ type",
        reference="untreated",
        transform="none",
        method="round",
    )
    assert list(res.results) == ["results_lrt"]
    assert_same(res.results["results_lrt"], reference / "lrt.tsv")


def test_shrinkage_normal(counts, samples, reference):
    res = run_analysis(
        counts, samples[["condition"]], reference="untreated", shrink="normal", transform="none", method="round"
    )
    table = res.results["results_condition_treated_vs_untreated"]
    assert_same(table, reference / "shrink_normal.tsv")
    unshrunk = pd.read_csv(reference / "one_factor.tsv", sep="\t", index_col=0)
    # Shrinkage pulls estimates towards zero, most of all for noisy genes.
    shrunk = table.loc[unshrunk.index, "log2FoldChange"]
    assert shrunk.abs().median() < 0.5 * unshrunk["log2FoldChange"].abs().median()
    assert not np.allclose(table.loc[unshrunk.index, "log2FoldChange"], unshrunk["log2FoldChange"], equal_nan=True)
