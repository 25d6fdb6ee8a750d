"""Reading count matrices and sample sheets in the layouts people actually send."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader import detect_separator, read_counts, read_samples

EXPECTED = pd.DataFrame(
    {"s1": [1.5, 0.0, 12.25], "s2": [2.0, 3.125, 7.0]}, index=pd.Index(["g1", "g2", "g3"], name="gene_id")
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tab.tsv", "gene\ts1\ts2\ng1\t1.5\t2\ng2\t0\t3.125\ng3\t12.25\t7\n"),
        ("comma.csv", "gene,s1,s2\ng1,1.5,2\ng2,0,3.125\ng3,12.25,7\n"),
        ("semicolon.csv", "gene;s1;s2\ng1;1.5;2\ng2;0;3.125\ng3;12.25;7\n"),
        # R write.csv: quoted names, empty first header cell
        ("write_csv.csv", '"","s1","s2"\n"g1",1.5,2\n"g2",0,3.125\n"g3",12.25,7\n'),
        # R write.table: header one field shorter than the rows
        ("write_table.txt", '"s1" "s2"\n'.replace(" ", "\t") + "g1\t1.5\t2\ng2\t0\t3.125\ng3\t12.25\t7\n"),
        ("crlf.tsv", "gene\ts1\ts2\r\ng1\t1.5\t2\r\ng2\t0\t3.125\r\ng3\t12.25\t7\r\n"),
        ("bom.tsv", "\ufeffgene\ts1\ts2\ng1\t1.5\t2\ng2\t0\t3.125\ng3\t12.25\t7\n"),
        ("blank_lines.tsv", "gene\ts1\ts2\n\ng1\t1.5\t2\ng2\t0\t3.125\ng3\t12.25\t7\n\n"),
        ("scientific.tsv", "gene\ts1\ts2\ng1\t1.5e0\t2\ng2\t0\t3.125\ng3\t1.225E+01\t7\n"),
    ],
)
def test_layouts(tmp_path, name, text):
    frame = read_counts(write(tmp_path, name, text))
    pd.testing.assert_frame_equal(frame, EXPECTED)


def test_gzip(tmp_path):
    path = write(tmp_path, "c.tsv.gz", gzip.compress(b"gene\ts1\ts2\ng1\t1.5\t2\ng2\t0\t3.125\ng3\t12.25\t7\n"))
    pd.testing.assert_frame_equal(read_counts(path), EXPECTED)


def test_values_are_read_exactly(tmp_path, normalized_path):
    frame = read_counts(normalized_path)
    assert frame.shape == (14599, 7)
    lines = normalized_path.read_text().splitlines()
    gene, *cells = lines[2].split("\t")
    assert frame.index[1] == gene
    assert [float(c) for c in cells] == list(frame.iloc[1])


def test_separator_detection_prefers_the_consistent_one():
    assert detect_separator(["gene\tA,B\tC", "g\t1,5\t2"]) == "\t"
    assert detect_separator(["gene;s1;s2", "g;1,5;2,0"]) == ";"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"gene\ts1\ts2\n", "no gene rows"),
        (b"\x00\x01\x02binary", "binary data"),
        ("gene\ts1\ng1\t1\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (gzip.compress(b"gene\ts1\ts2\ng1\t1\t2\n", mtime=0)[:-12], "truncated"),
        (b"gene\ts1\ts2\ng1\t1\tabc\n", "row 1 (gene 'g1'), column 's2': 'abc' is not a number"),
        (b"gene\ts1\ts1\ng1\t1\t2\n", "sample name 's1' is duplicated"),
        (b"gene\ts1\tS1\ng1\t1\t2\n", "differ only by letter case"),
        (b"gene\ts1\t \ng1\t1\t2\n", "sample name number 2 is empty"),
        (b"gene\ts1\ts2\ng1\t1\t2\ng2\t1\t2\t3\t4\n", "rows do not line up with the header"),
        (b"just-one-column\ng1\n", "single column"),
        (b"gene\ts1\ts2\ng1\t1\t\xff\n", "not valid UTF-8"),
    ],
)
def test_bad_files(tmp_path, content, message):
    with pytest.raises(InputError, match=None) as info:
        read_counts(write(tmp_path, "bad.tsv", content))
    assert message in str(info.value)
    assert "bad.tsv" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_counts(tmp_path / "nope.tsv")


def test_sample_sheet_sample_column_anywhere(tmp_path):
    path = write(tmp_path, "s.csv", "condition,Sample,batch\nA,s2,1\nB,s1,2\n")
    sheet = read_samples(path).table
    assert list(sheet.index) == ["s2", "s1"]
    assert list(sheet.columns) == ["condition", "batch"]
    assert sheet.loc["s1", "batch"] == "2"


def test_sample_sheet_first_column_and_write_table_layout(tmp_path):
    path = write(tmp_path, "s.txt", "condition\ttype\ns1\tA\tx\ns2\tB\ty\n")
    sheet = read_samples(path).table
    assert list(sheet.index) == ["s1", "s2"]
    assert list(sheet.columns) == ["condition", "type"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sample\tcondition\ns1\tA\ns1\tB\n", "sample 's1' is duplicated"),
        ("sample\tcondition\ns1\t\ns2\tB\n", "row 1, column 'condition': empty value"),
        ("sample\n s1\n", "needs a sample column and at least one design variable"),
    ],
)
def test_bad_sample_sheets(tmp_path, text, message):
    with pytest.raises(InputError) as info:
        read_samples(write(tmp_path, "sheet.tsv", text))
    assert message in str(info.value)


def test_big_integers_stay_exact(tmp_path):
    path = write(tmp_path, "c.tsv", "gene\ts1\ts2\ng1\t2147483647\t0\ng2\t1\t2\n")
    assert read_counts(path).to_numpy().max() == np.float64(2**31 - 1)
