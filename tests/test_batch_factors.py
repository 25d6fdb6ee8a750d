"""``--batch-factors FILE``: covariates of unwanted variation (RUVSeq, svaseq) first in the design.

The file is the one the RUVSeq Galaxy tool writes for the IUC DESeq2 tool (``identifier``,
``condition``, ``W_1``, ...). The truth is DESeq2 on the raw counts with the covariates in its
colData and first in the design, as the IUC tool builds it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from agreement import assert_agrees
from conftest import TEST_DATA
from deseq2_normalized import run_analysis
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import settle_request
from deseq2_normalized.reader import read_counts, read_samples
from deseq2_normalized.samplesheet import SampleSheet, with_batch_factors

BATCH = TEST_DATA / "pasilla_batch_factors.tsv"
STEM = "results_condition_treated_vs_untreated"


@pytest.fixture
def sheet() -> SampleSheet:
    return read_samples(TEST_DATA / "pasilla_samples.tsv")


def batch_sheet(rows: dict[str, dict[str, str]], source: str = "batch.tsv") -> SampleSheet:
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "identifier"
    return SampleSheet.from_table(table, source)


def test_the_covariates_are_added_and_condition_left_out(sheet):
    merged, added = with_batch_factors(sheet, read_samples(BATCH))
    assert added == ("W_1",)
    assert list(merged.table.columns) == ["condition", "type", "W_1"]
    assert merged.header == ("sample", "condition", "type", "W_1")
    assert merged.table.loc["treated2", "W_1"] == "0.268"
    # The sheet's own columns keep their values, whatever the batch file says of them.
    assert (merged.table["condition"] == sheet.table["condition"]).all()


def test_rows_of_other_samples_are_not_used_and_the_sheets_columns_are_left_out(sheet):
    rows = {s: {"type": "x", "SV1": str(i / 10)} for i, s in enumerate(sheet.table.index)}
    rows["elsewhere"] = {"type": "x", "SV1": "9"}
    merged, added = with_batch_factors(sheet, batch_sheet(rows))
    assert added == ("SV1",) and list(merged.table.index) == list(sheet.table.index)
    assert list(merged.table["type"]) == list(sheet.table["type"])


def test_a_sample_without_a_row_is_named(sheet):
    rows = {s: {"W_1": "0.1"} for s in sheet.table.index if s != "treated3"}
    with pytest.raises(InputError, match=r"^batch.tsv: no row for sample\(s\) 'treated3'; its first column must"):
        with_batch_factors(sheet, batch_sheet(rows))


def test_a_file_with_nothing_to_add_is_refused(sheet):
    rows = {s: {"condition": "a", "type": "b"} for s in sheet.table.index}
    with pytest.raises(InputError, match="no batch-factor column besides 'condition' and the sample sheet's"):
        with_batch_factors(sheet, batch_sheet(rows))


@pytest.fixture
def merged(sheet) -> SampleSheet:
    return with_batch_factors(sheet, read_samples(BATCH))[0]


@pytest.mark.parametrize(
    ("options", "design", "reduced"),
    [
        ({}, "~ W_1 + condition", None),
        ({"factor": "condition", "blocking": ("type",)}, "~ W_1 + type + condition", None),
        ({"factor": "condition", "test": "lrt"}, "~ W_1 + condition", "~ W_1"),
        ({"factor": "condition", "blocking": ("type",), "test": "lrt"}, "~ W_1 + type + condition", "~ W_1 + type"),
        ({"design": "~ type + W_1 + condition"}, "~ type + W_1 + condition", None),
    ],
)
def test_the_covariates_come_first_in_the_design(merged, options, design, reduced):
    request = settle_request(AnalysisOptions(batch_columns=("W_1",), **options), merged)
    assert request.design.text() == design
    assert request.options.reduced == reduced
    assert request.factor == "condition"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"design": "~ type + condition"}, "--design '~ type + condition' leaves out the batch factor(s) W_1"),
        (
            {"design": "~ W_1 + condition", "test": "lrt", "reduced": "~ 1"},
            "--reduced '~ 1' leaves out the batch factor(s) W_1 of --batch-factors: name them in the formula",
        ),
    ],
)
def test_a_written_formula_must_name_the_covariates(merged, options, message):
    with pytest.raises(InputError, match=re.escape(message)):
        settle_request(AnalysisOptions(batch_columns=("W_1",), **options), merged)


@pytest.mark.r  # run starts R in the background before it reads
def test_the_cli_names_the_missing_sample_and_writes_nothing(tmp_path, cli):
    batch = tmp_path / "batch.tsv"
    batch.write_text("".join(BATCH.read_text().splitlines(keepends=True)[:-1]))  # treated3 left out
    out = tmp_path / "out"
    run = cli(
        "run", "--counts", TEST_DATA / "pasilla_normalized.tsv", "--samples", TEST_DATA / "pasilla_samples.tsv",
        "--batch-factors", batch, "--batch-factors-name", "RUVSeq factors", "--out-dir", out,
    )  # fmt: skip
    assert run.code == 2
    assert run.err.strip().endswith(
        "error: RUVSeq factors: no row for sample(s) 'treated3'; its first column must name the samples "
        "(for example 'untreated1', 'untreated2', 'untreated3')"
    )
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.r
def test_the_report_names_the_batch_factor_file(tmp_path, cli):
    out = tmp_path / "out"
    run = cli(
        "run", "--counts", TEST_DATA / "galaxy_normalized.tsv", "--samples", TEST_DATA / "pasilla_samples.tsv",
        "--batch-factors", BATCH, "--batch-factors-name", "RUVSeq factors", "--out-dir", out,
        "--transform", "none", "--plots", "none",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert "'condition' left out of the design" in run.err
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<th>batch factors</th><td>RUVSeq factors</td>" in page
    assert "~ W_1 + condition" in page


@pytest.mark.r
def test_recovered_counts_with_batch_factors_equal_deseq2_on_the_raw_counts(tmp_path, raw_path, samples_path, rscript):
    reference = tmp_path / "raw.tsv"
    rscript("raw_deseq2.R", raw_path, samples_path, reference, "0", BATCH)
    sheet, added = with_batch_factors(read_samples(samples_path), read_samples(BATCH))
    result = run_analysis(
        read_counts(TEST_DATA / "pasilla_normalized.tsv"),
        sheet,
        factor="condition",
        blocking=("type",),
        batch_columns=added,
        reference="untreated",
        transform="none",
    )
    record = build_diagnostics(result)
    assert record["design"] == "~ W_1 + type + condition"
    assert record["method"]["name"] == "recover"
    assert record["options"]["batch_columns"] == ["W_1"] and record["options"]["numeric_columns"] == ["W_1"]
    ours = assert_agrees(result.results[STEM], reference)
    # The covariate changed the fit: not the results without it.
    without = (
        run_analysis(
            read_counts(TEST_DATA / "pasilla_normalized.tsv"),
            read_samples(samples_path),
            factor="condition",
            blocking=("type",),
            reference="untreated",
            transform="none",
        )
        .results[STEM]
        .loc[ours.index]
    )
    assert not np.allclose(without["stat"], ours["stat"])
