"""Drawing the plots: each function saves its PNG (and a PDF page), closes its figure, returns the path."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_pdf import PdfPages

from deseq2_normalized import plots
from run_files import PNG_SIGNATURE

ALPHA = 0.1


@pytest.fixture
def results() -> pd.DataFrame:
    """A results table with what DESeq2 leaves in one: NA p-values and padj, a p-value of 0, a zero mean."""
    rng = np.random.default_rng(7)
    n = 200
    table = pd.DataFrame(
        {
            "baseMean": rng.lognormal(4, 2, n),
            "log2FoldChange": rng.normal(0, 1.5, n),
            "pvalue": rng.uniform(0, 1, n) ** 3,
        },
        index=[f"gene{i}" for i in range(n)],
    )
    table["padj"] = np.minimum(table["pvalue"] * 20, 1)
    table.iloc[:10, table.columns.get_loc("padj")] = np.nan  # removed by independent filtering
    table.iloc[10:12, table.columns.get_loc("pvalue")] = np.nan  # outliers
    table.iloc[12, table.columns.get_loc("pvalue")] = 0.0  # underflow
    table.iloc[12, table.columns.get_loc("padj")] = 0.0
    table.iloc[13, table.columns.get_loc("baseMean")] = 0.0
    table.iloc[13, table.columns.get_loc("log2FoldChange")] = np.nan
    return table


@pytest.fixture
def values() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    return pd.DataFrame(rng.normal(8, 2, (300, 6)), columns=[f"s{i}" for i in range(6)])


def drawings(results: pd.DataFrame, values: pd.DataFrame) -> dict:
    groups = pd.DataFrame({"type": ["a", "b"] * 3, "condition": ["x"] * 3 + ["y"] * 3}, index=values.columns)
    sizes = pd.DataFrame({"relative_size_factor": [0.8, 1.0, 1.02, 1.3, 0.97, 1.0]}, index=values.columns)
    dispersions = pd.DataFrame(
        {
            "baseMean": results["baseMean"],
            "dispGeneEst": np.r_[0.0, np.full(len(results) - 1, 0.05)],
            "dispFit": 0.04 + 1 / (results["baseMean"] + 1),
            "dispersion": 0.05,
            "dispOutlier": [True] + [False] * (len(results) - 1),
        }
    )
    return {
        "size_factors": lambda path, pdf: plots.size_factor_plot(sizes, 0.1, path, pdf=pdf),
        "dispersion": lambda path, pdf: plots.dispersion_plot(dispersions, path, pdf=pdf),
        "comparison": lambda path, pdf: plots.dispersion_comparison_plot(
            dispersions["dispersion"], dispersions["dispersion"] * 1.1, path, pdf=pdf
        ),
        "pca": lambda path, pdf: plots.pca_plot(values, groups, path, title="PCA", pdf=pdf),
        "distances": lambda path, pdf: plots.sample_distance_plot(values, path, title="distances", pdf=pdf),
        "ma": lambda path, pdf: plots.ma_plot(results, ALPHA, path, title="b vs a", pdf=pdf),
        "volcano": lambda path, pdf: plots.volcano_plot(results, ALPHA, path, title="b vs a", pdf=pdf),
        "pvalues": lambda path, pdf: plots.pvalue_histogram(results, path, title="b vs a", pdf=pdf),
    }


def test_every_plot_saves_closes_and_returns_its_path(results, values, tmp_path):
    plt.close("all")
    draw = drawings(results, values)
    with PdfPages(tmp_path / "all.pdf") as pdf:
        for name, plot in draw.items():
            path = tmp_path / f"{name}.png"
            assert plot(path, pdf) == path
            assert path.read_bytes().startswith(PNG_SIGNATURE)
            assert plt.get_fignums() == [], f"{name} left its figure open"
    assert len(re.findall(rb"/Type\s*/Page\b", (tmp_path / "all.pdf").read_bytes())) == len(draw)


def test_a_plot_without_a_pdf_writes_only_its_png(results, tmp_path):
    assert plots.ma_plot(results, ALPHA, tmp_path / "ma.png", title="b vs a") == tmp_path / "ma.png"
    assert [p.name for p in tmp_path.iterdir()] == ["ma.png"]


def test_a_pca_of_one_sample_says_so(tmp_path):
    values = pd.DataFrame({"only": [1.0, 2.0, 3.0]})
    path = plots.pca_plot(values, pd.DataFrame(index=values.columns), tmp_path / "pca.png", title="PCA")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert plt.get_fignums() == []


def test_significant_genes_are_red_the_others_grey_na_included(results):
    fig, ax = plt.subplots()
    try:
        plots._scatter_calls(ax, results["baseMean"], results["log2FoldChange"], results["padj"], ALPHA)
        grey, red = ax.collections
        significant = (results["padj"] < ALPHA).to_numpy()
        assert len(grey.get_offsets()) == (~significant).sum()  # padj NA counts as not significant
        assert len(red.get_offsets()) == significant.sum()
        np.testing.assert_array_equal(red.get_offsets()[:, 0], results["baseMean"][significant])
        assert grey.get_label() == "not significant"
        assert red.get_label() == f"padj < 0.1 ({significant.sum()})"
        assert tuple(grey.get_facecolor()[0][:3]) == pytest.approx(plt.matplotlib.colors.to_rgb(plots.GREY))
        assert tuple(red.get_facecolor()[0][:3]) == pytest.approx(plt.matplotlib.colors.to_rgb(plots.SIGNIFICANT))
    finally:
        plt.close(fig)


def test_point_labels_do_not_cover_each_other():
    """Points at one height (p-values that underflowed to 0): each label moves one line further down."""
    fig, ax = plt.subplots()
    try:
        ax.scatter([0, 0.01, 0.02, 100], [5, 5, 5, 0])  # the last point makes the axes wide
        offsets = plots._label_offsets(ax, np.array([0, 0.01, 0.02]), np.array([5.0, 5.0, 5.0]), ["aaaa"] * 3)
        line = plots.LABEL_POINTS * 1.3
        assert sorted(offsets, reverse=True) == pytest.approx([2.0, 2.0 - line, 2.0 - 2 * line])
    finally:
        plt.close(fig)


def test_matplotlib_labels_are_not_mathtext():
    assert plots.plain("a$b$c") == r"a\$b\$c"
    assert len(plots.plain("x" * 100, 30)) == 30
