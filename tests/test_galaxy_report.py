"""What the Galaxy tool asks of the command line.

Form labels in messages, the report as files, results without a header, the reference level
picked by name.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from deseq2_normalized import interface
from deseq2_normalized.cli import main
from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import settle_request

DATA = Path(__file__).resolve().parent.parent / "test-data"
STEM = "results_condition_treated_vs_untreated"


@pytest.fixture
def galaxy_interface():
    interface.set_interface(interface.GALAXY)
    yield
    interface.set_interface(interface.CLI)


def test_option_names_the_flag_on_the_command_line() -> None:
    assert interface.current() == interface.CLI
    assert interface.option("--method", "recover") == "--method recover"
    assert interface.option("--strict") == "--strict"
    assert interface.translate("use --method recover or --strict") == "use --method recover or --strict"


def test_option_names_the_form_field_in_galaxy(galaxy_interface) -> None:
    assert interface.option("--method", "recover") == "'How the normalized table becomes counts' = recover"
    assert interface.option("--reference") == "'Reference level'"
    text = interface.translate("--strict: check failed; rerun with --method round, or --reference 'x' is wrong")
    assert text == (
        "'Stop when the size-factor check fails': check failed; rerun with "
        "'How the normalized table becomes counts' = round, or 'Reference level' 'x' is wrong"
    )
    # A flag the form does not have stays as it is; so does a word that merely follows a flag.
    assert (
        interface.translate("--seed 3 and --alpha is too large")
        == "--seed 3 and 'Adjusted p-value cut-off' is too large"
    )


def test_interface_holds_for_one_command_line_call_only(tmp_path: Path) -> None:
    """``--interface galaxy`` names the form's fields in that call's errors, then the naming is back."""
    missing = tmp_path / "absent.tsv"
    code = main(["check", "--interface", "galaxy", "--counts", str(missing), "--quiet"])
    assert code == 2
    assert interface.current() == interface.CLI


def test_unknown_interface_is_refused() -> None:
    with pytest.raises(ValueError, match="interface must be one of cli, galaxy"):
        interface.set_interface("web")


def pick_reference(design: str | None, sheet: pd.DataFrame, factor: str | None = None) -> str | None:
    """The reference ``pick_reference`` settles on (the command line's ``--pick-reference``)."""
    opts = AnalysisOptions(design=design, factor=factor, pick_reference=True)
    return settle_request(opts, sheet).options.reference


def _sheet(levels: list[str]) -> pd.DataFrame:
    names = [f"s{i}" for i in range(len(levels))]
    return pd.DataFrame({"batch": ["a", "b"] * (len(levels) // 2), "condition": levels}, index=names)


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (["treated", "untreated"] * 2, "untreated"),
        (["KO", "WT"] * 2, "WT"),
        (["Control", "drug"] * 2, "Control"),
        (["mock", "infected"] * 2, "mock"),
    ],
)
def test_pick_reference_takes_the_control_named_level(levels: list[str], expected: str, caplog) -> None:
    caplog.set_level("INFO", logger="deseq2_normalized")
    assert pick_reference(None, _sheet(levels)) == expected
    assert f"reference level of 'condition': '{expected}' (picked as a control's name" in caplog.text


def test_pick_reference_uses_the_design_s_last_variable() -> None:
    sheet = _sheet(["treated", "untreated"] * 2)
    sheet["batch"] = ["control", "other"] * 2
    assert pick_reference("~ condition + batch", sheet) == "control"


def test_pick_reference_uses_the_factor_of_interest() -> None:
    sheet = _sheet(["treated", "untreated"] * 2)
    sheet["batch"] = ["control", "other"] * 2
    assert pick_reference("~ condition + batch", sheet, factor="condition") == "untreated"


def test_a_given_reference_is_kept() -> None:
    opts = AnalysisOptions(reference="treated", pick_reference=True)
    assert settle_request(opts, _sheet(["treated", "untreated"] * 2)).options.reference == "treated"


def test_pick_reference_stops_without_a_control_name(galaxy_interface) -> None:
    with pytest.raises(
        InputError, match=r"none of its levels \(high, low\) is named like a control .*: set 'Reference level'"
    ):
        pick_reference(None, _sheet(["high", "low"] * 2))


def test_pick_reference_stops_with_two_control_names() -> None:
    with pytest.raises(InputError, match=r"several levels are named like a control \(control, mock\): set --reference"):
        pick_reference(None, _sheet(["mock", "control", "drug", "drug"]))


@pytest.fixture(scope="module")
def galaxy_run(tmp_path_factory) -> Path:
    """The Galaxy tool's command: galaxy interface, report as files, no header, reference picked."""
    out = tmp_path_factory.mktemp("galaxy")
    code = main(
        [
            "run", "--counts", str(DATA / "galaxy_normalized.tsv"), "--samples", str(DATA / "pasilla_samples.tsv"),
            "--out-dir", str(out), "--design", "~ type + condition", "--pick-reference", "--no-header",
            "--report-form", "files", "--plots", "none", "--interface", "galaxy", "--quiet",
        ]
    )  # fmt: skip
    interface.set_interface(interface.CLI)
    assert code == 0
    return out


@pytest.mark.r
def test_results_without_header_are_one_gene_per_line(galaxy_run: Path) -> None:
    lines = (galaxy_run / f"{STEM}.tsv").read_text().splitlines()
    assert len(lines) == 2439
    assert all(re.fullmatch(r"FBgn\d+(\t[^\t]+){6}", line) for line in lines)
    top = lines[0].split("\t")
    assert top[0] == "FBgn0003360" and float(top[2]) < -3  # the picked reference: treated vs untreated


@pytest.mark.r
def test_report_files_are_flat_and_every_plot_is_referenced(galaxy_run: Path) -> None:
    folder = galaxy_run / "report"
    assert not (galaxy_run / "report.html").exists()
    page = (folder / "report.html").read_text()
    pngs = sorted(p.name for p in folder.glob("*.png"))
    # The default method recovers the subset's raw counts: the rounded-vs-recovered dispersion plot is the 8th.
    assert len(pngs) == 8 and "dispersion_rounded_vs_recovered.png" in pngs, pngs
    assert sorted(re.findall(r'<img src="([^"]+)"', page)) == pngs
    assert '<link rel="stylesheet" href="report.css">' in page and '<script src="report.js"></script>' in page
    assert "font-family" in (folder / "report.css").read_text()
    assert "addEventListener" in (folder / "report.js").read_text()
    # Nothing a cleaning server would turn into visible text or strip: no inline style, script or data.
    for absent in ("<style", "<script>", "data:", "<title>"):
        assert absent not in page, absent
    assert not [p for p in folder.iterdir() if p.is_dir()]


@pytest.mark.r
def test_report_names_the_form_fields(galaxy_run: Path) -> None:
    page = (galaxy_run / "report" / "report.html").read_text()
    assert "&#x27;How the normalized table becomes counts&#x27; = " in page
    assert "--method" not in page
