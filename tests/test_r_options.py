"""results() options of the command line against DESeq2 run in R, and the IUC form of the size factors.

``--lfc-threshold``, ``--no-cooks-cutoff`` and ``--no-independent-filtering`` each give what R's
``results()`` gives with ``lfcThreshold``, ``cooksCutoff = FALSE`` and ``independentFiltering =
FALSE`` on the same counts (tests/r/results_options.R), and each changes the results. The file
``model_size_factors.tsv`` reads, as the IUC DESeq2 tool reads user-provided size factors
(tests/r/iuc_size_factors.R), as the original DESeq2 run's size factors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.cli import main

pytestmark = pytest.mark.r

RTOL = 1e-8
RESULTS = "results_condition_treated_vs_untreated.tsv"
COLUMNS = ("log2FoldChange", "pvalue", "padj")
QUICK = ("--transform", "none", "--no-report", "--plots", "none", "--quiet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, normalized_path: Path, samples_path: Path, rscript) -> Path:
    out = tmp_path_factory.mktemp("results_options")
    rscript("results_options.R", normalized_path, samples_path, out)
    return out


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory, normalized_path: Path, samples_path: Path):
    """Our results with the rounding method (as the R script), with ``extra`` options."""
    folder = tmp_path_factory.mktemp("ours")

    def run(name: str, *extra: str) -> pd.DataFrame:
        out = folder / name
        code = main(["run", "--counts", str(normalized_path), "--samples", str(samples_path),
                     "--design", "~ condition", "--reference", "untreated", "--method", "round",
                     "--out-dir", str(out), *QUICK, *extra])  # fmt: skip
        assert code == 0
        return pd.read_csv(out / RESULTS, sep="\t", index_col=0)

    return run


def read_reference(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", index_col=0)


def assert_same(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    ours = ours.loc[ref.index]
    assert len(ours) == len(ref) > 10_000
    for col in COLUMNS:
        a, b = ours[col].to_numpy(), ref[col].to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NA pattern of {col}")
        finite = ~np.isnan(a)
        np.testing.assert_allclose(a[finite], b[finite], rtol=RTOL, atol=0, err_msg=col)


def test_default_results(ours, reference):
    """The baseline the options are compared with: our default equals R's default."""
    assert_same(ours("default"), read_reference(reference / "default.tsv"))


def test_lfc_threshold(ours, reference):
    table = ours("lfc_threshold", "--lfc-threshold", "1")
    ref = read_reference(reference / "lfc_threshold.tsv")
    assert_same(table, ref)
    # Testing |LFC| > 1 instead of LFC != 0: p-values grow, fewer genes are called.
    default = read_reference(reference / "default.tsv")
    both = ref["pvalue"].notna() & default["pvalue"].notna()
    assert (ref.loc[both, "pvalue"] >= default.loc[both, "pvalue"] * (1 - 1e-12)).all()
    assert (ref["padj"] < 0.1).sum() < (default["padj"] < 0.1).sum()
    assert (ref["padj"] < 0.1).sum() > 20  # 47 genes with pasilla


def test_no_cooks_cutoff(ours, reference):
    table = ours("no_cooks_cutoff", "--no-cooks-cutoff")
    ref = read_reference(reference / "no_cooks_cutoff.tsv")
    assert_same(table, ref)
    # Cook's distance flags outliers by setting their p-values to NA; without the cut-off they have one.
    default = read_reference(reference / "default.tsv")
    flagged = default["pvalue"].isna() & default["log2FoldChange"].notna()  # all-zero genes have neither
    assert flagged.sum() > 0
    assert ref.loc[flagged, "pvalue"].notna().all()
    assert ref["pvalue"].isna().sum() < default["pvalue"].isna().sum()


def test_no_independent_filtering(ours, reference):
    table = ours("no_independent_filtering", "--no-independent-filtering")
    ref = read_reference(reference / "no_independent_filtering.tsv")
    assert_same(table, ref)
    # Independent filtering sets padj to NA for low-count genes that have a p-value; off, only genes
    # without a p-value lack padj.
    default = read_reference(reference / "default.tsv")
    filtered = default["padj"].isna() & default["pvalue"].notna()
    assert filtered.sum() > 100
    assert ref.loc[filtered, "padj"].notna().all()
    assert (ref["padj"].isna() == ref["pvalue"].isna()).all()


def test_model_size_factors_read_as_the_iuc_tool_reads_them(tmp_path, normalized_path, samples_path, rscript):
    """Recovered counts: the file gives the original DESeq2 size factors to the IUC tool's reader."""
    out = tmp_path / "out"
    code = main(["run", "--counts", str(normalized_path), "--samples", str(samples_path), "--design", "~ condition",
                 "--reference", "untreated", "--out-dir", str(out), *QUICK])  # fmt: skip
    assert code == 0
    text = (out / "model_size_factors.tsv").read_text()
    assert not text.startswith("sample")  # no header line: read.table would take it for a sample
    assert all(len(line.split("\t")) == 2 for line in text.splitlines())
    rscript("iuc_size_factors.R", out / "model_size_factors.tsv", samples_path, tmp_path / "read.tsv")
    read = pd.read_csv(tmp_path / "read.tsv", sep="\t", index_col=0)["size_factor"]
    original = pd.read_csv(Path(normalized_path).with_name("pasilla_size_factors.tsv"), sep="\t", index_col=0)
    assert sorted(read.index) == sorted(original.index)
    np.testing.assert_allclose(read.loc[original.index], original["size_factor"], rtol=1e-8, atol=0)
