"""The size-factor check: DESeq2's estimator, and the verdict on real tables."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import check_table
from deseq2_normalized.reader import read_counts
from deseq2_normalized.sizefactors import check_size_factors, median_of_ratios, poscounts
from tables import with_a_zero_per_gene


@pytest.mark.r
def test_median_of_ratios_equals_deseq2(tmp_path, raw_path):
    """Same numbers as DESeq2::estimateSizeFactorsForMatrix on the pasilla counts."""
    out = tmp_path / "sf.txt"
    code = (
        "suppressPackageStartupMessages(library(DESeq2));"
        f"m <- as.matrix(read.delim('{raw_path}', row.names = 1, check.names = FALSE));"
        f"writeLines(formatC(estimateSizeFactorsForMatrix(m), digits = 17, format = 'g'), '{out}')"
    )
    subprocess.run(["Rscript", "-e", code], check=True, capture_output=True)
    expected = np.array([float(x) for x in out.read_text().split()])
    ours = median_of_ratios(read_counts(raw_path).to_numpy())
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    assert ours.max() / ours.min() > 1.5


@pytest.mark.r
def test_poscounts_equals_deseq2(tmp_path, raw_path):
    """Same numbers as DESeq2's estimateSizeFactors(type = "poscounts") on pasilla with one zero per gene."""
    raw = read_counts(raw_path)
    values = with_a_zero_per_gene(raw.to_numpy())
    sparse = pd.DataFrame(values, index=raw.index, columns=raw.columns)
    assert not (values > 0).all(axis=1).any()
    path, out = tmp_path / "sparse.tsv", tmp_path / "sf.txt"
    sparse.to_csv(path, sep="\t", index_label="gene_id")
    code = (
        "suppressPackageStartupMessages(library(DESeq2));"
        f"m <- as.matrix(read.delim('{path}', row.names = 1, check.names = FALSE));"
        "dds <- DESeqDataSetFromMatrix(m, data.frame(row.names = colnames(m), x = rep(1, ncol(m))), ~ 1);"
        f"writeLines(formatC(sizeFactors(estimateSizeFactors(dds, type = 'poscounts')), digits = 17, format = 'g'), "
        f"'{out}')"
    )
    subprocess.run(["Rscript", "-e", code], check=True, capture_output=True)
    expected = np.array([float(x) for x in out.read_text().split()])
    ours = poscounts(values)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)
    assert ours.max() / ours.min() > 1.5


def test_passes_on_deseq2_normalized_table(normalized_path):
    result = check_table(read_counts(normalized_path))
    assert result.size_factors.passed
    assert result.size_factors.max_deviation < 1.01
    assert 0.5 < result.non_integer_fraction < 0.9
    assert "passed" in result.verdict


def test_fails_on_raw_counts(raw_path):
    result = check_table(read_counts(raw_path))
    sf = result.size_factors
    assert not sf.passed
    assert sf.max_deviation > 1.5
    assert set(sf.failing) >= {"treated1", "untreated2"}
    assert result.non_integer_fraction == 0
    # One story: by default raw counts get standard DESeq2, so the failed check is reported, not alarming.
    assert result.default_method == "raw" and not result.check_failed_for("raw")
    assert result.verdict.startswith("the table holds whole numbers: raw counts") and "check failed" in result.verdict
    # Rounded with size factors 1 on request, the same check is a loud failure naming raw counts.
    assert result.check_failed_for("round")
    assert "FAILED" in result.story("round") and "looks like raw counts" in result.story("round")


def test_cpm_with_composition_bias_fails_and_is_named(raw_path):
    raw = read_counts(raw_path)
    # Plain CPM of pasilla passes the check (library compositions are alike), a known limit of
    # the check; a few genes taking half of one library's reads make CPM and DESeq2 disagree.
    raw.iloc[:5, 0] += raw.iloc[:, 0].sum() / 5
    cpm = raw / raw.sum() * 1e6
    result = check_table(cpm)
    assert not result.size_factors.passed
    rel = result.size_factors.table["relative_size_factor"]
    assert rel.idxmin() == "untreated1" and rel.min() < 0.6
    # The CPM table is recovered exactly: the recovery outranks the failed check, and says what the table is.
    assert result.default_method == "recover" and not result.check_failed_for("recover")
    assert result.verdict.startswith("raw counts recovered exactly from the table (CPM)")
    assert "outrank" in result.verdict


def test_cpm_passing_the_check_is_still_called_cpm(raw_path):
    raw = read_counts(raw_path)
    result = check_table(raw / raw.sum() * 1e6)
    assert result.size_factors.passed  # plain CPM of pasilla passes the heuristic
    assert "CPM-scaled, not DESeq2-normalized" in result.verdict
    assert "looks DESeq2-normalized" not in result.verdict
    assert "CPM-scaled, not DESeq2-normalized" in result.story("round")


def test_tolerance_band_edges():
    base = np.array([10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    counts = pd.DataFrame({"a": base, "b": base * 1.1**2})  # relative factors 1/1.1 and 1.1
    assert check_size_factors(counts, 0.1).passed
    assert not check_size_factors(counts, 0.09).passed
    rel = check_size_factors(counts, 0.1).table["relative_size_factor"]
    np.testing.assert_allclose(rel.to_numpy(), [1 / 1.1, 1.1])


def test_no_gene_positive_everywhere():
    with pytest.raises(ValueError, match="every gene contains at least one zero"):
        median_of_ratios(np.array([[0, 1], [1, 0]]))


def _whole_matrix_median_of_ratios(counts: np.ndarray) -> np.ndarray:
    """The textbook computation on the whole matrix: log geometric means over the samples, median ratios."""
    logs = np.log(counts[(counts > 0).all(axis=1)].astype(np.float64)).T.copy()  # samples x genes
    logs -= logs.mean(axis=0)
    return np.exp(np.median(logs, axis=1))


def _whole_matrix_poscounts(counts: np.ndarray) -> np.ndarray:
    values = np.asfortranarray(counts, dtype=np.float64)
    positive = values > 0
    with np.errstate(divide="ignore"):
        logs = np.where(positive, np.log(values), 0.0)
    log_geo = np.where(positive.any(axis=1), logs.sum(axis=1) / values.shape[1], -np.inf)
    sf = np.array(
        [np.exp(np.median(np.log(values[u, j]) - log_geo[u])) for j in range(values.shape[1]) for u in [positive[:, j]]]
    )
    return sf / np.exp(np.mean(np.log(sf)))


@pytest.mark.parametrize("seed", range(6))
def test_estimators_taken_a_sample_at_a_time_equal_the_whole_matrix_computation(seed):
    rng = np.random.default_rng(seed)
    genes, samples = int(rng.integers(50, 3000)), int(rng.integers(2, 40))
    counts = rng.negative_binomial(2, 2 / (2 + rng.gamma(1, 100, size=(genes, 1))), size=(genes, samples))
    scaled = counts * rng.uniform(0.3, 3, size=samples)
    for matrix in (counts, np.asfortranarray(counts), scaled):
        assert np.array_equal(median_of_ratios(matrix), _whole_matrix_median_of_ratios(matrix))
    sparse = with_a_zero_per_gene(counts)
    np.testing.assert_allclose(poscounts(sparse), _whole_matrix_poscounts(sparse), rtol=1e-14)


def test_the_check_rounds_each_value_as_a_rounded_table_would():
    rng = np.random.default_rng(4)
    values = pd.DataFrame(rng.gamma(1, 50, size=(500, 6)) * (rng.random((500, 6)) > 0.05))
    rounded = pd.DataFrame(np.rint(values.to_numpy()))
    ours = check_size_factors(values, 0.1, rounding=True)
    expected = check_size_factors(rounded, 0.1)
    pd.testing.assert_frame_equal(ours.table, expected.table, check_exact=True)
    assert (ours.genes_used, ours.estimator) == (expected.genes_used, expected.estimator)
    sparse = pd.DataFrame(with_a_zero_per_gene(values.to_numpy()))
    ours = check_size_factors(sparse, 0.1, rounding=True)
    expected = check_size_factors(pd.DataFrame(np.rint(sparse.to_numpy())), 0.1)
    pd.testing.assert_frame_equal(ours.table, expected.table, check_exact=True)
    assert (ours.genes_used, ours.estimator) == (expected.genes_used, "poscounts")
