"""The outputs, plots, diagnostics and report of a run, on a result built without R.

tests/test_report.py and tests/test_cli.py check the same through real DESeq2 runs (marked
``r``); here the result comes from :mod:`built_result` (the table side real, the DESeq2 side
stood in for, the fitted model untouchable), so the fast loop covers what is written from it:
which files, their contents against the inputs, HTML escaping, sections, embedded plots.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from built_result import NO_R, UntouchableModel, build_result
from deseq2_normalized import plots
from deseq2_normalized.analysis import AnalysisOptions, AnalysisResult
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.errors import OutputError
from deseq2_normalized.figures import draw_run_plots
from deseq2_normalized.outputs import write_outputs
from deseq2_normalized.reader import read_counts, read_samples
from deseq2_normalized.report import TOP_GENES, build_report
from deseq2_normalized.results import InputNames
from run_files import (
    PNG_SIGNATURE,
    QC_PLOTS,
    SECTIONS,
    assert_report_and_plots,
    contrast_plots,
    embedded_images,
    pdf_pages,
    run_files,
)
from tables import HOSTILE_GENE, HOSTILE_LEVEL, HOSTILE_SAMPLE, hostile_counts, hostile_sheet

STEM = "results_condition_treated_vs_untreated"
CONTRAST_PLOTS = contrast_plots(STEM)
INPUTS = InputNames("data/counts.tsv", "data/samples.tsv")


@pytest.fixture(scope="module")
def inputs(normalized_path, raw_path, samples_path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The hostile normalized table, its sample sheet (a level with markup) and its true raw counts."""
    sheet = hostile_sheet(read_samples(samples_path).table)
    return hostile_counts(read_counts(normalized_path)), sheet, hostile_counts(read_counts(raw_path))


def options(**changes) -> AnalysisOptions:
    return AnalysisOptions(design="~ type + condition", reference="untreated", **{"transform": "none", **changes})


@pytest.fixture(scope="module")
def result(inputs) -> AnalysisResult:
    counts, sheet, _ = inputs
    return build_result(counts, sheet, options(), notes=("a reading note with <b>markup</b>",))


@pytest.fixture(scope="module")
def written(result, tmp_path_factory) -> Path:
    """Every output: tables, diagnostics, PNGs, the PDF and the self-contained report."""
    out = tmp_path_factory.mktemp("written")
    write_outputs(result, out, plots="both", report=True, inputs=INPUTS)
    return out


@pytest.fixture(scope="module")
def html(written) -> str:
    return (written / "report.html").read_text(encoding="utf-8")


# --- the stand-in ----------------------------------------------------------------------------


def test_the_model_stand_in_fails_when_used(result):
    assert isinstance(result.model, UntouchableModel)
    with pytest.raises(AssertionError, match="the fitted model was used"):
        _ = result.model.dds


# --- files and tables ----------------------------------------------------------------------


def test_every_output_is_published_and_nothing_needs_the_model(written):
    assert sorted(p.name for p in written.iterdir()) == run_files(STEM)
    assert sorted(p.name for p in (written / "plots").iterdir()) == sorted(QC_PLOTS + CONTRAST_PLOTS)


def test_recovered_counts_are_the_true_raw_counts(written, inputs):
    _, _, raw = inputs
    recovered = pd.read_csv(written / "recovered_counts.tsv", sep="\t", index_col=0)
    assert list(recovered.index) == list(raw.index) and list(recovered.columns) == list(raw.columns)
    np.testing.assert_array_equal(recovered.to_numpy(), raw.to_numpy())


def test_normalized_counts_are_the_input(written, inputs):
    counts, _, _ = inputs
    normalized = pd.read_csv(written / "normalized_counts.tsv", sep="\t", index_col=0)
    assert list(normalized.columns) == list(counts.columns)
    np.testing.assert_allclose(normalized.to_numpy(), counts.to_numpy(), rtol=1e-12)


def test_model_size_factors_are_the_original_ones(written, original_sf):
    lines = (written / "model_size_factors.tsv").read_text(encoding="utf-8").splitlines()
    written_sf = pd.Series({s: float(v) for s, v in (line.split("\t") for line in lines)})
    expected = original_sf.rename(index={"treated1": HOSTILE_SAMPLE})
    assert list(written_sf.index) == list(expected.index)
    np.testing.assert_allclose(written_sf, expected, rtol=1e-9)
    size_factors = pd.read_csv(written / "size_factors.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(size_factors["recovered_size_factor"][expected.index], expected, rtol=1e-9)


def test_results_table_is_written_in_the_results_order(written, result):
    table = pd.read_csv(written / f"{STEM}.tsv", sep="\t", index_col=0, keep_default_na=False, na_values=["NA"])
    assert list(table.columns) == ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]
    assert list(table.index) == list(result.results[STEM].index)
    np.testing.assert_allclose(table["padj"], result.results[STEM]["padj"], rtol=1e-12)


# --- diagnostics -----------------------------------------------------------------------------


def test_diagnostics_record_the_run(written, result, original_sf):
    record = json.loads((written / "diagnostics.json").read_text(encoding="utf-8"))
    assert record == build_diagnostics(result)
    assert record["input"] == {
        "counts": "counts.tsv",
        "genes": 1501,
        "genes_fitted": 1501,
        "samples": 7,
        "non_integer_fraction": result.check.non_integer_fraction,
        "reading_notes": ["a reading note with <b>markup</b>"],
    }
    assert record["design"] == "~ type + condition" and record["test"] == "wald"
    assert record["options"]["reference"] == "untreated" and record["options"]["numeric_columns"] == []
    assert record["method"]["name"] == "recover" and record["method"]["approximate"] is False
    assert record["method"]["recovery"]["all_exact"] is True
    used = pd.Series(record["method"]["size_factors"]["values"]).rename(index={HOSTILE_SAMPLE: "treated1"})
    np.testing.assert_allclose(used[original_sf.index], original_sf, rtol=1e-9)
    assert record["versions"]["DESeq2"] == NO_R
    assert "rounding_sensitivity" not in record


def test_diagnostics_count_the_calls_of_each_table(result):
    table = result.results[STEM]
    called = table["padj"] < 0.1
    (contrast,) = build_diagnostics(result)["contrasts"]
    assert contrast == {
        "file": f"{STEM}.tsv",
        "test": "Wald",
        "factor": "condition",
        "numerator": "treated",
        "denominator": "untreated",
        "up": int((called & (table["log2FoldChange"] > 0)).sum()),
        "down": int((called & (table["log2FoldChange"] < 0)).sum()),
        "tested": int(table["padj"].notna().sum()),
    }
    assert contrast["up"] > 0 and contrast["down"] > 0


# --- plots -----------------------------------------------------------------------------------


def test_plots_are_drawn_in_order_as_real_images(written, result):
    assert sorted(p.name for p in (written / "plots").iterdir()) == sorted(QC_PLOTS + CONTRAST_PLOTS)
    for name in QC_PLOTS + CONTRAST_PLOTS:
        data = (written / "plots" / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width >= 600 and height >= 450 and len(data) > 15_000, name
    assert pdf_pages(written / "plots.pdf") == len(QC_PLOTS + CONTRAST_PLOTS)


def test_plot_records_name_their_contrast(result, tmp_path):
    drawn = draw_run_plots(result, tmp_path)
    assert [p.name for p in drawn] == QC_PLOTS + CONTRAST_PLOTS
    assert [p.contrast for p in drawn] == [None] * len(QC_PLOTS) + [STEM] * len(CONTRAST_PLOTS)
    assert all(p.path == tmp_path / p.name and p.path.is_file() for p in drawn)
    # Without a transformation the sample plots use log2(normalized + 1), and say so.
    pca = next(p for p in drawn if p.name == "pca.png")
    assert "log2(normalized counts + 1)" in pca.caption


def test_without_rounded_dispersions_there_is_no_comparison_plot(result, tmp_path):
    plain = replace(result, rounded_dispersions=None)
    names = [p.name for p in draw_run_plots(plain, tmp_path)]
    assert "dispersion_rounded_vs_recovered.png" not in names and len(names) == 7


# --- the report ------------------------------------------------------------------------------


def test_report_sections_and_inputs(html, result):
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in html
    assert "<h2>Contrast: condition: treated vs untreated</h2>" in html
    # The input files by their names, without their folders.
    assert "<td>counts.tsv</td>" in html and "<td>samples.tsv</td>" in html and "data/" not in html
    assert "1,501 genes x 7 samples" in html
    # A gene subset of a DESeq2-normalized table: its scales, not DESeq2's estimate on the subset.
    assert "<th>size factors</th>" in html and "The recovered scales are the original size factors" in html
    assert result.method.size_factors.source == "recovered"
    assert f"<th>DESeq2</th><td>{NO_R}</td>" in html
    assert '<span class="badge green">raw counts recovered</span>' in html


def test_hostile_text_is_escaped(html):
    assert HOSTILE_GENE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert HOSTILE_LEVEL not in html and "<b>markup</b>" not in html
    assert "a reading note with &lt;b&gt;markup&lt;/b&gt;" in html
    # The only script is the report's own sorting code, the only images the plots.
    assert html.count("<script>") == 1 and "alert" not in html.split("<script>")[1]
    assert html.count("<img ") == len(embedded_images(html)) == 8


def test_hostile_level_in_a_contrast_is_escaped(inputs):
    # The default contrast (condition) shows no level of type: test it with one that does.
    counts, sheet, _ = inputs
    built = build_result(counts, sheet, options(contrasts=(("type", HOSTILE_LEVEL, "paired_end"),)))
    page = build_report(built, [])
    assert HOSTILE_LEVEL not in page
    assert "<h2>Contrast: type: single&amp;read&lt;b&gt; vs paired_end</h2>" in page
    # The results file's name is file-safe, the section's anchor escaped.
    assert '<section class="contrast" id="results_type_single-read-b_vs_paired_end">' in page


def test_report_counts_equal_the_results_table(html, result):
    (summary,) = result.summaries
    assert f'<span class="up">{summary.up} up</span>' in html
    assert f'<span class="down">{summary.down} down</span>' in html
    assert f"of {summary.tested} genes tested" in html


def test_report_top_genes_table(html, result):
    table = re.search(r'<table class="sortable genes">(.*?)</table>', html, re.S)
    assert table
    genes = re.findall(r"<tr><td>([^<]+)</td>", table.group(1))
    results = result.results[STEM]
    expected = results.dropna(subset=["padj"]).index[:TOP_GENES]
    assert genes == [g.replace("<", "&lt;").replace(">", "&gt;") for g in expected]
    keys = [float(k) for k in re.findall(r'<tr><td>[^<]+</td><td class="num" data-sort="([^"]+)">', table.group(1))]
    np.testing.assert_array_equal(keys, results.loc[expected, "baseMean"].to_numpy())


def test_report_embeds_every_plot_file(written, html):
    on_disk = {(written / "plots" / name).read_bytes() for name in QC_PLOTS + CONTRAST_PLOTS}
    assert set(embedded_images(html)) == on_disk


class _References(HTMLParser):
    """The src and href attributes of a page's tags (not text that looks like them)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("src", "href")]


def test_report_is_self_contained(html):
    assert "http://" not in html and "https://" not in html
    parser = _References()
    parser.feed(html)
    references = parser.found
    # The escaped sample name reads "src=x" as text: it is no attribute.
    assert len(references) == 8 + len(re.findall("<a href=", html)) > 8
    for ref in references:
        assert ref.startswith(("data:image/png;base64,", "#")), ref


def test_report_with_no_gene_tested(result, tmp_path):
    table = result.results[STEM].assign(padj=np.nan)
    empty = replace(result, results={STEM: table})
    page = build_report(empty, [])
    assert "<p>No gene has an adjusted p-value.</p>" in page
    assert '<table class="sortable genes">' not in page


def test_files_form_refers_to_files_beside_the_page(result, tmp_path):
    write_outputs(result, tmp_path, plots="none", report=True, report_form="files")
    folder = tmp_path / "report"
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "data:" not in page and "<style>" not in page and "<script>" not in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(sources) == sorted(QC_PLOTS + CONTRAST_PLOTS)
    assert all((folder / name).read_bytes().startswith(PNG_SIGNATURE) for name in sources)
    assert (folder / "report.css").is_file() and (folder / "report.js").is_file()
    assert not (tmp_path / "plots").exists()


# --- flags, all or nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plot_format", "report", "pngs", "pdf"),
    # PNGs with the report: the written fixture (plots "both").
    [("none", False, False, False), ("pdf", True, False, True)],
)
def test_report_and_plot_flags(result, tmp_path, plot_format, report, pngs, pdf):
    write_outputs(result, tmp_path, plots=plot_format, report=report)
    assert_report_and_plots(tmp_path, report=report, pngs=pngs, pdf=pdf)


def test_failed_plot_leaves_no_output(result, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("plotting broke")

    monkeypatch.setattr(plots, "volcano_plot", broken)
    with pytest.raises((RuntimeError, OutputError), match="plotting broke"):
        write_outputs(result, tmp_path, plots="png", report=True)
    assert list(tmp_path.iterdir()) == []
