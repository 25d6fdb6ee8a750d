"""Large text tables are parsed part by part: the result must be the whole text's parse, or the whole text is parsed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

# The part-by-part parse is reader._parse's: patches go there, where its names are looked up (the
# package does not re-export them, so a patch of reader.<name> would fail rather than do nothing).
from deseq2_normalized.reader import _parse
from readings import assert_same_reading, reading, scaled_counts, tsv


def _table(rows: int = 400) -> pd.DataFrame:
    return scaled_counts(rows, seed=3)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """What read_count_table gives (values, annotation, notes, or the error) in parts and as a whole."""
    monkeypatch.setattr(_parse, "_PART_BYTES", 997)  # many parts, cut mid-table
    parts = reading(path)
    monkeypatch.setattr(_parse, "_read_rows_in_parts", lambda *args: None)
    return parts, reading(path)


def _types_differ(table: pd.DataFrame) -> str:
    """Whole numbers in the first rows (parsed as integers in the first parts), decimals later."""
    head = table.iloc[:200].round(0).astype(int).astype(object)
    return tsv(pd.concat([head, table.iloc[200:].astype(object)]))


@pytest.mark.parametrize(
    ("make", "in_parts"),
    [
        pytest.param(lambda t: tsv(t), True, id="plain"),
        pytest.param(lambda t: tsv(t, lineterminator="\r\n"), True, id="crlf"),
        pytest.param(lambda t: tsv(t.round(0).astype(int)), True, id="integers"),
        pytest.param(lambda t: tsv(t).replace("\ng20\t", "\n\n\ng20\t"), True, id="blank-lines"),
        pytest.param(lambda t: tsv(t.assign(symbol=[f"S{i}" for i in range(len(t))])), True, id="annotation"),
        pytest.param(_types_differ, False, id="types-differ"),
        pytest.param(lambda t: tsv(t).replace("\ng300\t", "\ng300\tx\t"), False, id="extra-field"),
        pytest.param(lambda t: tsv(t).replace("\ng250\t", "\ng250\tNA"), None, id="missing-value"),
        pytest.param(lambda t: tsv(t).replace("\ng399\t", '\n"g399"\t'), False, id="quotes"),
        pytest.param(lambda t: tsv(t).replace("\ng333\t", "\ng333\tabc"), False, id="text-cell"),
        pytest.param(lambda t: tsv(t).replace("\ng100\t", "\ng5\t"), True, id="duplicate-id"),
    ],
)
def test_parts_parse_as_the_whole(
    make: object, in_parts: bool | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(make(_table()), encoding="utf-8")  # type: ignore[operator]
    used: list[bool] = []
    real = _parse._read_rows_in_parts

    def spy(*args: object) -> pd.DataFrame | None:
        frame = real(*args)  # type: ignore[arg-type]
        used.append(frame is not None)
        return frame

    monkeypatch.setattr(_parse, "_read_rows_in_parts", spy)
    parts = _both(path, monkeypatch)
    if in_parts is not None:
        assert used[0] is in_parts
    assert_same_reading(*parts)


def test_parts_cut_at_line_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    text = tsv(_table()).encode()
    start = text.index(b"\n") + 1
    seen: list[int] = []
    real = _parse._Window

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, view: memoryview) -> None:
            seen.append(len(view))
            super().__init__(view)

    monkeypatch.setattr(_parse, "_Window", Recording)
    monkeypatch.setattr(_parse, "_PART_BYTES", 1000)
    names = [_parse._GENE_COLUMN, *text[:start].decode().strip().split("\t")[1:]]
    frame = _parse._read_rows_in_parts(text, start, "\t", names, {"index_col": 0, "dtype": {_parse._GENE_COLUMN: str}})
    assert frame is not None and len(frame) == 400 and len(seen) > 10
    assert sum(seen) == len(text) - start
