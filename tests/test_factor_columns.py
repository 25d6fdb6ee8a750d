"""``run --factor``/``--blocking``: the design built in Python from sample-sheet columns.

The Galaxy tool passes the form's column numbers as they are; planning turns them into the
design, refuses what cannot be a factor, and names the factor of ``NUM,DEN`` contrasts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.analysis import run_analysis
from deseq2_normalized.design import FactorDesign, factor_design, parse_design
from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import plan_run, settle_request
from deseq2_normalized.reader import read_counts, read_samples, sample_sheet_header
from deseq2_normalized.validate import match_samples

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


# --- the request settled against the sheet (the Python API and the command line alike) -------------


def settled(**given):
    """The options as :func:`settle_request` settles them against the sheet with spaces in its names."""
    given.setdefault("test", "wald")
    opts = AnalysisOptions(**given)
    opts.validate()
    return settle_request(opts, read_samples(SPACES, "spaces")).options


def test_factor_and_blocking_build_the_design():
    opts = settled(factor="2", blocking=("library type",), contrasts=(("", "treated", "untreated"),))
    assert opts.design == "~ `library type` + `treatment group`"
    assert opts.reduced is None  # a Wald test has no reduced design
    assert opts.contrasts == (("treatment group", "treated", "untreated"),)


def test_factor_gives_the_likelihood_ratio_test_its_reduced_design():
    assert settled(factor="2", blocking=("3",), test="lrt").reduced == "~ `library type`"
    assert settled(factor="2", test="lrt").reduced == "~ 1"
    assert settled(factor="2", blocking=("3",), test="lrt", reduced="~ 1").reduced == "~ 1"


def test_two_part_contrasts_without_factor_take_the_designs_last_variable():
    opts = settled(design="~ `treatment group` + `library type`", contrasts=(("", "paired_end", "single_read"),))
    assert opts.design == "~ `treatment group` + `library type`"
    assert opts.contrasts == (("library type", "paired_end", "single_read"),)
    # Three-part contrasts are kept as given.
    assert settled(factor="2", contrasts=(("library type", "a", "b"),)).contrasts == (("library type", "a", "b"),)


def test_factor_with_a_design_is_the_factor_of_interest_for_everything():
    """A custom design (the Galaxy form's formula field) keeps the form's factor, for everything."""
    opts = settled(factor="2", design="~ `treatment group` + `library type`", contrasts=(("", "treated", "untreated"),))
    assert (opts.design, opts.contrasts) == (
        "~ `treatment group` + `library type`", (("treatment group", "treated", "untreated"),)
    )  # fmt: skip
    both = "~ `treatment group` + `library type`"
    assert settled(factor="2", design=both, test="lrt", reduced="~ 1").reduced == "~ 1"
    sheet = read_samples(SPACES, "spaces")
    request = settle_request(AnalysisOptions(factor="2", design="~ `treatment group` + `library type`"), sheet)
    assert request.factor == "treatment group"
    plan = plan_run(request.options, match_samples(sheet.table, list(sheet.table.index)).table, request)
    assert [(c.factor, c.numerator, c.denominator) for c in plan.contrasts] == [
        ("treatment group", "untreated", "treated")
    ]
    assert error(lambda: settled(factor="1", design="~ `library type`")).startswith(
        "--factor: column 1 ('sample') of the sample sheet"
    )


def test_without_factor_the_options_are_unchanged():
    opts = settled(design="~ `library type`", test="lrt", reduced="~ 1")
    assert (opts.design, opts.reduced, opts.contrasts) == ("~ `library type`", "~ 1", ())


def test_factor_by_number_counts_a_table_s_index_as_column_1():
    """A sheet held in memory (the Python API): column 1 is its sample names."""
    table = pd.DataFrame({"condition": ["a", "b"], "batch": ["x", "y"]}, index=pd.Index(["s1", "s2"], name="sample"))
    assert settle_request(AnalysisOptions(factor="3"), table).options.design == "~ batch"
    assert settle_request(AnalysisOptions(factor="condition", blocking=("3",)), table).design == parse_design(
        "~ batch + condition", ["condition", "batch"]
    )


def test_option_combinations_refused():
    assert error(lambda: settled(blocking=("3",))) == (
        "--blocking needs --factor: the blocking columns come before the factor of interest"
    )
    assert error(lambda: settled(factor="2", blocking=("3",), design="~ `library type`")).startswith(
        "--blocking builds the design with --factor"
    )


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
    # The Python API takes the same request: columns by number, a two-part contrast, a picked reference.
    api = run_analysis(
        read_counts(TEST_DATA / "galaxy_normalized.tsv"), read_samples(SPACES, "spaces"),
        factor="2", blocking=("3",), contrasts=(("", "treated", "untreated"),), pick_reference=True,
        method="round", transform="none",
    )  # fmt: skip
    assert api.options.reference == "untreated" and api.design.text() == "~ `library type` + `treatment group`"
    ours = api.results[name.removesuffix(".tsv")]
    theirs = _table(tmp_path / "columns" / name)
    assert list(ours.index) == [str(g) for g in theirs.index]
    np.testing.assert_allclose(ours["padj"].to_numpy(), theirs["padj"].to_numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.r
def test_factor_columns_lrt_drops_the_factor(tmp_path, cli):
    _run(cli, tmp_path / "lrt", "--factor", "treatment group", "--blocking", "3", "--test", "lrt")
    diagnostics = json.loads((tmp_path / "lrt" / "diagnostics.json").read_text())
    assert diagnostics["test"] == "lrt"
    assert diagnostics["design"] == "~ `library type` + `treatment group`"
    assert "~ `library type`" in json.dumps(diagnostics["contrasts"])
    assert len(_table(tmp_path / "lrt" / "results_lrt.tsv")) == 2439
