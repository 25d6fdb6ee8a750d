"""Each option is declared once, on its :class:`AnalysisOptions` field (``options.option``).

The command line, ``diagnostics.json``'s ``options``, the report's design rows, the Galaxy labels
and the R backend's option lists are read from the fields: these tests check that each of them
shows every field that declares it, as declared, and nothing else. No R.
"""

from __future__ import annotations

import argparse
import ast
import re
from dataclasses import fields
from pathlib import Path

import pytest

from built_result import build_result
from deseq2_normalized import report
from deseq2_normalized.cli import build_parser
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.interface import GALAXY_LABELS
from deseq2_normalized.options import (
    AnalysisOptions,
    FitOptions,
    OptionText,
    ResultsOptions,
    cli_flag,
    described,
    text,
)
from deseq2_normalized.reader import read_counts, read_samples

RBACKEND = Path(__file__).resolve().parent.parent / "src" / "deseq2_normalized" / "rbackend.py"
#: Fields the command line declares by hand: ``--factor``, ``--blocking`` (repeated), ``--contrast`` (repeated,
#: singular), ``--pick-reference`` (settled against the sheet), ``--strict``/``--no-strict``.
BY_HAND = {"factor", "blocking", "contrasts", "pick_reference", "strict"}
#: Fields no command-line option sets: the command line derives them (batch_columns from --batch-factors).
DERIVED = {"compare_rounded", "batch_columns"}


def subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def options_of(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


@pytest.fixture(scope="module")
def changed() -> AnalysisOptions:
    """Options away from their defaults wherever the report or diagnostics show them."""
    return AnalysisOptions(
        design="~ type + condition",
        reference="untreated",
        fit_type="mean",
        alpha=0.05,
        lfc_threshold=0.5,
        independent_filtering=False,
        cooks_cutoff=False,
        shrink="normal",
        transform="both",
        outlier_replacement=False,
        sf_type="poscounts",
        factor_columns=("type",),
        threads=3,
        strict=False,
    )


@pytest.fixture(scope="module")
def result(normalized_path, samples_path, changed):
    return build_result(read_counts(normalized_path).iloc[:1500], read_samples(samples_path), changed)


def test_every_field_the_command_line_sets_declares_its_help_there():
    run = subparser("run")
    surfaced = {a.dest for a in run._actions} & {f.name for f in fields(AnalysisOptions)}
    declared = {f.name for f, _ in described(where="cli")}
    assert surfaced - BY_HAND == declared
    assert {f.name for f in fields(AnalysisOptions)} - surfaced == DERIVED
    for f, shown in described(where="cli"):
        assert shown.help and shown.help.strip() == shown.help, f.name


@pytest.mark.parametrize("command", ["run", "check", "recover"])
def test_each_option_is_declared_as_its_field_says(command):
    declared = options_of(subparser(command))
    for f, shown in described(where="cli"):
        if command != "run" and not shown.every_command:
            assert cli_flag(f.name) not in declared, f.name
            continue
        action = declared[cli_flag(f.name)]
        assert (action.dest, action.default, action.help, action.metavar) == (
            f.name,
            f.default,
            shown.help,
            shown.metavar,
        )


def test_a_switch_on_by_default_is_turned_off_by_its_no_flag():
    declared = options_of(subparser("run"))
    assert declared["--no-cooks-cutoff"].dest == "cooks_cutoff"
    assert "--cooks-cutoff" not in declared
    args = build_parser().parse_args(["run", "--counts", "c", "--samples", "s", "--out-dir", "o", "--no-cooks-cutoff"])
    assert AnalysisOptions.from_namespace(args).cooks_cutoff is False


def test_list_options_are_parsed_into_tuples_of_names():
    args = build_parser().parse_args(
        ["run", "--counts", "c", "--samples", "s", "--out-dir", "o", "--numeric-columns", "RIN, W_1"]
    )
    assert AnalysisOptions.from_namespace(args).numeric_columns == ("RIN", "W_1")


def test_diagnostics_record_the_recorded_fields_by_name_in_field_order(result, changed):
    record = build_diagnostics(result)["options"]
    expected = [f.name for f, _ in described(where="diagnostics")]
    assert list(record) == expected
    # The order diagnostics.json has always had.
    assert expected == [
        "fit_type", "alpha", "lfc_threshold", "independent_filtering", "cooks_cutoff", "shrink", "transform",
        "beta_prior", "outlier_replacement", "sf_type", "numeric_columns", "factor_columns", "threads", "reference",
        "strict", "batch_columns", "prefilter",
    ]  # fmt: skip
    for f, _ in described(where="diagnostics"):
        if f.name != "numeric_columns":
            value = getattr(changed, f.name)
            assert record[f.name] == (list(value) if isinstance(value, tuple) else value), f.name
    # The design's numeric covariates as the run settled them: none in ~ type + condition.
    assert record["numeric_columns"] == []


def design_rows(page: str) -> list[tuple[str, str]]:
    table = re.search(r'<section id="design">.*?<table class="kv">(.*?)</table>', page, re.S)
    assert table is not None
    return re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", table.group(1))


def test_the_report_shows_the_declared_rows_with_the_declared_words(result):
    rows = design_rows(report._design_section(result))
    assert [label for label, _ in rows] == ["design", *(str(shown.report) for _, shown in described(where="report"))]
    assert rows == [
        ("design", "~ type + condition"),
        ("test", "wald"),
        ("fit type", "mean"),
        ("alpha (padj cut-off)", "0.05"),
        ("log2 fold-change threshold", "0.5"),
        ("shrinkage", "normal"),
        ("transformation", "vst and rlog"),
        ("betaPrior", "no"),
        ("outlier replacement", "off"),
        ("pre-filter (minimum total count)", "off"),
    ]


def test_every_galaxy_label_of_a_field_names_its_flag():
    declared = list(described(where="galaxy"))
    assert len(declared) >= 15
    for f, shown in declared:
        assert GALAXY_LABELS[cli_flag(f.name)] == shown.galaxy


def test_a_field_without_texts_is_shown_nowhere():
    compare = next(f for f in fields(AnalysisOptions) if f.name == "compare_rounded")
    assert text(compare) == OptionText()
    for where in ("cli", "report", "diagnostics", "galaxy"):
        assert "compare_rounded" not in {f.name for f, _ in described(where=where)}


@pytest.mark.parametrize("part", [FitOptions, ResultsOptions])
def test_the_backends_options_are_fields_of_the_run_options_read_by_name(part, changed):
    analysis = {f.name: f for f in fields(AnalysisOptions)}
    for f in fields(part):
        assert str(f.type) == str(analysis[f.name].type), f.name
    read = changed.fit_options if part is FitOptions else changed.results_options
    assert {f.name: getattr(read, f.name) for f in fields(part)} == {
        f.name: getattr(changed, f.name) for f in fields(part)
    }


@pytest.mark.parametrize(("helper", "part"), [("fit_options", FitOptions), ("results_options", ResultsOptions)])
def test_rbackend_passes_every_option_to_r_by_its_name(helper, part):
    tree = ast.parse(RBACKEND.read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == helper
    ]
    assert len(calls) == 1
    assert [k.arg for k in calls[0].keywords] == [f.name for f in fields(part)]
