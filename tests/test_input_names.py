"""``--counts-name`` / ``--samples-name``: what messages, the report and diagnostics call the inputs.

A Galaxy job sees ``dataset_123.dat`` files; its users know the dataset names.
"""

from __future__ import annotations

import json

import pytest

from tables import SAMPLES, nb_counts
from tables import write_counts as write_table


def values(n=200, seed=5):
    return nb_counts(n, len(SAMPLES), seed)


def error_line(err):
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


def test_counts_errors_name_the_dataset(tmp_path, cli):
    table = values().astype(str)
    table[2, 1] = "twelve"
    counts = write_table(tmp_path / "dataset_17.dat", table)
    res = cli("check", "--counts", counts, "--counts-name", "my counts.tsv")
    assert res.code == 2
    line = error_line(res.err)
    assert "my counts.tsv: row 3 (gene 'g2'), column 'a2': 'twelve' is not a number" in line
    assert "dataset_17.dat" not in line


def test_sample_sheet_errors_name_the_dataset(r_unavailable, tmp_path, cli):
    counts = write_table(tmp_path / "dataset_1.dat", values())
    sheet = tmp_path / "dataset_2.dat"
    sheet.write_text("sample\tcondition\na1\tA\na2\tA\nb1\tB\nb2\tB\na1\tB\n", encoding="utf-8")
    res = cli(
        "run", "--counts", counts, "--samples", sheet, "--samples-name", "design sheet", "--out-dir", tmp_path / "o"
    )
    assert res.code == 2
    line = error_line(res.err)
    assert "design sheet" in line and "sample 'a1' is duplicated" in line
    assert "dataset_2.dat" not in line
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.r
def test_report_and_diagnostics_use_the_names(tmp_path, cli):
    counts = write_table(tmp_path / "dataset_1.dat", values())
    sheet = tmp_path / "dataset_2.dat"
    sheet.write_text("sample\tcondition\na1\tA\na2\tA\nb1\tB\nb2\tB\n", encoding="utf-8")
    out = tmp_path / "out"
    res = cli(
        "run", "--counts", counts, "--counts-name", "Normalized counts <lab A>", "--samples", sheet,
        "--samples-name", "samples.tsv", "--out-dir", out, "--transform", "none", "--plots", "none",
    )  # fmt: skip
    assert res.code == 0, res.err
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert diagnostics["input"]["counts"] == "Normalized counts <lab A>"
    report = (out / "report.html").read_text()
    assert "Normalized counts &lt;lab A&gt;" in report and "samples.tsv" in report
    assert "dataset_1.dat" not in report and "dataset_2.dat" not in report
