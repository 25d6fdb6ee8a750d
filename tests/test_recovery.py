"""Count recovery: exact where the written precision allows it, never a wrong 'exact'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agreement import assert_agrees
from deseq2_normalized import run_analysis
from deseq2_normalized.classify import classify_table
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.reader import read_counts, read_samples
from deseq2_normalized.recovery import recover_counts, written_precision
from tables import log_table, normalized_per_batch, significant, spread_counts

RECOVERABLE = ["full", "dec2", "dec1"]
NOT_COUNTS = ["tpm", "vst", "log2dec2", "noise"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory, raw_path, rscript) -> Path:
    out = tmp_path_factory.mktemp("recovery")
    rscript("make_recovery_tables.R", raw_path, out)
    return out


def load(tables: Path, name: str) -> pd.DataFrame:
    return read_counts(tables / f"{name}.tsv")


def size_factors(tables: Path, prefix: str) -> pd.Series:
    return pd.read_csv(tables / f"{prefix}_size_factors.tsv", sep="\t", index_col=0)["size_factor"]


@pytest.mark.r
@pytest.mark.parametrize("prefix", ["pasilla", "sim"])
@pytest.mark.parametrize("kind", RECOVERABLE)
def test_exact_recovery_of_every_count_and_size_factor(tables, prefix, kind):
    raw = load(tables, f"{prefix}_raw")
    result = recover_counts(load(tables, f"{prefix}_{kind}"))
    assert result.all_exact, result.summary()
    assert result.scaling == "DESeq2 median-of-ratios"
    pd.testing.assert_frame_equal(result.counts, raw.astype(np.int64))
    np.testing.assert_allclose(result.scales, size_factors(tables, prefix), rtol=1e-12)


@pytest.mark.r
def test_simulation_spans_the_size_factor_range(tables):
    sf = size_factors(tables, "sim")
    assert sf.min() < 0.25 and sf.max() > 4.5 and len(sf) == 12
    assert (load(tables, "sim_raw") == 0).to_numpy().mean() > 0.1  # many zeros


@pytest.mark.r
@pytest.mark.parametrize("prefix", ["pasilla", "sim"])
def test_six_significant_digits(tables, prefix):
    """Counts with more digits than were written are not fixed by them: bounded, never a wrong exact."""
    raw = load(tables, f"{prefix}_raw").to_numpy()
    result = recover_counts(load(tables, f"{prefix}_sig6"))
    per = result.per_sample
    assert set(per["verdict"]) <= {"exact", "bounded"} and "bounded" in set(per["verdict"])
    assert result.usable and not result.all_exact
    got = result.counts.to_numpy()
    for j, (name, row) in enumerate(per.iterrows()):
        if row["verdict"] == "exact":
            np.testing.assert_array_equal(got[:, j], raw[:, j])
            assert row["max_relative_uncertainty"] == 0
        else:
            assert 0 < row["max_relative_uncertainty"] <= 1e-4 and "midpoint" in row["reason"], name
        # Every count, ambiguous or not, lies within the sample's stated bound of the truth.
        assert np.all(np.abs(got[:, j] - raw[:, j]) <= row["max_relative_uncertainty"] * got[:, j])
        assert row["ambiguous_fraction"] < 1e-3
    assert (got == raw).mean() > 0.9999
    np.testing.assert_allclose(result.scales, size_factors(tables, prefix), rtol=1e-9)


@pytest.mark.r
def test_a_tighter_bound_turns_bounded_samples_approximate(tables):
    table = load(tables, "pasilla_sig6")
    loose = recover_counts(table)
    tight = recover_counts(table, max_relative_uncertainty=1e-8)
    for a, b in zip(loose.samples, tight.samples, strict=True):
        assert (a.verdict, b.verdict) in {("exact", "exact"), ("bounded", "approximate")}
    assert not tight.usable and "bound 1e-08" in tight.summary()


@pytest.mark.r
@pytest.mark.parametrize("prefix", ["pasilla", "sim"])
def test_gene_filtered_after_normalization(tables, prefix):
    filtered = load(tables, f"{prefix}_filtered")
    raw = load(tables, f"{prefix}_raw").loc[filtered.index]
    result = recover_counts(filtered)
    pd.testing.assert_frame_equal(result.counts, raw.astype(np.int64))
    np.testing.assert_allclose(result.scales, size_factors(tables, prefix), rtol=1e-12)
    # Counts without a common factor are the only such reading of the values: exact, with that basis stated.
    assert result.all_exact
    for record in result.samples:
        assert "no common factor" in record.basis and f"smallest count {record.smallest_count}" in record.basis


@pytest.mark.r
@pytest.mark.parametrize("prefix", ["pasilla", "sim"])
def test_cpm_recovers_counts_and_library_sizes(tables, prefix):
    raw = load(tables, f"{prefix}_raw")
    result = recover_counts(load(tables, f"{prefix}_cpm"))
    assert result.all_exact and result.scaling == "CPM"
    pd.testing.assert_frame_equal(result.counts, raw.astype(np.int64))
    np.testing.assert_allclose(result.scales, raw.sum() / 1e6, rtol=1e-12)


@pytest.mark.r
@pytest.mark.parametrize("prefix", ["pasilla", "sim"])
@pytest.mark.parametrize("kind", NOT_COUNTS)
def test_tables_that_are_not_counts_are_never_called_exact(tables, prefix, kind):
    result = recover_counts(load(tables, f"{prefix}_{kind}"))
    assert not any(s.verdict == "exact" for s in result.samples), result.summary()
    classification = classify_table(load(tables, f"{prefix}_{kind}"))
    # Never analysed as counts of any kind: refused, or rounded as a normalized table that cannot be recovered.
    expected = {"tpm": "depth_normalized", "vst": "not_counts", "log2dec2": "not_counts"}
    assert classification.kind == expected.get(kind, "normalized_unrecoverable"), classification.text()


def test_written_precision():
    assert written_precision(np.array([0.5, 12.25, 3.1, 0])).describe() == "2 decimals"
    assert written_precision(np.array([80.8249076813029, 0.00123456789012345])).describe() == "15 significant digits"
    assert written_precision(np.array([1 / 3, 2 / 3])).describe() == "full double precision"
    assert written_precision(np.array([1.0, 7.0])).decimals == 0


def test_fifteen_significant_digits_recover_whatever_the_float_error(tmp_path):
    """R's write.table default: the bounds add the float error of count/sf to the written rounding.

    A one-unit step between two values near a thousand carries both; with the written rounding
    alone, about one sample in a few hundred (and 6 of 200 at 60,000 genes) lost its unit.
    """
    rng = np.random.default_rng(0)
    columns = {f"s{j}": np.unique(np.concatenate([[1, 2, 3], rng.integers(1, 5000, 400)]))[:300] for j in range(600)}
    raw = pd.DataFrame(columns, index=[f"g{i}" for i in range(300)])
    sf = np.exp(np.random.default_rng(1).normal(0, 0.35, raw.shape[1]))
    path = tmp_path / "normalized.tsv"
    (raw / sf).to_csv(path, sep="\t", float_format="%.15g")
    result = recover_counts(read_counts(path))
    assert [s.sample for s in result.samples if s.verdict != "exact"] == []
    assert (result.counts.to_numpy() == raw.to_numpy()).all()
    np.testing.assert_allclose(result.scales.to_numpy(), sf, rtol=1e-10)


@pytest.mark.parametrize(
    ("transform", "kind", "detail"),
    [
        (lambda x: x, "scaled_counts", "DESeq2 median-of-ratios"),
        (lambda x: np.log2(x + 1), "log_counts", "log2(x+1) of DESeq2 median-of-ratios"),
        (lambda x: np.log(x + 1), "log_counts", "ln(x+1) of DESeq2 median-of-ratios"),
        (lambda x: np.log10(x + 1), "log_counts", "log10(x+1) of DESeq2 median-of-ratios"),
        (lambda x: np.log2(x + 0.5), "log_counts", "log2(x+0.5) of DESeq2 median-of-ratios"),
        (lambda x: np.log2(x + 1).round(2), "not_counts", "log-scale values"),
        (lambda x: x - x.mean(axis=1).to_numpy()[:, None], "not_counts", "values below zero"),
    ],
)
def test_classification(raw_path, transform, kind, detail):
    raw = read_counts(raw_path)
    sf = pd.read_csv(raw_path.parent / "pasilla_size_factors.tsv", sep="\t", index_col=0)["size_factor"]
    result = classify_table(transform(raw / sf))
    assert (result.kind, result.detail) == (kind, detail), result.text()
    assert result.recommendation


def test_classification_of_raw_counts(raw_path):
    result = classify_table(read_counts(raw_path))
    assert result.kind == "raw_counts" and "standard DESeq2" in result.recommendation


@pytest.mark.r
def test_recover_method_equals_deseq2_on_the_raw_counts(tmp_path, raw_path, samples_path, normalized_path, rscript):
    reference = tmp_path / "raw.tsv"
    rscript("raw_deseq2.R", raw_path, samples_path, reference)
    result = run_analysis(
        read_counts(normalized_path),
        read_samples(samples_path),
        method="recover",
        design="~ type + condition",
        reference="untreated",
        transform="none",
    )
    assert build_diagnostics(result)["method"]["name"] == "recover"
    assert_agrees(result.results["results_condition_treated_vs_untreated"], reference)
    samples = build_diagnostics(result)["method"]["recovery"]["samples"]
    assert {s["verdict"] for s in samples.values()} == {"exact"}


@pytest.mark.r
def test_method_choice(tmp_path, cli, normalized_path, samples_path, raw_path):
    # At 4 significant digits more than 1% of the counts are not fixed by the digits: not recoverable
    # for --method recover; auto analyses them at their midpoints. At 2 digits no unit is found: rounded.
    four = tmp_path / "sig4.tsv"
    significant(read_counts(normalized_path), 4).to_csv(four, sep="\t")
    common = ["--samples", samples_path, "--transform", "none"]
    refused = cli("run", "--counts", four, "--out-dir", tmp_path / "a", "--method", "recover", *common)
    assert refused.code == 2 and "cannot be recovered" in refused.err and "not_recoverable" in refused.err
    auto = cli("run", "--counts", four, "--out-dir", tmp_path / "b", *common)  # auto is the default
    assert auto.code == 0 and "method: recover (auto: every sample's unit found" in auto.err
    two = tmp_path / "sig2.tsv"
    significant(read_counts(normalized_path), 2).to_csv(two, sep="\t")
    rounded = cli("run", "--counts", two, "--out-dir", tmp_path / "e", *common)
    assert rounded.code == 0 and "method: round (auto: raw counts cannot be recovered" in rounded.err
    raw = cli("run", "--counts", raw_path, "--out-dir", tmp_path / "c", "--method", "recover", *common)
    assert raw.code == 2 and "every value is a whole number" in raw.err
    refused_log = cli(
        "run", "--counts", log_table(normalized_path, tmp_path / "log.tsv"), "--out-dir", tmp_path / "d", *common
    )
    assert refused_log.code == 2 and "not counts" in refused_log.err and "log2(x+1)" in refused_log.err


def test_unit_candidates_of_a_hair_thin_step_stay_few():
    """Two values a hair apart (noise, not a unit) give millions of readings: only the smallest are kept."""
    import tracemalloc

    from deseq2_normalized.recovery import MAX_CANDIDATES, _smallest_count_candidates

    u = np.array([1.0, 1.0 + 1e-9, 2.0, 3.0])
    b = np.full(u.size, 1e-12)  # the first range alone spans about 4 million counts
    tracemalloc.start()
    try:
        candidates = _smallest_count_candidates(u, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(candidates) <= MAX_CANDIDATES
    assert peak < 20 * 2**20


def test_check_holds_neither_the_rounded_table_nor_the_recovered_counts(tmp_path, raw_path):
    """``check`` keeps one matrix, the values: the counts are made from each sample's solution when asked for."""
    from deseq2_normalized import check_table
    from deseq2_normalized.sizefactors import median_of_ratios

    raw = read_counts(raw_path)
    sf = median_of_ratios(raw.to_numpy())
    normalized = raw / sf
    # Three samples at R's 15 digits (exact), four at 5 significant digits (the largest counts left open: bounded).
    path = tmp_path / "mixed.tsv"
    text = pd.concat([normalized.iloc[:, :3], significant(normalized.iloc[:, 3:], 5)], axis=1)
    text.to_csv(path, sep="\t", float_format="%.15g")
    result = check_table(read_counts(path))
    recovery = result.classification.recovery
    assert {s.verdict for s in recovery.samples[:3]} == {"exact"}
    assert "bounded" in {s.verdict for s in recovery.samples[3:]}
    assert recovery.scaling == "DESeq2 median-of-ratios"
    np.testing.assert_allclose(recovery.scales.to_numpy(), sf, rtol=1e-9)
    assert "counts" not in vars(recovery) and "rounded" not in vars(result)
    counts = recovery.counts.to_numpy()
    assert counts.dtype == np.int64
    assert (counts[:, :3] == raw.to_numpy()[:, :3]).all()
    off = np.abs(counts[:, 3:] - raw.to_numpy()[:, 3:]) / np.maximum(raw.to_numpy()[:, 3:], 1)
    assert off.max() <= recovery.max_relative_uncertainty and (off > 0).any()
    assert (result.rounded.to_numpy() == np.rint(result.counts.to_numpy())).all()


def test_only_counts_left_open_by_the_digits_are_held(raw_path):
    """A sample recovered exactly, or not at all, holds no counts: they are made from its values when asked for."""
    raw = read_counts(raw_path).iloc[:, :3]
    values = raw / np.array([0.8, 1.1, 1.3])
    values["noise"] = np.random.default_rng(3).gamma(1, 100, len(values))
    result = recover_counts(values)
    assert [s.verdict for s in result.samples] == ["exact", "exact", "exact", "not_recoverable"]
    assert [rule.held is None for rule in result.counts_of] == [True, True, True, True]
    counts = result.counts.to_numpy()
    assert (counts[:, :3] == raw.to_numpy()).all() and (counts[:, 3] == 0).all()


def mixed_table(raw_path: Path, normalized_path: Path, path: Path) -> Path:
    """The normalized pasilla table with two samples' raw counts pasted in: a table assembled by mistake."""
    mixed = read_counts(normalized_path)
    raw = read_counts(raw_path)
    for sample in ("untreated3", "treated2"):
        mixed[sample] = raw[sample]
    mixed.to_csv(path, sep="\t", float_format="%.15g")
    return path


def test_raw_samples_mixed_with_normalized_ones_are_named(tmp_path, raw_path, normalized_path):
    from deseq2_normalized import check_table
    from deseq2_normalized.recovery import choose_size_factors

    checked = check_table(read_counts(mixed_table(raw_path, normalized_path, tmp_path / "mixed.tsv")))
    recovery = checked.classification.recovery
    assert recovery.scaling == "unknown per-sample scaling" and recovery.all_exact
    assert recovery.whole_number_samples == ("untreated3", "treated2")
    assert any("samples 'untreated3', 'treated2' hold whole numbers" in n for n in recovery.notes)
    choice = choose_size_factors(recovery)
    assert choice.source == "estimated" and "raw and normalized samples mixed" in choice.why
    # A normalized table alone has no such samples.
    alone = check_table(read_counts(normalized_path)).classification.recovery
    assert alone.whole_number_samples == ()


@pytest.mark.r
def test_raw_samples_mixed_with_normalized_ones_equal_deseq2_on_the_raw_counts(
    tmp_path, raw_path, samples_path, normalized_path, rscript
):
    """Every sample's raw counts are recovered; DESeq2's own size factors, not the table's scales, are right."""
    reference = tmp_path / "raw.tsv"
    rscript("raw_deseq2.R", raw_path, samples_path, reference)
    result = run_analysis(
        read_counts(mixed_table(raw_path, normalized_path, tmp_path / "mixed.tsv")),
        read_samples(samples_path),
        design="~ type + condition",
        reference="untreated",
        transform="none",
    )
    record = build_diagnostics(result)
    assert record["method"]["name"] == "recover"
    assert record["method"]["size_factors"]["source"] == "estimated"
    assert_agrees(result.results["results_condition_treated_vs_untreated"], reference)


SINGLE_READ = ("untreated1", "untreated2", "treated1")
PAIRED_END = ("untreated3", "untreated4", "treated2", "treated3")


def test_a_table_normalized_per_batch_gets_deseq2s_size_factors_not_its_scales(raw):
    from deseq2_normalized import check_table
    from deseq2_normalized.recovery import choose_size_factors

    checked = check_table(normalized_per_batch(raw, (SINGLE_READ, PAIRED_END)))
    recovery = checked.classification.recovery
    assert recovery.all_exact and recovery.scaling == "unknown per-sample scaling"
    assert not checked.size_factors.passed and recovery.whole_number_samples == ()
    choice = choose_size_factors(recovery, checked.size_factors.passed)
    assert choice.source == "estimated" and choice.warning and "do not put the samples on one scale" in choice.why
    assert "estimates the size factors on the recovered counts" in checked.story("recover")
    # Scales that do put the samples on one scale (a subset of samples of one DESeq2 run) are kept.
    subset = check_table(normalized_per_batch(raw, (tuple(raw.columns),))[list(PAIRED_END)])
    kept = choose_size_factors(subset.classification.recovery, subset.size_factors.passed)
    assert subset.size_factors.passed and kept.source == "recovered" and not kept.warning


@pytest.mark.r
def test_a_table_normalized_per_batch_equals_deseq2_on_the_raw_counts(tmp_path, raw, raw_path, samples_path, rscript):
    """Its scales would leave the batches on different scales (DE set Jaccard 0.06 with '~ condition')."""
    reference = tmp_path / "raw.tsv"
    rscript("raw_deseq2.R", raw_path, samples_path, reference)
    path = tmp_path / "per_batch.tsv"
    normalized_per_batch(raw, (SINGLE_READ, PAIRED_END)).to_csv(path, sep="\t", float_format="%.15g")
    result = run_analysis(
        read_counts(path), read_samples(samples_path), design="~ type + condition", reference="untreated",
        transform="none",
    )  # fmt: skip
    assert build_diagnostics(result)["method"]["size_factors"]["source"] == "estimated"
    assert_agrees(result.results["results_condition_treated_vs_untreated"], reference)


def _de_jaccard(ours: pd.DataFrame, ref: pd.DataFrame, alpha: float = 0.1) -> float:
    a, b = ref["padj"] < alpha, ours.loc[ref.index, "padj"] < alpha
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.r
@pytest.mark.parametrize("digits", [3, 4])
@pytest.mark.parametrize("data", ["pasilla", "spread"])
def test_approximate_recovery_is_close_to_the_original_analysis(
    tmp_path, raw_path, samples_path, rscript, data, digits
):
    """At 3 and 4 significant digits every unit is found but counts are left open (classify.APPROXIMATE_RECOVERY).

    The open counts at their midpoints with the units found: log2 fold changes within 0.012 of DESeq2 on the
    raw counts and DE set Jaccard at least 0.99 (0.994-1.0 seen), where the rounding workaround is off by
    more than 1 (up to 1.9 seen).
    """
    if data == "pasilla":
        raw, sheet_path = read_counts(raw_path), samples_path
    else:
        raw, sheet = spread_counts(5, 0.25, 4.0)  # size factors 0.25 to 4
        sheet_path = tmp_path / "sheet.tsv"
        sheet.to_csv(sheet_path, sep="\t", index=False)
    raw_file = tmp_path / "raw.tsv"
    raw.to_csv(raw_file, sep="\t")
    reference = tmp_path / "reference.tsv"
    rscript("raw_deseq2.R", raw_file, sheet_path, reference)
    ref = pd.read_csv(reference, sep="\t", index_col=0)
    from deseq2_normalized.sizefactors import median_of_ratios

    table = significant(raw / median_of_ratios(raw.to_numpy()), digits)
    kw = {"design": "~ type + condition", "reference": "untreated", "transform": "none"}
    stem = "results_condition_treated_vs_untreated"
    result = run_analysis(table, read_samples(sheet_path), **kw)
    method = build_diagnostics(result)["method"]
    assert method["name"] == "recover" and method["approximate"] and method["recovery"]["approximate"]
    ours = result.results[stem].loc[ref.index]
    assert np.nanmax(np.abs(ours["log2FoldChange"] - ref["log2FoldChange"])) < 0.012
    assert _de_jaccard(ours, ref) >= 0.99
    rounded = run_analysis(table, read_samples(sheet_path), method="round", **kw).results[stem].loc[ref.index]
    assert np.nanmax(np.abs(rounded["log2FoldChange"] - ref["log2FoldChange"])) > 1
