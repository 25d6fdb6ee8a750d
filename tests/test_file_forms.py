"""The file forms people share, each built from the bundled pasilla tables.

European ``write.csv2`` (decimal commas), annotation columns (GEO tables), supplementary
tables with results statistics beside the counts, tables written without row names,
transposed tables and Excel workbooks. Values must read back bit for bit; refusals are one
line naming the cause; one ``run`` per form that matters checks the outputs end to end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader import CountTable, read_count_table, read_counts
from deseq2_normalized.validate import validate_counts
from tables import annotated, annotation_of, supplementary

SYMBOLS = ("symbol", "description", "biotype")
DESEQ2_COLUMNS = ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")
TEST_DATA_NORMALIZED = Path(__file__).resolve().parent.parent / "test-data" / "pasilla_normalized.tsv"


@pytest.fixture(scope="module")
def pasilla(normalized_path) -> pd.DataFrame:
    return read_counts(normalized_path)


@pytest.fixture(scope="module")
def raw(raw_path) -> pd.DataFrame:
    return read_counts(raw_path)


def assert_same_values(table: CountTable | pd.DataFrame, expected: pd.DataFrame) -> None:
    values = table.values if isinstance(table, CountTable) else table
    assert list(values.columns) == list(expected.columns)
    assert list(values.index) == list(expected.index)
    # Bit for bit: recovery reads the digits of every value.
    np.testing.assert_array_equal(values.to_numpy().view(np.int64), expected.to_numpy().view(np.int64))


def one_line_error(call) -> str:
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    return message


# --- write.csv2: decimal commas ----------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_commas_read_exactly(tmp_path, pasilla, sep):
    path = tmp_path / "csv2.csv"
    pasilla.to_csv(path, sep=sep, decimal=",")
    assert "80,8249076813029" in path.read_text()
    table = read_count_table(path)
    assert_same_values(table, pasilla)
    assert any("decimal commas" in note for note in table.notes)


@pytest.mark.r
def test_r_write_csv2_reads_as_r_write_csv(tmp_path, normalized_path):
    """R's own write.csv2 and write.csv of one table give the same doubles (R writes 15 digits to both)."""
    script = (
        "x <- read.delim(commandArgs(TRUE)[1], row.names = 1, check.names = FALSE);"
        "write.csv2(x, commandArgs(TRUE)[2]); write.csv(x, commandArgs(TRUE)[3])"
    )
    csv2, csv = tmp_path / "r.csv2", tmp_path / "r.csv"
    subprocess.run(["Rscript", "-e", script, str(normalized_path), str(csv2), str(csv)], check=True)
    assert csv2.read_text().startswith('"";"untreated1"')
    assert_same_values(read_count_table(csv2), read_counts(csv))


def decimal_comma_table(tmp_path: Path, cells: dict[tuple[int, int], str], sep: str = ";") -> Path:
    """A small semicolon table of whole numbers with some cells replaced (row, column: 0-based)."""
    rows = [["gene", "a1", "a2", "b1", "b2"]]
    rows += [[f"g{i}", *(str(10 * i + j) for j in range(4))] for i in range(6)]
    for (i, j), text in cells.items():
        rows[i + 1][j + 1] = text
    path = tmp_path / "table.csv"
    path.write_text("".join(sep.join(r) + "\n" for r in rows))
    return path


def test_three_digit_commas_alone_are_refused_as_ambiguous(tmp_path):
    path = decimal_comma_table(tmp_path, {(1, 0): "1,234", (3, 2): "12,500"})
    message = one_line_error(lambda: read_count_table(path))
    assert message.startswith(f"{path}: row 2 (gene 'g1'), column 'a1': '1,234' is not a number")
    assert "thousands separator or a decimal comma" in message


def test_one_other_comma_proves_decimal_commas(tmp_path):
    """The same 1,234 is 1.234 once another cell (2,5) cannot be a thousands separator."""
    path = decimal_comma_table(tmp_path, {(1, 0): "1,234", (3, 2): "12,500", (4, 3): "2,5", (5, 1): "0,125"})
    values = read_count_table(path).values
    assert values.loc["g1", "a1"] == 1.234 and values.loc["g3", "b1"] == 12.5
    assert values.loc["g4", "b2"] == 2.5 and values.loc["g5", "a2"] == 0.125
    assert values.loc["g2", "a1"] == 20.0


@pytest.mark.parametrize(
    ("cells", "expect"),
    [
        # a decimal point beside decimal commas: mixed forms
        ({(1, 0): "80,82", (2, 1): "12.5"}, "row 3 (gene 'g2'), column 'a2': '12.5' is not a number: it has a decimal"),
        # a dot as thousands separator beside decimal commas
        ({(1, 0): "80,82", (4, 3): "1.234"}, "'1.234' is not a number: it has a decimal point, while the other"),
        # European thousands and decimal together
        ({(1, 0): "1.234,5"}, "'1.234,5' is not a number (thousands separators or several commas)"),
        ({(1, 0): "80,82", (2, 2): "1,234,567"}, "'1,234,567' is not a number (thousands separators"),
    ],
)
def test_mixed_number_forms_are_refused_naming_the_cell(tmp_path, cells, expect):
    path = decimal_comma_table(tmp_path, cells)
    assert expect in one_line_error(lambda: read_count_table(path))


def test_decimal_commas_found_far_down_the_table(tmp_path, raw):
    """Whole counts for hundreds of rows, then decimal commas: the whole table decides, not its head."""
    table = raw.iloc[:400].astype(np.int64).astype(object)
    table.iloc[350, 2] = "12,75"
    path = tmp_path / "late.csv"
    table.to_csv(path, sep=";")
    values = read_count_table(path).values
    expected = raw.iloc[:400].copy()
    expected.iloc[350, 2] = 12.75
    assert_same_values(values, expected)
    table.iloc[380, 4] = "1.5"
    table.to_csv(path, sep=";")
    message = one_line_error(lambda: read_count_table(path))
    assert f"row 381 (gene '{table.index[380]}'), column 'treated1': '1.5' is not a number: it has a decimal" in message


def test_comma_separated_tables_never_take_commas_for_decimals(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('gene,a,b\ng1,"80,82",1\ng2,3,4\n')
    assert "'80,82' is not a number" in one_line_error(lambda: read_count_table(path))


def test_decimal_commas_with_annotation_text(tmp_path, pasilla):
    """Commas and dots in annotation text do not count as numbers."""
    path = tmp_path / "csv2_annotated.csv"
    annotated(pasilla).to_csv(path, sep=";", decimal=",")
    table = read_count_table(path)
    assert_same_values(table, pasilla)
    pd.testing.assert_frame_equal(table.annotation, annotation_of(pasilla.index))


# --- annotation columns ------------------------------------------------------------------------


def test_annotation_columns_are_kept_apart(tmp_path, pasilla, caplog):
    path = tmp_path / "geo.tsv"
    annotated(pasilla).to_csv(path, sep="\t")
    with caplog.at_level("INFO", logger="deseq2_normalized"):
        table = read_count_table(path)
    assert_same_values(table, pasilla)
    pd.testing.assert_frame_equal(table.annotation, annotation_of(pasilla.index))
    assert table.file_columns == (*SYMBOLS, *pasilla.columns)
    assert "kept 3 text column(s) as gene annotation: 'symbol', 'description', 'biotype'" in caplog.text
    assert_same_values(read_counts(path), pasilla)  # the plain reader drops them too


def test_a_stray_word_in_a_sample_column_is_still_an_error(tmp_path, pasilla):
    table = pasilla.iloc[:50].astype(object)
    table.iloc[3, 0] = "three"
    path = tmp_path / "typo.tsv"
    table.to_csv(path, sep="\t")
    message = one_line_error(lambda: read_count_table(path))
    assert message == f"{path}: row 4 (gene '{table.index[3]}'), column 'untreated1': 'three' is not a number"


@pytest.mark.parametrize("cell", ["4,097.47", "12,500", "1,234,567.5"])
def test_quoted_thousands_separators_in_a_comma_table_are_named(tmp_path, pasilla, cell):
    # A spreadsheet with number formatting on writes large values quoted, with separators.
    table = pasilla.iloc[:50].astype(object)
    table.iloc[2, 1] = cell
    path = tmp_path / "grouped.csv"
    table.to_csv(path)
    assert f'"{cell}"' in path.read_text()
    message = one_line_error(lambda: read_count_table(path))
    assert message == (
        f"{path}: row 3 (gene '{table.index[2]}'), column 'untreated2': '{cell}' is not a number "
        "(thousands separators); save the table without thousands separators"
    )


def test_text_after_the_samples_is_an_error_without_a_sheet(tmp_path, pasilla):
    table = pasilla.iloc[:50].copy()
    table["note"] = "x"
    path = tmp_path / "trailing.tsv"
    table.to_csv(path, sep="\t")
    assert "column 'note': 'x' is not a number" in one_line_error(lambda: read_count_table(path))
    # With a sample sheet it is annotation like any other text column.
    kept = read_count_table(path, samples=list(pasilla.columns))
    assert list(kept.annotation.columns) == ["note"]


# --- supplementary tables: --samples picks the samples -----------------------------------------


def test_sample_sheet_leaves_statistics_out(tmp_path, pasilla, caplog):
    path = tmp_path / "supplementary.tsv"
    supplementary(pasilla).to_csv(path, sep="\t")
    with caplog.at_level("WARNING", logger="deseq2_normalized"):
        table = read_count_table(path, samples=[*pasilla.columns, "not_in_the_table"])
    assert_same_values(table, pasilla)
    assert list(table.annotation.columns) == list(SYMBOLS)
    assert "left out 3 numeric column(s) not named in the sample sheet: 'baseMean', 'log2FoldChange', 'padj'" in (
        caplog.text
    )
    # A sample the sheet does not name is left out as well.
    fewer = read_count_table(path, samples=list(pasilla.columns[1:]))
    assert_same_values(fewer, pasilla.iloc[:, 1:])
    assert "'untreated1', 'baseMean'" in fewer.notes[-2]


def test_without_a_sheet_a_statistics_column_is_named(tmp_path, pasilla):
    path = tmp_path / "supplementary.tsv"
    supplementary(pasilla).to_csv(path, sep="\t")
    values = read_count_table(path).values
    message = one_line_error(lambda: validate_counts(values, str(path)))
    assert "column 'log2FoldChange'" in message or "column 'padj'" in message
    assert "looks like a results column, not a sample: give a sample sheet" in message


def test_sample_sheet_naming_no_column(tmp_path, pasilla):
    path = tmp_path / "counts.tsv"
    pasilla.iloc[:20].to_csv(path, sep="\t")
    message = one_line_error(lambda: read_count_table(path, samples=["x1", "x2"]))
    assert message == f"{path}: no column is named in the sample sheet (columns: 'untreated1', 'untreated2', " + (
        "'untreated3', 'untreated4', 'treated1' and 2 more)"
    )


def test_group_column_numbers_count_annotation_columns(tmp_path, pasilla):
    path = tmp_path / "geo.tsv"
    annotated(pasilla).to_csv(path, sep="\t")
    table = read_count_table(path, columns=[5, 6, 8, 9])  # gene, 3 annotation columns, then the samples
    assert_same_values(table, pasilla.iloc[:, [0, 1, 3, 4]])
    message = one_line_error(lambda: read_count_table(path, columns=[2, 5]))
    assert message == f"{path}: column 2 ('symbol') holds text (gene annotation), not counts"


# --- no gene-ID column -------------------------------------------------------------------------


def test_table_without_row_names(tmp_path, pasilla):
    path = tmp_path / "no_row_names.csv"
    pasilla.to_csv(path, index=False)  # R: write.csv(x, row.names = FALSE)
    message = one_line_error(lambda: read_count_table(path))
    assert message.startswith(f"{path}: the first column holds numbers ('0.0' in row 1), not gene IDs")
    assert "row.names = FALSE" in message


def test_entrez_gene_ids_are_ids(tmp_path, raw):
    table = raw.iloc[:100].copy()
    table.index = pd.Index([str(7000 + 3 * i) for i in range(100)], name="gene_id")
    path = tmp_path / "entrez.tsv"
    table.to_csv(path, sep="\t")
    assert_same_values(read_count_table(path), table)


# --- transposed tables -------------------------------------------------------------------------


def test_transposed_table_is_named_and_read_on_request(tmp_path, pasilla):
    path = tmp_path / "transposed.csv"
    pasilla.T.to_csv(path)
    message = one_line_error(lambda: read_count_table(path))
    assert message == (
        f"{path}: looks transposed (7 rows, 14599 columns: samples as rows, genes as columns?); "
        "transpose it (--transposed) so that genes are rows and samples are columns"
    )
    table = read_count_table(path, transposed=True)
    assert_same_values(table, pasilla)


def test_transposed_table_with_a_sheet(tmp_path, pasilla):
    path = tmp_path / "transposed.tsv"
    pasilla.iloc[:50].T.to_csv(path, sep="\t")
    message = one_line_error(lambda: read_count_table(path, samples=list(pasilla.columns)))
    assert message.startswith(f"{path}: looks transposed: the sample sheet names rows ('untreated1', ")
    table = read_count_table(path, samples=list(pasilla.columns), transposed=True)
    assert_same_values(table, pasilla.iloc[:50])


# --- Excel workbooks ---------------------------------------------------------------------------


def test_xlsx_read_exactly_by_content(tmp_path, pasilla):
    book = tmp_path / "counts.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        pd.DataFrame({"about": ["this sheet is not the counts"]}).to_excel(writer, sheet_name="README", index=False)
        annotated(pasilla).to_excel(writer, sheet_name="normalized counts")
    galaxy = tmp_path / "dataset_42.dat"  # Galaxy's name for a dataset
    shutil.copy(book, galaxy)
    table = read_count_table(galaxy, "counts.xlsx", sheet="normalized counts")
    assert_same_values(table, pasilla)
    pd.testing.assert_frame_equal(table.annotation, annotation_of(pasilla.index))
    assert table.notes[0] == "counts.xlsx: read sheet 'normalized counts' of the Excel workbook"
    # The first sheet is the default; here it has a single column.
    message = one_line_error(lambda: read_count_table(galaxy, "counts.xlsx"))
    assert message.startswith("counts.xlsx (Excel workbook, sheet 'README'): ")


def test_xlsx_first_sheet_and_errors(tmp_path, pasilla):
    book = tmp_path / "counts.xlsx"
    pasilla.iloc[:200].to_excel(book, sheet_name="Sheet1")
    assert_same_values(read_count_table(book), pasilla.iloc[:200])
    message = one_line_error(lambda: read_count_table(book, sheet="counts"))
    assert message == f"{book}: the Excel workbook has no sheet 'counts' (sheets: 'Sheet1')"
    text = tmp_path / "counts.tsv"
    pasilla.iloc[:20].to_csv(text, sep="\t")
    message = one_line_error(lambda: read_count_table(text, sheet="Sheet1"))
    assert message == f"{text}: a sheet ('Sheet1') was named, but this is a text table, not an Excel workbook"
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(book.read_bytes()[:3000])
    assert "damaged.xlsx" in one_line_error(lambda: read_count_table(damaged))


def test_xlsx_values_are_validated_like_text(tmp_path, pasilla):
    table = pasilla.iloc[:30].astype(object)
    table.iloc[2, 1] = "n/a?"
    book = tmp_path / "bad.xlsx"
    table.to_excel(book)
    message = one_line_error(lambda: read_count_table(book))
    assert message == (
        f"{book} (Excel workbook, sheet 'Sheet1'): row 3 (gene '{table.index[2]}'), column 'untreated2': "
        "'n/a?' is not a number"
    )


# --- end to end ----------------------------------------------------------------------------------

QUICK = ("--transform", "none", "--no-report", "--plots", "none")
RESULTS = "results_condition_treated_vs_untreated.tsv"


@pytest.fixture(scope="module")
def small(pasilla) -> pd.DataFrame:
    return pasilla.iloc[:3000]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, small, samples_path) -> pd.DataFrame:
    """Results of the plain tab-separated table."""
    from deseq2_normalized.cli import main

    folder = tmp_path_factory.mktemp("baseline")
    small.to_csv(folder / "counts.tsv", sep="\t")
    code = main(["run", "--counts", str(folder / "counts.tsv"), "--samples", str(samples_path),
                 "--out-dir", str(folder / "out"), "--reference", "untreated", "--quiet", *QUICK])  # fmt: skip
    assert code == 0
    return pd.read_csv(folder / "out" / RESULTS, sep="\t", index_col=0)


def run_results(cli, counts: Path, samples_path: Path, out: Path, *extra: str) -> tuple[pd.DataFrame, str]:
    res = cli(
        "run", "--counts", counts, "--samples", samples_path, "--out-dir", out, "--reference", "untreated", *extra
    )
    assert res.code == 0, res.err
    return pd.read_csv(out / RESULTS, sep="\t", index_col=0, keep_default_na=False, na_values=["NA"]), res.err


@pytest.mark.r
def test_run_on_write_csv2_equals_the_tsv(tmp_path, cli, small, samples_path, baseline):
    path = tmp_path / "counts.csv"
    small.to_csv(path, sep=";", decimal=",")
    results, err = run_results(cli, path, samples_path, tmp_path / "out", *QUICK)
    pd.testing.assert_frame_equal(results, baseline, check_exact=True)
    assert "decimal commas" in err


@pytest.mark.r
def test_run_on_xlsx_dataset_equals_the_tsv(tmp_path, cli, small, samples_path, baseline):
    book = tmp_path / "dataset_7.dat"
    small.to_excel(book, sheet_name="counts", engine="openpyxl")
    results, err = run_results(cli, book, samples_path, tmp_path / "out", "--sheet", "counts", *QUICK)
    pd.testing.assert_frame_equal(results, baseline, check_exact=True)
    assert "read sheet 'counts' of the Excel workbook" in err


@pytest.mark.r
def test_run_on_a_supplementary_table(tmp_path, cli, small, samples_path, baseline):
    """Annotation and statistics beside the counts: statistics left out, annotation in every output table."""
    path = tmp_path / "supplementary.tsv"
    supplementary(small).to_csv(path, sep="\t")
    out = tmp_path / "out"
    results, err = run_results(cli, path, samples_path, out, "--transform", "vst", "--plots", "none")
    # DESeq2's columns stay columns 1-7 (Filter c7<0.05, Volcano Plot 7/6/3); the annotation comes after padj.
    assert [results.index.name, *results.columns] == ["gene_id", *DESEQ2_COLUMNS, *SYMBOLS]
    pd.testing.assert_frame_equal(results.iloc[:, :6], baseline, check_exact=True)
    expected = annotation_of(small.index).reindex(results.index)
    pd.testing.assert_frame_equal(results.iloc[:, 6:], expected, check_names=False)
    assert "left out 3 numeric column(s) not named in the sample sheet: 'baseMean', 'log2FoldChange', 'padj'" in err
    assert "kept 3 text column(s) as gene annotation: 'symbol', 'description', 'biotype'" in err
    # The same notes are kept with the outputs: in diagnostics.json and in the report's summary.
    notes = json.loads((out / "diagnostics.json").read_text())["input"]["reading_notes"]
    assert any("left out 3 numeric column(s)" in n for n in notes) and any("kept 3 text column(s)" in n for n in notes)
    # The count tables stay plain matrices.
    for name in ("normalized_counts.tsv", "transformed_counts.tsv"):
        assert list(pd.read_csv(out / name, sep="\t", nrows=1).columns) == ["gene_id", *small.columns]
    # The report's top-gene tables carry the annotation, escaped.
    report = (out / "report.html").read_text()
    top = results.index[0]
    assert '>gene_id</th><th title="click to sort">symbol</th>' in report
    assert f"<td>{top}</td><td>{expected.at[top, 'symbol']}</td>" in report
    assert "kinase, putative &quot;" in report and 'putative "' not in report
    assert "<th>reading</th><td>" in report and "kept 3 text column(s) as gene annotation: &#x27;symbol&#x27;" in report


@pytest.mark.r
def test_run_with_groups_counts_annotation_columns(tmp_path, cli, small, baseline):
    path = tmp_path / "geo.tsv"
    annotated(small).to_csv(path, sep="\t")
    out = tmp_path / "out"
    # gene IDs, 3 annotation columns, then untreated1-4 (5-8) and treated1-3 (9-11)
    res = cli("run", "--counts", path, "--group", "treated=9,10,11", "--group", "untreated=5,6,7,8",
              "--out-dir", out, *QUICK)  # fmt: skip
    assert res.code == 0, res.err
    results = pd.read_csv(out / RESULTS, sep="\t", index_col=0)
    assert list(results.columns) == [*DESEQ2_COLUMNS, *SYMBOLS]
    # Without the header line (as 'Annotate DESeq2/DEXSeq output tables' reads it) the same columns by
    # position: column 7 is padj, 6 pvalue, 3 log2FoldChange, then the annotation.
    bare = tmp_path / "bare"
    res = cli("run", "--counts", path, "--group", "treated=9,10,11", "--group", "untreated=5,6,7,8",
              "--out-dir", bare, "--no-header", *QUICK)  # fmt: skip
    assert res.code == 0, res.err
    lines = (bare / RESULTS).read_text().splitlines()
    assert len(lines) == len(results)
    cells = [line.split("\t") for line in lines]
    assert all(len(row) == 10 for row in cells)
    by_gene = {row[0]: row for row in cells}
    for gene in results.index[:50]:
        row = by_gene[gene]
        assert float(row[2]) == results.at[gene, "log2FoldChange"]
        assert float(row[5]) == results.at[gene, "pvalue"]
        assert float(row[6]) == results.at[gene, "padj"]
        assert (row[7], row[9]) == (results.at[gene, "symbol"], results.at[gene, "biotype"])


def test_annotation_comes_after_every_column_of_the_run():
    """Annotation after padj and after a column the run adds (rounding_agreement); genes without it get ''."""
    from deseq2_normalized.outputs import annotate

    genes = pd.Index(["g1", "g2", "g3"], name="gene_id")
    table = pd.DataFrame(np.arange(21.0).reshape(3, 7), index=genes, columns=[*DESEQ2_COLUMNS, "rounding_agreement"])
    annotation = annotation_of(pd.Index(["g3", "g1"], name="gene_id"))
    joined = annotate(table, annotation)
    assert list(joined.columns) == [*DESEQ2_COLUMNS, "rounding_agreement", *SYMBOLS]
    assert joined.index.name == "gene_id"
    pd.testing.assert_frame_equal(joined.iloc[:, :7], table)
    assert joined.at["g3", "symbol"] == "sym0" and joined.at["g1", "symbol"] == "sym1"
    assert joined.at["g2", "symbol"] == ""
    assert annotate(table, None) is table


def test_check_names_the_problem_of_each_form(tmp_path, cli, small):
    supp = tmp_path / "supplementary.tsv"
    supplementary(small).to_csv(supp, sep="\t")
    res = cli("check", "--counts", supp)
    assert res.code == 2
    (line,) = [x for x in res.err.splitlines() if "error:" in x]
    assert "column 'log2FoldChange' has values below zero; this is not a table of counts" in line
    assert "give a sample sheet (--samples)" in line

    transposed = tmp_path / "transposed.tsv"
    read_counts(TEST_DATA_NORMALIZED).T.to_csv(transposed, sep="\t")
    res = cli("check", "--counts", transposed)
    assert res.code == 2 and res.err.count("error:") == 1 and "looks transposed" in res.err
    res = cli("check", "--counts", transposed, "--transposed", "--quiet")
    assert res.code == 0, res.err

    no_ids = tmp_path / "no_ids.csv"
    small.to_csv(no_ids, index=False)
    res = cli("check", "--counts", no_ids)
    assert res.code == 2 and "the first column holds numbers ('0.0' in row 1), not gene IDs" in res.err
