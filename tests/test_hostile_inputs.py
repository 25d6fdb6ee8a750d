"""A catalogue of bad inputs, each refused cleanly.

Each ends with exit code 2 (input) or 1 (analysis), exactly one ``error:`` line on stderr that
names the problem and where it is, no traceback, no output left.

Every file is generated here, in ``tmp_path``. Cases that stop before R run through both
``run`` and ``check``; the few that reach R run once.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import R_UNAVAILABLE
from tables import SAMPLES, counts_rows, nb_counts, sheet_text

N_GENES = 200
BASE = nb_counts(N_GENES, len(SAMPLES), 2024)


def counts(
    edit: Callable[[list[list[str]]], object] | None = None,
    *,
    header: list[str] | None = None,
    values: np.ndarray | None = None,
    sep: str = "\t",
) -> str:
    """A counts table as text; ``edit`` changes the rows (header first) in place before joining."""
    rows = counts_rows(BASE if values is None else values)
    rows[0] = header or rows[0]
    if edit:
        edit(rows)
    return "".join(sep.join(r) + "\n" for r in rows)


def cell(row: int, col: int, text: str) -> Callable[[list[list[str]]], None]:
    """Set one cell: ``row`` 1 is the first gene, ``col`` 1 the first sample."""

    def edit(rows: list[list[str]]) -> None:
        rows[row][col] = text

    return edit


def sheet(levels: dict[str, str] | None = None, *, extra: str = "") -> str:
    return sheet_text(levels) + extra


GOOD_COUNTS = counts()
GOOD_SHEET = sheet()


def xlsx_bytes() -> bytes:
    """A minimal but real .xlsx workbook (a zip holding the Office Open XML parts)."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
        'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'sheet.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheets><sheet name="counts" sheetId="1" r:id="rId1" xmlns:r="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>gene'
        "</t></is></c></row></sheetData></worksheet>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """One bad input: the files, extra options, the exit code and what the error line must say."""

    counts: str | bytes | None
    sheet: str | bytes | None
    code: int
    expect: tuple[str, ...]
    args: tuple[str, ...] = ()


C, S = "counts.tsv", "samples.tsv"  # the file names every message must point at

# Cases that stop before R. ``C``/``S`` in ``expect`` mean "the message names that file".
INPUT_CASES: dict[str, Case] = {
    # One sample per level (group means): refused before R, naming the factor.
    "level_per_sample_no_replicates": Case(
        GOOD_COUNTS,
        sheet({"a1": "A", "a2": "B", "b1": "C", "b2": "D"}),
        2,
        ("4 samples for the 4 coefficients", "every level of 'condition' has a single sample", "group means"),
    ),
    # --- not a text table at all
    "binary_data": Case(bytes(range(256)) * 8, GOOD_SHEET, 2, (C, "binary data")),
    "empty_file": Case(b"", GOOD_SHEET, 2, (C, "file is empty")),
    "blank_lines_only": Case("\n  \n\t\n", GOOD_SHEET, 2, (C, "file is empty")),
    "utf16_with_bom": Case(GOOD_COUNTS.encode("utf-16"), GOOD_SHEET, 2, (C, "UTF-16")),
    "utf16_without_bom": Case(GOOD_COUNTS.encode("utf-16-le"), GOOD_SHEET, 2, (C, "UTF-16")),
    "utf32": Case(GOOD_COUNTS.encode("utf-32"), GOOD_SHEET, 2, (C, "UTF-32")),
    "latin1_text": Case(counts(cell(3, 0, "g\xe9ne")).encode("latin-1"), GOOD_SHEET, 2, (C, "line 4: not valid UTF-8")),
    # Workbooks are read (recognised by content, whatever the name; tests/test_file_forms.py reads
    # real ones); this minimal one lacks the workbook's relationships part, so openpyxl cannot open it.
    "excel_renamed_tsv": Case(xlsx_bytes(), GOOD_SHEET, 2, (C, "the Excel workbook cannot be read")),
    "truncated_gzip": Case(gzip.compress(GOOD_COUNTS.encode(), mtime=0)[:-40], GOOD_SHEET, 2, (C, "gzip", "truncated")),
    "gzip_of_binary": Case(gzip.compress(bytes(range(256)), mtime=0), GOOD_SHEET, 2, (C, "binary data")),
    # --- layout
    "header_only": Case("gene\ta1\ta2\tb1\tb2\n", GOOD_SHEET, 2, (C, "header but no gene rows")),
    "single_column": Case("gene\ng1\ng2\n", GOOD_SHEET, 2, (C, "single column")),
    "single_sample": Case(
        counts(lambda r: [x.__setitem__(slice(2, None), []) for x in r]), GOOD_SHEET, 2, (C, "1 sample column(s)")
    ),
    "single_gene": Case(counts(values=BASE[:1]), GOOD_SHEET, 2, (C, "1 gene row(s)")),
    "ragged_long_row": Case(
        counts(lambda r: r[3].append("7")), GOOD_SHEET, 2, (C, "line 4 has 6 fields, the header has 5")
    ),
    "ragged_short_row": Case(
        counts(lambda r: r[3].pop()), GOOD_SHEET, 2, (C, "row 3 (gene 'g2'), column 'b2': missing value")
    ),
    "mixed_separators": Case(
        counts(lambda r: r.__setitem__(5, [",".join(r[5])])),
        GOOD_SHEET,
        2,
        (C, "row 5 (gene 'g4,", "column 'a1': missing value"),
    ),
    "unterminated_quote": Case(counts(cell(2, 0, '"g1')), GOOD_SHEET, 2, (C, "rows do not line up")),
    # --- values
    "non_numeric": Case(
        counts(cell(2, 3, "three")), GOOD_SHEET, 2, (C, "row 2 (gene 'g1'), column 'b1': 'three' is not a number")
    ),
    "na": Case(counts(cell(4, 1, "NA")), GOOD_SHEET, 2, (C, "row 4 (gene 'g3'), column 'a1': missing value")),
    "empty_cell": Case(counts(cell(5, 2, "")), GOOD_SHEET, 2, (C, "row 5 (gene 'g4'), column 'a2': missing value")),
    "nan": Case(counts(cell(6, 4, "NaN")), GOOD_SHEET, 2, (C, "row 6 (gene 'g5'), column 'b2': missing value")),
    "inf": Case(counts(cell(7, 1, "Inf")), GOOD_SHEET, 2, (C, "row 7 (gene 'g6'), column 'a1': infinite value")),
    "minus_inf": Case(counts(cell(7, 1, "-Inf")), GOOD_SHEET, 2, (C, "row 7 (gene 'g6'), column 'a1'")),
    "negative": Case(
        counts(cell(8, 3, "-3.5")), GOOD_SHEET, 2, (C, "row 8 (gene 'g7'), column 'b1': negative value -3.5")
    ),
    "over_1e15": Case(
        counts(cell(9, 2, "2e15")),
        GOOD_SHEET,
        2,
        (C, "row 9 (gene 'g8'), column 'a2': value 2e+15 exceeds the largest count"),
    ),
    "float_overflow": Case(counts(cell(9, 2, "1e400")), GOOD_SHEET, 2, (C, "column 'a2': infinite value")),
    "integer_of_400_digits": Case(counts(cell(9, 2, "9" * 400)), GOOD_SHEET, 2, (C, "column 'a2': infinite value")),
    "true_false_column": Case(
        counts(lambda r: [x.__setitem__(1, "True") for x in r[1:]]),
        GOOD_SHEET,
        2,
        (C, "column 'a1': 'True' is not a number"),
    ),
    "thousands_separator": Case(counts(cell(2, 2, "1,000")), GOOD_SHEET, 2, (C, "'1,000' is not a number")),
    "all_zero": Case(counts(values=np.zeros_like(BASE)), GOOD_SHEET, 2, (C, "every value is zero")),
    "all_zero_sample": Case(
        counts(lambda r: [x.__setitem__(4, "0") for x in r[1:]]), GOOD_SHEET, 2, (C, "column 'b2': every value is zero")
    ),
    # A table in which every gene has a zero is no longer refused: poscounts (tests/test_options_r.py).
    # --- names
    "duplicate_gene_ids": Case(
        counts(cell(3, 0, "g0")), GOOD_SHEET, 2, (C, "row 3: gene ID 'g0' is duplicated (first seen in row 1)")
    ),
    "empty_gene_id": Case(counts(cell(2, 0, "")), GOOD_SHEET, 2, (C, "row 2: empty or NA gene ID")),
    "duplicate_sample_names": Case(
        counts(header=["gene", "a1", "a2", "a1", "b2"]), GOOD_SHEET, 2, (C, "header", "sample name 'a1' is duplicated")
    ),
    "empty_sample_name": Case(
        counts(header=["gene", "a1", "", "b1", "b2"]), GOOD_SHEET, 2, (C, "header", "sample name number 2 is empty")
    ),
    "sample_names_differ_by_whitespace": Case(
        counts(header=["gene", "a1", " a1 ", "b1", "b2"]), GOOD_SHEET, 2, (C, "sample name 'a1' is duplicated")
    ),
    "sample_names_differ_by_case": Case(
        counts(header=["gene", "a1", "A1", "b1", "b2"]),
        GOOD_SHEET,
        2,
        (C, "sample name 'A1' and 'a1' differ only by letter case"),
    ),
    # --- the sample sheet
    # Only the columns the sheet names are samples (others are left out with a warning): a sheet
    # that names one sample, or none, leaves too few.
    "sheet_names_one_sample": Case(
        GOOD_COUNTS, sheet({"a1": "A", "x1": "B"}), 2, (C, "1 sample column(s); DESeq2 needs at least two samples")
    ),
    "sheet_names_no_column": Case(
        GOOD_COUNTS, sheet({"x1": "A", "x2": "B"}), 2, (C, "no column is named in the sample sheet (columns: 'a1', ")
    ),
    "sheet_duplicate_sample": Case(GOOD_COUNTS, sheet(extra="a1\tB\n"), 2, (S, "sample 'a1' is duplicated")),
    "sheet_sample_differs_by_case": Case(
        GOOD_COUNTS, sheet(extra="A1\tB\n"), 2, (S, "sample 'A1' and 'a1' differ only by letter case")
    ),
    "sheet_empty_cell": Case(
        GOOD_COUNTS,
        sheet({"a1": "A", "a2": "", "b1": "B", "b2": "B"}),
        2,
        (S, "row 2, column 'condition': empty value"),
    ),
    "sheet_header_only": Case(GOOD_COUNTS, "sample\tcondition\n", 2, (S, "header but no sample rows")),
    "sheet_single_column": Case(GOOD_COUNTS, "sample\na1\na2\nb1\nb2\n", 2, (S, "needs a sample column")),
    "sheet_ragged_row": Case(
        GOOD_COUNTS,
        sheet(extra="").replace("b1\tB\n", "b1\tB\tx\ty\n"),
        2,
        (S, "line 4 has 4 fields, the header has 2"),
    ),
    "sheet_binary": Case(GOOD_COUNTS, b"\x00\x01\x02\x03" * 64, 2, (S, "binary data")),
    "sheet_columns_differ_by_case": Case(
        GOOD_COUNTS,
        "sample\tcondition\tCondition\na1\tA\tA\n",
        2,
        (S, "column name 'Condition' and 'condition' differ only by letter case"),
    ),
    "factor_with_one_level": Case(
        GOOD_COUNTS, sheet({s: "A" for s in SAMPLES}), 2, ("factor 'condition' has a single level ('A')",)
    ),
    "design_unknown_column": Case(
        GOOD_COUNTS,
        GOOD_SHEET,
        2,
        ("design '~ batch'", "'batch' is not a sample-sheet column"),
        ("--design", "~ batch"),
    ),
    "design_junk": Case(
        GOOD_COUNTS,
        GOOD_SHEET,
        2,
        ("design '~ condition + log(x)'", "unexpected character '('"),
        ("--design", "~ condition + log(x)"),
    ),
    # --- files that are not there
    "counts_missing": Case(None, GOOD_SHEET, 2, (C, "file not found")),
    "counts_is_a_directory": Case("DIR", GOOD_SHEET, 2, (C, "is a directory")),
}

# Cases DESeq2 itself refuses, late, inside R: exit 1 with R's own message.
R_CASES: dict[str, Case] = {
    "design_not_full_rank": Case(
        GOOD_COUNTS,
        "sample\tcondition\tbatch\na1\tA\tx\na2\tA\tx\nb1\tB\ty\nb2\tB\ty\n",
        1,
        ("DESeq2 failed in R", "the model matrix is not full rank"),
        ("--design", "~ batch + condition"),
    ),
}


def materialize(tmp_path: Path, case: Case) -> tuple[Path, Path]:
    counts_path, sheet_path = tmp_path / C, tmp_path / S
    for path, content in ((counts_path, case.counts), (sheet_path, case.sheet)):
        if content == "DIR":
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            path.write_bytes(content.encode("utf-8"))
    return counts_path, sheet_path


def assert_one_error_line(err: str, expect: tuple[str, ...]) -> str:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    for text in expect:
        assert text in errors[0], errors[0]
    return errors[0]


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_the_unedited_input_passes_every_check_before_r(tmp_path, cli, r_unavailable):
    """The control of the catalogue: each case's refusal is its edit's, the input it edits is good.

    With R unavailable, ``run`` on the unedited files gets past reading, validation, the size-factor
    check and the design and stops only where R is needed; ``check`` accepts them.
    """
    counts_path, sheet_path = materialize(tmp_path, Case(GOOD_COUNTS, GOOD_SHEET, 0, ()))
    out = tmp_path / "out"
    run = cli("run", "--counts", counts_path, "--samples", sheet_path, "--out-dir", out, "--transform", "none")
    assert run.code == 1, run.err
    assert_one_error_line(run.err, (R_UNAVAILABLE,))
    assert "checking: done in" in run.err
    assert files_in(out) == []
    check = cli("check", "--counts", counts_path, "--samples", sheet_path)
    assert check.code == 0 and "error:" not in check.err


@pytest.mark.parametrize("name", sorted(INPUT_CASES))
def test_run_refuses(r_unavailable, tmp_path, cli, name):
    case = INPUT_CASES[name]
    counts_path, sheet_path = materialize(tmp_path, case)
    out = tmp_path / "out"
    run = cli(
        "run", "--counts", counts_path, "--samples", sheet_path, "--out-dir", out, "--transform", "none", *case.args
    )
    assert run.code == case.code, run.err
    assert_one_error_line(run.err, case.expect)
    assert "fitting" not in run.err
    assert files_in(out) == []


@pytest.mark.parametrize("name", sorted(n for n, c in INPUT_CASES.items() if not c.args))
def test_check_refuses(tmp_path, cli, name):
    """``check`` reads and validates the same way; a bad table or sheet is an input error there too."""
    case = INPUT_CASES[name]
    counts_path, sheet_path = materialize(tmp_path, case)
    run = cli("check", "--counts", counts_path, "--samples", sheet_path, "--json", tmp_path / "check.json")
    if name == "factor_with_one_level":
        # check does not fit a design, so a one-level factor is no problem for it.
        assert run.code == 0, run.err
        return
    assert run.code == 2, run.err
    # check names the negative tables in its own words; the file is always named.
    expect = (C,) if name in ("negative", "minus_inf") else case.expect
    assert_one_error_line(run.err, expect)
    assert not (tmp_path / "check.json").exists()


@pytest.mark.r
@pytest.mark.parametrize("name", sorted(R_CASES))
def test_r_refuses(tmp_path, cli, name):
    case = R_CASES[name]
    counts_path, sheet_path = materialize(tmp_path, case)
    out = tmp_path / "out"
    run = cli("run", "--counts", counts_path, "--samples", sheet_path, "--out-dir", out, "--transform", "none",
              "--quiet", *case.args)  # fmt: skip
    assert run.code == case.code, run.err
    assert_one_error_line(run.err, case.expect)
    assert files_in(out) == []


@pytest.mark.r
def test_extra_samples_in_the_sheet_are_a_warning(tmp_path, cli):
    case = Case(GOOD_COUNTS, sheet(extra="c1\tB\nc2\tA\n"), 0, ())
    counts_path, sheet_path = materialize(tmp_path, case)
    out = tmp_path / "out"
    run = cli("run", "--counts", counts_path, "--samples", sheet_path, "--out-dir", out, "--transform", "none")
    assert run.code == 0, run.err
    assert "error:" not in run.err
    assert "ignoring 2 row(s) that name no matrix sample: c1, c2" in run.err
    assert (out / "results_condition_B_vs_A.tsv").exists()


@pytest.mark.parametrize("name", ["binary_data", "excel_renamed_tsv", "integer_of_400_digits"])
def test_no_traceback_reaches_the_terminal(tmp_path, env_without_r, name):
    """The installed command, in a real process: one error line on stderr, nothing else alarming.

    R cannot start in that process (``env_without_r``): these inputs are refused before R.
    """
    case = INPUT_CASES[name]
    counts_path, sheet_path = materialize(tmp_path, case)
    exe = Path(sys.executable).with_name("deseq2-normalized")
    proc = subprocess.run(
        [
            str(exe),
            "run",
            "--counts",
            str(counts_path),
            "--samples",
            str(sheet_path),
            "--out-dir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_without_r,
    )
    assert proc.returncode == case.code, proc.stderr
    line = assert_one_error_line(proc.stderr, case.expect)
    assert line.startswith("deseq2-normalized: error: ")
    assert proc.stdout == ""
    assert files_in(tmp_path / "out") == []
