"""The Galaxy form, the command line, the messages' form labels and the docs agree.

Read from ``tool/deseq2_normalized.xml`` (macros expanded by hand where a test needs them):
every ``argument=`` is an option of ``deseq2-normalized run``, every option the form sets has
its label in :data:`deseq2_normalized.interface.GALAXY_LABELS`, the outputs the command line
names for Galaxy's metadata exist, and the docs count the tool's tests right.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from deseq2_normalized.cli import build_parser
from deseq2_normalized.interface import GALAXY_LABELS
from deseq2_normalized.outputs import GALAXY_OUTPUTS

ROOT = Path(__file__).resolve().parent.parent
TOOL = ET.parse(ROOT / "tool" / "deseq2_normalized.xml").getroot()
MACROS = ET.parse(ROOT / "tool" / "macros.xml").getroot()
COMMAND = TOOL.findtext("command") or ""
# The form's top-level fields: a command-line value taken from one of them comes from the form.
FORM_ROOTS = {el.get("name") or el.get("argument", "").lstrip("-") for el in TOOL.find("inputs")}  # type: ignore[union-attr]


def run_options() -> set[str]:
    """Every option string of ``deseq2-normalized run``."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    run = sub.choices["run"]  # type: ignore[index]
    return {flag for action in run._actions for flag in action.option_strings}


def params() -> list[ET.Element]:
    """The form's parameters, those of the macros the form expands included."""
    return [*TOOL.find("inputs").iter("param"), *MACROS.iter("param")]  # type: ignore[union-attr]


def argument_params() -> dict[str, ET.Element]:
    return {p.get("argument", ""): p for p in params() if p.get("argument")}


def command_flags() -> set[str]:
    """Flags the command gives a form value: ``--flag '$field...'`` or a boolean's true/false value."""
    # Loop variables over a repeat of the form ($group, $pair) hold form values too.
    roots = FORM_ROOTS | {var for var, root in re.findall(r"#for \$(\w+) in \$(\w+)", COMMAND) if root in FORM_ROOTS}
    flags = {
        flag
        for flag, root in re.findall(r"(--[a-z][a-z-]*) '\$\{?(\w+)", COMMAND)
        if root in roots  # not a value the command computes ($counts_name, $samples_name)
    }
    for param in params():
        if param.get("type") == "boolean":
            flags |= {v for v in (param.get("truevalue"), param.get("falsevalue")) if v and v.startswith("--")}
    return flags


def test_the_form_reads_as_expected():
    # Guards of the tests below: they read what they mean to read.
    assert {"counts", "mode", "advanced", "output_options"} <= FORM_ROOTS
    assert {"--factor", "--blocking", "--design", "--contrast", "--group", "--no-header"} <= command_flags()
    assert {"--method", "--lfc-threshold", "--no-cooks-cutoff", "--no-independent-filtering"} <= set(argument_params())


def test_every_argument_is_a_run_option():
    options = run_options()
    assert "--counts" in options and "--no-independent-filtering" in options
    missing = sorted(set(argument_params()) - options)
    assert not missing, f"argument= in the tool XML but not an option of 'deseq2-normalized run': {missing}"


def test_every_flag_the_command_gives_a_form_value_is_a_run_option():
    missing = sorted(command_flags() - run_options())
    assert not missing, f"the tool's command uses flags 'deseq2-normalized run' does not have: {missing}"


def test_every_option_of_the_form_has_its_label():
    """Messages in Galaxy name the form's field of every option the form sets (``--interface galaxy``)."""
    missing = sorted((set(argument_params()) | command_flags()) - set(GALAXY_LABELS))
    assert not missing, f"form options without a label in interface.GALAXY_LABELS: {missing}"


@pytest.mark.parametrize("flag", sorted(argument_params()))
def test_the_label_is_the_forms(flag):
    """A field with ``argument=`` is named in messages exactly as the form labels it."""
    assert GALAXY_LABELS[flag] == argument_params()[flag].get("label")


def test_boolean_flags_name_their_field():
    for param in params():
        if param.get("type") != "boolean":
            continue
        for flag in (param.get("truevalue"), param.get("falsevalue")):
            if flag and flag.startswith("--"):
                assert GALAXY_LABELS[flag] == param.get("label"), flag


def test_galaxy_metadata_names_existing_outputs():
    """The outputs :func:`deseq2_normalized.outputs.galaxy_metadata` names are tabular outputs of the tool."""
    outputs = {data.get("name"): data for data in TOOL.find("outputs").iter("data")}
    for file, name in {**GALAXY_OUTPUTS, "results_*.tsv": "result"}.items():
        assert name in outputs, name
        assert outputs[name].get("format") == "tabular", name
        source = outputs[name].get("from_work_dir")
        assert source is None or source == f"out/{file}", (name, source)
    assert "--galaxy-metadata galaxy.json" in COMMAND


def _test_count() -> int:
    return len(TOOL.find("tests").findall("test"))  # type: ignore[union-attr]


def test_docs_count_the_tool_tests():
    n = _test_count()
    assert n >= 18
    galaxy_md = (ROOT / "docs" / "galaxy.md").read_text()
    said = re.findall(r"runs the tool's (\d+) tests", galaxy_md)
    assert said == [str(n)], f"docs/galaxy.md says {said} tool tests, the XML has {n}"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    said = re.findall(r"Galaxy tool \(IUC style\) with (\d+) tests", changelog)
    assert said == [str(n)], f"CHANGELOG.md says {said} tool tests, the XML has {n}"


def test_galaxy_metadata_of_one_results_table_and_of_several():
    from deseq2_normalized.outputs import galaxy_metadata

    names = ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "symbol"]
    one = galaxy_metadata({"results_lrt.tsv": names, "size_factors.tsv": ["sample", "size_factor"]})
    assert one == {
        "result": {"metadata": {"column_names": names}},
        "size_factors": {"metadata": {"column_names": ["sample", "size_factor"]}},
    }
    # Several results tables are the elements of a collection: Galaxy would then skip its own
    # column detection, so they get no names; the other outputs keep theirs.
    tables = {"results_a_x_vs_y.tsv": names, "results_a_z_vs_y.tsv": names, "model_size_factors.tsv": []}
    several = galaxy_metadata(tables)
    assert set(several) == {"model_size_factors"}


def test_no_output_choice_is_part_of_another():
    """The outputs' filters test ``'x' in output_options['outputs']``, which Galaxy may give as a comma-joined text."""
    select = next(p for p in params() if p.get("name") == "outputs")
    values = [o.get("value", "") for o in select.iter("option")]
    assert "sizefactors" in values and "size_factors" in values
    assert not [(a, b) for a in values for b in values if a != b and a in b]
