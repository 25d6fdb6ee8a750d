"""The options of issue 21 against DESeq2 run directly in R (``tests/r/options_deseq2.R``).

Numeric covariates, betaPrior, outlier replacement off, vst and rlog in one run, and the
size-factor estimators (poscounts on its own for a sparse table): each run of the tool is
compared gene by gene with DESeq2 called with the corresponding argument, to 1e-8 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import run_analysis
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.reader import read_counts, read_samples
from tables import two_condition_counts, untreated_treated

pytestmark = pytest.mark.r

RTOL = 1e-8


@pytest.fixture(scope="module")
def raw(raw_path: Path) -> pd.DataFrame:
    return read_counts(raw_path)


@pytest.fixture(scope="module")
def sheet(samples_path: Path) -> pd.DataFrame:
    """The pasilla sample sheet with a RUVSeq-like factor ``W_1`` (decimals, one per sample)."""
    table = read_samples(samples_path).table
    table.insert(0, "W_1", [f"{x:.6f}" for x in np.linspace(-0.31, 0.42, len(table)) ** 3 + 0.05])
    return table


def write(tmp: Path, counts: pd.DataFrame, samples: pd.DataFrame) -> tuple[Path, Path]:
    counts_file, samples_file = tmp / "counts.tsv", tmp / "samples.tsv"
    counts.to_csv(counts_file, sep="\t", index_label="gene_id")
    samples.to_csv(samples_file, sep="\t", index_label="sample")
    return counts_file, samples_file


def r_reference(rscript, tmp: Path, counts: pd.DataFrame, samples: pd.DataFrame, design: str, *opts: str) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    counts_file, samples_file = write(tmp, counts, samples)
    out = tmp / "r"
    rscript("options_deseq2.R", counts_file, samples_file, design, "condition,treated,untreated", out, *opts)
    return out


def assert_same(ours: pd.DataFrame, reference: Path, min_genes: int = 1000) -> None:
    ref = pd.read_csv(reference / "results.tsv", sep="\t", index_col=0)
    ours = ours.loc[ref.index]
    assert len(ours) == len(ref) >= min_genes
    for col in ("log2FoldChange", "pvalue", "padj"):
        a, b = ours[col].to_numpy(), ref[col].to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NA pattern of {col}")
        finite = ~np.isnan(a)
        np.testing.assert_allclose(a[finite], b[finite], rtol=RTOL, atol=0, err_msg=col)
    assert (ours["padj"] < 0.1).sum() > 20  # a real signal, not an empty comparison


def assert_size_factors(ours: pd.Series, reference: Path) -> None:
    ref = pd.read_csv(reference / "size_factors.tsv", sep="\t", index_col=0)["size_factor"]
    np.testing.assert_allclose(ours.loc[ref.index].to_numpy(), ref.to_numpy(), rtol=1e-12, atol=0)


STEM = "results_condition_treated_vs_untreated"


def test_numeric_covariate_equals_deseq2(tmp_path, rscript, raw, sheet):
    res = run_analysis(raw, sheet, design="~ W_1 + condition", reference="untreated", transform="none")
    assert res.method.name == "raw"
    assert res.coldata is not None and res.coldata["W_1"].dtype == np.float64
    assert res.coldata["condition"].dtype == "category"
    assert build_diagnostics(res)["options"]["numeric_columns"] == ["W_1"]
    ref = r_reference(rscript, tmp_path, raw, sheet, "~ W_1 + condition", "numeric=W_1")
    assert_same(res.results[STEM], ref)


def test_whole_number_column_made_numeric_equals_deseq2(tmp_path, rscript, raw, sheet):
    """Whole numbers stay factors by default; --numeric-columns makes them a covariate, as in R."""
    samples = sheet.assign(age=["31", "45", "52", "38", "60", "41", "49"])
    res = run_analysis(
        raw, samples, design="~ age + condition", reference="untreated", transform="none", numeric_columns=("age",)
    )
    assert res.coldata is not None and res.coldata["age"].dtype == np.float64
    ref = r_reference(rscript, tmp_path, raw, samples, "~ age + condition", "numeric=age")
    assert_same(res.results[STEM], ref)


def test_beta_prior_equals_deseq2(tmp_path, rscript, raw, sheet):
    res = run_analysis(
        raw, sheet, design="~ type + condition", reference="untreated", transform="none", beta_prior=True
    )
    assert build_diagnostics(res)["options"]["beta_prior"] is True
    ref = r_reference(rscript, tmp_path, raw, sheet, "~ type + condition", "beta_prior=TRUE")
    assert_same(res.results[STEM], ref)
    plain = run_analysis(raw, sheet, design="~ type + condition", reference="untreated", transform="none")
    # The prior pulls the fold changes towards zero.
    shrunk, mle = res.results[STEM]["log2FoldChange"], plain.results[STEM].loc[res.results[STEM].index]
    assert shrunk.abs().median() < 0.9 * mle["log2FoldChange"].abs().median()


@pytest.mark.parametrize("sf_type", ["poscounts", "iterate"])
def test_sf_type_equals_deseq2(tmp_path, rscript, raw, sheet, sf_type):
    res = run_analysis(raw, sheet[["condition"]], reference="untreated", transform="none", sf_type=sf_type)
    assert build_diagnostics(res)["options"]["sf_type"] == sf_type
    assert f"estimator: {sf_type}" in res.method.size_factors.why
    ref = r_reference(rscript, tmp_path, raw, sheet[["condition"]], "~ condition", f"sf_type={sf_type}")
    assert_size_factors(res.method.size_factor_values, ref)
    assert_same(res.results[STEM], ref)


def sparse_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Low negative-binomial counts (5 + 5 samples), only genes with a zero: as a microbiome table."""
    counts = two_condition_counts(np.random.default_rng(7), 6000, 5, 6, [0.2, 5.0], 0.1)
    keep = (counts == 0).any(axis=1) & (counts > 0).any(axis=1)
    samples = untreated_treated(5)
    table = pd.DataFrame(counts[keep], index=[f"g{i}" for i in np.flatnonzero(keep)], columns=list(samples.index))
    return table, samples


def test_sparse_table_uses_poscounts_as_deseq2(tmp_path, rscript, caplog):
    counts, samples = sparse_table()
    assert not (counts > 0).all(axis=1).any() and len(counts) > 1000
    with caplog.at_level("INFO", logger="deseq2_normalized"):
        res = run_analysis(counts, samples, reference="untreated", transform="none")
    assert res.method.name == "raw"
    assert res.check.size_factors.estimator == "poscounts"
    assert build_diagnostics(res)["size_factor_check"]["estimator"] == "poscounts"
    assert "poscounts estimator was used" in build_diagnostics(res)["method"]["size_factors"]["why"]
    assert "uses DESeq2's poscounts estimator" in caplog.text
    ref = r_reference(rscript, tmp_path, counts, samples, "~ condition", "sf_type=poscounts")
    assert_size_factors(res.method.size_factor_values, ref)
    assert_same(res.results[STEM], ref)


def test_vst_and_rlog_in_one_run_equal_deseq2(tmp_path, rscript, raw, sheet):
    counts = raw.iloc[:4000]
    res = run_analysis(counts, sheet[["condition"]], reference="untreated", transform="both")
    assert res.transformed is not None and res.rlog is not None
    ref = r_reference(rscript, tmp_path, counts, sheet[["condition"]], "~ condition", "transform=vst,rlog")
    for ours, name in ((res.transformed, "vst"), (res.rlog, "rlog")):
        expected = pd.read_csv(ref / f"{name}.tsv", sep="\t", index_col=0)
        assert ours.shape == expected.shape == (4000, 7)
        np.testing.assert_allclose(
            ours.loc[expected.index, expected.columns].to_numpy(), expected.to_numpy(), rtol=RTOL, err_msg=name
        )
    assert not np.allclose(res.transformed.to_numpy(), res.rlog.to_numpy())


@pytest.fixture(scope="module")
def replicated() -> tuple[pd.DataFrame, pd.DataFrame]:
    """8 + 8 negative-binomial samples with a large count in one sample of 60 genes (outliers to replace)."""
    rng = np.random.default_rng(21)
    genes, n = 1500, 8
    counts = two_condition_counts(rng, genes, n, 200, [0.4, 2.5], 0.08)
    hit = rng.choice(genes, 60, replace=False)
    counts[hit, rng.integers(0, 2 * n, 60)] *= 40
    samples = untreated_treated(n)
    table = pd.DataFrame(counts, index=[f"g{i}" for i in range(genes)], columns=list(samples.index))
    return table, samples


@pytest.mark.parametrize("replace", [True, False])
def test_outlier_replacement_equals_deseq2(tmp_path, rscript, replicated, replace):
    counts, samples = replicated
    res = run_analysis(counts, samples, reference="untreated", transform="none", outlier_replacement=replace)
    assert build_diagnostics(res)["options"]["outlier_replacement"] is replace
    opts = () if replace else ("min_replicates_for_replace=Inf",)
    ref = r_reference(rscript, tmp_path, counts, samples, "~ condition", *opts)
    assert_same(res.results[STEM], ref, min_genes=1500)
    # The other setting gives other numbers on these outliers: the option changes something.
    flip = ("min_replicates_for_replace=Inf",) if replace else ()
    other = r_reference(rscript, tmp_path / "other", counts, samples, "~ condition", *flip)
    theirs = pd.read_csv(other / "results.tsv", sep="\t", index_col=0)
    mine = res.results[STEM].loc[theirs.index, "pvalue"].to_numpy()
    differ = ~np.isclose(mine, theirs["pvalue"].to_numpy(), rtol=1e-6, equal_nan=True)
    assert differ.sum() >= 10
