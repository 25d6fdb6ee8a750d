"""``run --factor``/``--blocking``: the design built in Python from sample-sheet columns.

The Galaxy tool passes the form's column numbers as they are; the command line turns them
into the design, refuses what cannot be a factor, and names the factor of ``NUM,DEN`` contrasts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from deseq2_normalized.design import (
    FactorDesign,
    command_line_design,
    factor_design,
    parse_design,
)
from deseq2_normalized.errors import InputError
from deseq2_normalized.reader import sample_sheet_header

TEST_DATA = Path(__file__).resolve().parent.parent / "test-data"
SPACES = TEST_DATA / "galaxy_samples_spaces.tsv"  # sample, treatment group, library type
QUICK = ("--transform", "none", "--no-report", "--plots", "none")

HEADER = ["sample", "condition", "batch", "cell type"]
DESIGN_COLUMNS = ["condition", "batch", "cell type"]


def built(factor: str, *blocking: str, header: list[str] = HEADER) -> FactorDesign:
    return factor_design(header, [c for c in header if c != "sample"], factor, blocking, "s.tsv")


def error(call) -> str:
    with pytest.raises(InputError) as info:
        call()
    return str(info.value)


# --- columns by name or number ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "blocking", "text"),
    [
        ("condition", (), "~ condition"),
        ("2", (), "~ condition"),
        (" 2 ", (), "~ condition"),
        ("condition", ("batch",), "~ batch + condition"),
        ("2", ("3",), "~ batch + condition"),
        ("4", ("3",), "~ batch + `cell type`"),
        ("cell type", ("batch",), "~ batch + `cell type`"),
        ("condition", ("cell type", "batch"), "~ `cell type` + batch + condition"),
        ("condition", ("4,3",), "~ `cell type` + batch + condition"),
        ("condition", ("cell type,batch",), "~ `cell type` + batch + condition"),
        ("condition", ("batch", "3"), "~ batch + condition"),  # the same column twice: taken once
    ],
)
def test_design_from_names_and_numbers(factor, blocking, text):
    design = built(factor, *blocking)
    assert design.design.text() == text
    # The text is what --design is given: it parses back to the same terms.
    assert parse_design(text, DESIGN_COLUMNS) == design.design


def test_numbers_count_every_column_of_the_sheet_file():
    # The sample-name column need not come first; column N is still the file's N-th column.
    header = ["condition", "Sample", "batch"]
    assert factor_design(header, ["condition", "batch"], "1", ["3"]).design.text() == "~ batch + condition"
    message = error(lambda: factor_design(header, ["condition", "batch"], "2", (), "s.tsv"))
    assert message.startswith("--factor: column 2 ('Sample') of the sample sheet 's.tsv' holds the sample names")


def test_a_column_named_with_a_comma_is_one_blocking_column():
    header = ["sample", "condition", "lane,flowcell"]
    assert built("condition", "lane,flowcell", header=header).blocking == ("lane,flowcell",)


def test_reduced_design_drops_the_factor():
    assert built("condition", "3", "cell type").reduced_text() == "~ batch + `cell type`"
    assert built("condition").reduced_text() == "~ 1"


def test_sheet_header_reads_the_file_as_the_reader_does(tmp_path):
    assert sample_sheet_header(SPACES, "spaces") == ["sample", "treatment group", "library type"]
    # R's write.table: no header field for the row names, which are column 1 of the rows.
    path = tmp_path / "s.tsv"
    path.write_text('\n"condition"\t"batch"\n"a1"\t"A"\t"x"\n"b1"\t"B"\t"y"\n')
    header = sample_sheet_header(path, "s.tsv")
    assert header == ["", "condition", "batch"]
    assert factor_design(header, ["condition", "batch"], "2", ["3"]).design.text() == "~ batch + condition"
    assert "column 1 ('sample')" in error(lambda: factor_design(header, ["condition", "batch"], "1"))


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "blocking", "message"),
    [
        ("1", (), "--factor: column 1 ('sample') of the sample sheet 's.tsv' holds the sample names, one level per "
         "sample; pick the column that groups the samples, e.g. 'condition'"),
        ("sample", (), "--factor: column 1 ('sample') of the sample sheet 's.tsv' holds the sample names"),
        ("5", (), "--factor: column 5 is not in the sample sheet 's.tsv', whose columns are 1 'sample', "
         "2 'condition', 3 'batch', 4 'cell type'"),
        ("0", (), "--factor: column 0 is not in the sample sheet 's.tsv'"),
        ("genotype", (), "--factor: 'genotype' is not a column of the sample sheet 's.tsv', whose columns are "
         "1 'sample', 2 'condition'"),
        ("Condition", (), "--factor: 'Condition' is not a column of the sample sheet"),
        ("condition", ("2",), "--blocking: column 2 ('condition') of the sample sheet 's.tsv' is already --factor; "
         "pick other columns to adjust for, e.g. 'batch'"),
        ("2", ("batch,condition",), "--blocking: column 2 ('condition') of the sample sheet 's.tsv' is already "
         "--factor"),
        ("condition", ("1",), "--blocking: column 1 ('sample') of the sample sheet 's.tsv' holds the sample names"),
        ("condition", ("9",), "--blocking: column 9 is not in the sample sheet 's.tsv'"),
        ("condition", ("lane",), "--blocking: 'lane' is not a column of the sample sheet 's.tsv'"),
    ],
)  # fmt: skip
def test_refusals(factor, blocking, message):
    assert message in error(lambda: built(factor, *blocking))


def test_a_name_with_a_backtick_is_refused():
    header = ["sample", "a`b"]
    message = error(lambda: factor_design(header, ["a`b"], "2", (), "s.tsv"))
    assert message == (
        "--factor: column 2 ('a`b') of the sample sheet 's.tsv' has a backtick in its name, which a design "
        "formula cannot quote; rename the column"
    )


# --- the command line's arguments ------------------------------------------------------------


def arguments(**given):
    values = {"factor": None, "blocking": [], "design": None, "reduced": None, "test": "wald", "contrasts": []}
    values.update(given)
    return command_line_design(["treatment group", "library type"], SPACES, "spaces", **values)


def test_arguments_with_factor_and_blocking():
    args = arguments(factor="2", blocking=["library type"], contrasts=[("", "treated", "untreated")])
    assert args.design == "~ `library type` + `treatment group`"
    assert args.reduced is None  # a Wald test has no reduced design
    assert args.contrasts == [("treatment group", "treated", "untreated")]


def test_arguments_for_the_likelihood_ratio_test():
    assert arguments(factor="2", blocking=["3"], test="lrt").reduced == "~ `library type`"
    assert arguments(factor="2", test="lrt").reduced == "~ 1"
    assert arguments(factor="2", blocking=["3"], test="lrt", reduced="~ 1").reduced == "~ 1"


def test_two_part_contrasts_without_factor_take_the_designs_last_variable():
    args = arguments(design="~ `treatment group` + `library type`", contrasts=[("", "paired_end", "single_read")])
    assert args.design == "~ `treatment group` + `library type`"
    assert args.contrasts == [("library type", "paired_end", "single_read")]
    # Three-part contrasts are kept as given.
    assert arguments(factor="2", contrasts=[("library type", "a", "b")]).contrasts == [("library type", "a", "b")]


def test_factor_with_a_design_names_the_factor_of_interest():
    """A custom design (the Galaxy form's formula field) keeps the form's factor for NUM,DEN contrasts."""
    args = arguments(factor="2", design="~ `treatment group` + `library type`", test="lrt", reduced="~ 1",
                     contrasts=[("", "treated", "untreated")])  # fmt: skip
    assert args == ("~ `treatment group` + `library type`", "~ 1", [("treatment group", "treated", "untreated")])
    assert error(lambda: arguments(factor="1", design="~ `library type`")).startswith(
        "--factor: column 1 ('sample') of the sample sheet"
    )


def test_arguments_without_factor_are_unchanged():
    assert arguments(design="~ `library type`", test="lrt", reduced="~ 1") == ("~ `library type`", "~ 1", [])


def test_argument_combinations_refused():
    assert error(lambda: arguments(blocking=["3"])) == (
        "--blocking needs --factor: the blocking columns come before the factor of interest"
    )
    message = error(lambda: command_line_design(
        ["condition"], None, None, factor="condition", blocking=[], design=None, reduced=None, test="wald",
        contrasts=[],
    ))  # fmt: skip
    assert message == "--factor names a sample-sheet column: it needs --samples"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--factor", "2", "--design", "~ type"], "--factor: column 'condition' is not a variable of the design"),
        (["--factor", "2", "--design", "~ condition", "--blocking", "type"], "error: --blocking builds the design"),
        (["--factor", "1"], "error: --factor: column 1 ('sample') of the sample sheet"),
        (["--factor", "2", "--blocking", "condition"], "error: --blocking: column 2 ('condition')"),
        (["--blocking", "type"], "error: --blocking needs --factor"),
        (["--contrast", "treated"], "'treated' is not FACTOR,NUMERATOR,DENOMINATOR or NUMERATOR,DENOMINATOR"),
        (["--contrast", ",treated,untreated"], "is not FACTOR,NUMERATOR,DENOMINATOR or NUMERATOR,DENOMINATOR"),
    ],
)
def test_cli_usage_errors(r_unavailable, tmp_path, cli, extra, message):
    run = cli("run", "--counts", TEST_DATA / "galaxy_normalized.tsv", "--samples", TEST_DATA / "pasilla_samples.tsv",
              "--out-dir", tmp_path / "out", *QUICK, *extra)  # fmt: skip
    assert run.code == 2, run.err
    assert message in run.err
    assert "Traceback" not in run.err


def test_cli_group_mode_has_no_factor_column(r_unavailable, tmp_path, cli):
    run = cli("run", "--counts", TEST_DATA / "galaxy_normalized.tsv", "--group", "treated=6,7,8",
              "--group", "untreated=2,3,4,5", "--factor", "condition",
              "--out-dir", tmp_path / "out", *QUICK)  # fmt: skip
    assert run.code == 2
    assert "error: --factor names a sample-sheet column: it needs --samples" in run.err


def test_galaxy_message_for_the_sample_name_column(r_unavailable, tmp_path, cli):
    """Tool test 13 greps this text: it must read as the form names the field."""
    run = cli("run", "--interface", "galaxy", "--counts", TEST_DATA / "galaxy_normalized.tsv",
              "--samples", TEST_DATA / "pasilla_samples.tsv", "--samples-name", "pasilla_samples.tsv",
              "--out-dir", tmp_path / "out", "--factor", "1", "--contrast", "treated,untreated",
              "--reference", "untreated")  # fmt: skip
    assert run.code == 2
    assert run.err.splitlines()[-1] == (
        "deseq2-normalized: error: 'Factor of interest': column 1 ('sample') of the sample sheet "
        "'pasilla_samples.tsv' holds the sample names, one level per sample; pick the column that groups the "
        "samples, e.g. 'condition'"
    )


# --- end to end: the same results as the equivalent --design ----------------------------------


def _run(cli, out: Path, *extra: str | Path):
    run = cli("run", "--counts", TEST_DATA / "galaxy_normalized.tsv", "--samples", SPACES, "--out-dir", out,
              "--method", "round", *QUICK, *extra)  # fmt: skip
    assert run.code == 0, run.err
    return run


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", index_col=0, keep_default_na=False, na_values=["NA"])


@pytest.mark.r
def test_factor_columns_give_the_results_of_the_equivalent_design(tmp_path, cli):
    name = "results_treatment-group_treated_vs_untreated.tsv"
    by_columns = _run(cli, tmp_path / "columns", "--factor", "2", "--blocking", "library type",
                      "--contrast", "treated,untreated", "--reference", "untreated")  # fmt: skip
    _run(cli, tmp_path / "design", "--design", "~ `library type` + `treatment group`",
         "--contrast", "treatment group,treated,untreated", "--reference", "untreated")  # fmt: skip
    pd.testing.assert_frame_equal(_table(tmp_path / "columns" / name), _table(tmp_path / "design" / name),
                                  check_exact=True)  # fmt: skip
    for folder in ("columns", "design"):
        diagnostics = json.loads((tmp_path / folder / "diagnostics.json").read_text())
        assert diagnostics["design"] == "~ `library type` + `treatment group`"
    assert "Traceback" not in by_columns.err


@pytest.mark.r
def test_factor_columns_lrt_drops_the_factor(tmp_path, cli):
    _run(cli, tmp_path / "lrt", "--factor", "treatment group", "--blocking", "3", "--test", "lrt")
    diagnostics = json.loads((tmp_path / "lrt" / "diagnostics.json").read_text())
    assert diagnostics["test"] == "lrt"
    assert diagnostics["design"] == "~ `library type` + `treatment group`"
    assert "~ `library type`" in json.dumps(diagnostics["contrasts"])
    assert len(_table(tmp_path / "lrt" / "results_lrt.tsv")) == 2439
