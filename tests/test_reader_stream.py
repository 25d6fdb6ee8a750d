"""Large plain text tables are read from the file part by part.

The result must be the whole file's parse, or the whole file is read.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from deseq2_normalized import reader

# Patches go to the modules whose names the reader looks up (reader does not re-export them).
from deseq2_normalized.reader import _bytes, _stream
from readings import assert_same_reading, reading, scaled_counts, tsv


def _table(rows: int = 400) -> pd.DataFrame:
    return scaled_counts(rows, seed=5)


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file is streamed, in parts of about 4 KiB: many parts, cut mid-table."""
    monkeypatch.setattr(_stream, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(_stream, "_BLOCK_BYTES", 4096)
    monkeypatch.setattr(_stream, "_PART_LINES", 40)


def _streamed_and_whole(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, object, object]:
    """Whether the file was streamed, what the reader gives, and what it gives reading the whole file."""
    used: list[bool] = []
    real = _stream.stream_counts

    def spy(p: Path, where: str) -> object:
        found = real(p, where)
        used.append(found is not None)
        return found

    monkeypatch.setattr(reader, "stream_counts", spy)
    streamed = reading(path)
    monkeypatch.setattr(reader, "stream_counts", lambda p, where: None)
    return bool(used and used[0]), streamed, reading(path)


@pytest.mark.parametrize(
    ("make", "streams"),
    [
        pytest.param(lambda t: tsv(t), True, id="plain"),
        pytest.param(lambda t: t.to_csv(float_format="%.15g"), True, id="csv"),
        pytest.param(lambda t: tsv(t, lineterminator="\r\n"), True, id="crlf"),
        # No line feed: parsed as one part, the whole text, or read whole.
        pytest.param(lambda t: tsv(t, lineterminator="\r"), None, id="cr-only"),
        pytest.param(lambda t: "\t".join(t.columns) + "\n" + tsv(t, header=False), True, id="r-header"),
        pytest.param(lambda t: tsv(t).replace("\ng20\t", "\n\n\ng20\t"), True, id="blank-lines"),
        pytest.param(lambda t: tsv(t).replace("g7\t", "gène-α\t"), True, id="utf-8-ids"),
        pytest.param(lambda t: tsv(t).rstrip("\n"), True, id="no-final-line-break"),
        pytest.param(lambda t: tsv(t).replace("\ng100\t", "\ng5\t"), True, id="duplicate-id"),
        pytest.param(lambda t: tsv(t.round(0).astype(int)), True, id="integers"),
        pytest.param(lambda t: tsv(t, decimal=","), False, id="decimal-comma"),
        pytest.param(lambda t: tsv(t).replace("\ng390\t", '\n"g390"\t'), False, id="quote-late"),
        pytest.param(lambda t: tsv(t).replace("\ng300\t", "\ng300\tx\t"), False, id="extra-field"),
        pytest.param(lambda t: tsv(t).replace("\ng333\t", "\ng333\tabc"), False, id="text-cell"),
        pytest.param(lambda t: "\ufeff" + tsv(t), False, id="byte-order-mark"),
        pytest.param(lambda t: "\n\n" + tsv(t), False, id="leading-blank-lines"),
        pytest.param(lambda t: tsv(t).split("\n", 1)[0] + "\n", False, id="header-only"),
    ],
)
def test_streamed_tables_read_as_the_whole_file(
    make: Callable[[pd.DataFrame], str],
    streams: bool | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_parts: None,
) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(make(_table()).encode("utf-8"))
    used, streamed, whole = _streamed_and_whole(path, monkeypatch)
    if streams is not None:
        assert used is streams
    assert_same_reading(streamed, whole)


def test_invalid_utf_8_late_in_the_file_is_named_as_by_the_whole_file_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None
) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(tsv(_table()).encode().replace(b"\ng350\t", b"\ng\xff350\t"))
    used, streamed, whole = _streamed_and_whole(path, monkeypatch)
    assert not used and isinstance(streamed, str) and "not valid UTF-8" in streamed
    assert_same_reading(streamed, whole)


def test_a_streamed_file_is_never_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None
) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(tsv(_table(rows=2000)), encoding="utf-8")
    parts: list[int] = []
    real_parts = _stream._parts

    def counted(f: object, size: int) -> object:
        for part in real_parts(f, size):  # type: ignore[arg-type]
            parts.append(len(part.getbuffer()))
            yield part

    def refuse(*args: object) -> bytes:
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(_stream, "_parts", counted)
    monkeypatch.setattr(reader, "_file_bytes", refuse)
    monkeypatch.setattr(_bytes, "_file_bytes", refuse)
    values = reader.read_counts(path)
    assert values.shape == (2000, 5)
    # Parts of whole lines, none much longer than a block; together the rows after the header.
    assert len(parts) > 10 and max(parts) <= 4096 + 200
    assert sum(parts) == path.stat().st_size - len(path.read_text().split("\n", 1)[0]) - 1


def test_small_and_compressed_files_are_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tsv(_table())
    small = tmp_path / "t.tsv"
    small.write_text(text, encoding="utf-8")
    assert small.stat().st_size < _stream.STREAM_MIN_BYTES
    assert _stream.stream_counts(small, "t.tsv") is None
    packed = tmp_path / "t.tsv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    monkeypatch.setattr(_stream, "STREAM_MIN_BYTES", 0)
    assert _stream.stream_counts(small, "t.tsv") is not None
    assert _stream.stream_counts(packed, "t.tsv.gz") is None
    assert_same_reading(reading(packed), reading(small))


def test_parts_of_a_wide_table_hold_more_bytes_up_to_four_blocks():
    block = _stream._BLOCK_BYTES
    header = b"gene\t" + b"\t".join(b"s%d" % j for j in range(200)) + b"\n"

    def head(width: int) -> bytes:
        line = b"g\t" + b"\t".join([b"12.5"] * width) + b"\n"
        return header + line * (4 * block // len(line))

    narrow, wide, widest = (_stream._part_bytes(head(w), len(header)) for w in (6, 1000, 5000))
    assert narrow == block  # short lines: one block
    assert block < wide < 4 * block  # 2,000 lines of 1,000 values
    assert wide == pytest.approx(_stream._PART_LINES * (2 + 5 * 1000), rel=0.01)
    assert widest == 4 * block
