"""Large text tables are parsed part by part: the result must be the whole text's parse, or the whole text is parsed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import reader
from deseq2_normalized.errors import InputError

# The part-by-part parse is reader._parse's: patches go there, where its names are looked up (the
# package does not re-export them, so a patch of reader.<name> would fail rather than do nothing).
from deseq2_normalized.reader import _parse


def _table(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    counts = rng.negative_binomial(2, 0.05, size=(rows, 5))
    return pd.DataFrame(
        counts / np.array([0.5, 0.8, 1.1, 1.7, 2.3]),
        index=pd.Index([f"g{i}" for i in range(rows)], name="gene_id"),
        columns=[f"s{j}" for j in range(5)],
    )


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """What read_count_table gives (values, annotation, notes, or the error) in parts and as a whole."""

    def read() -> object:
        try:
            t = reader.read_count_table(path)
        except InputError as exc:
            return str(exc)
        return t.values, t.annotation, t.notes, t.file_columns

    monkeypatch.setattr(_parse, "_PART_BYTES", 997)  # many parts, cut mid-table
    parts = read()
    monkeypatch.setattr(_parse, "_read_rows_in_parts", lambda *args: None)
    return parts, read()


def _same(a: object, b: object) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert isinstance(a, tuple) and isinstance(b, tuple)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
            assert x.index.dtype == y.index.dtype and list(x.dtypes) == list(y.dtypes)
        else:
            assert x == y


def _text(table: pd.DataFrame, fmt: str = "%.15g", **kw: object) -> str:
    return table.to_csv(sep="\t", float_format=fmt, **kw)  # type: ignore[call-overload]


def _types_differ(table: pd.DataFrame) -> str:
    """Whole numbers in the first rows (parsed as integers in the first parts), decimals later."""
    head = table.iloc[:200].round(0).astype(int).astype(object)
    return _text(pd.concat([head, table.iloc[200:].astype(object)]))


@pytest.mark.parametrize(
    ("make", "in_parts"),
    [
        pytest.param(lambda t: _text(t), True, id="plain"),
        pytest.param(lambda t: _text(t, lineterminator="\r\n"), True, id="crlf"),
        pytest.param(lambda t: _text(t.round(0).astype(int)), True, id="integers"),
        pytest.param(lambda t: _text(t).replace("\ng20\t", "\n\n\ng20\t"), True, id="blank-lines"),
        pytest.param(lambda t: _text(t.assign(symbol=[f"S{i}" for i in range(len(t))])), True, id="annotation"),
        pytest.param(_types_differ, False, id="types-differ"),
        pytest.param(lambda t: _text(t).replace("\ng300\t", "\ng300\tx\t"), False, id="extra-field"),
        pytest.param(lambda t: _text(t).replace("\ng250\t", "\ng250\tNA"), None, id="missing-value"),
        pytest.param(lambda t: _text(t).replace("\ng399\t", '\n"g399"\t'), False, id="quotes"),
        pytest.param(lambda t: _text(t).replace("\ng333\t", "\ng333\tabc"), False, id="text-cell"),
        pytest.param(lambda t: _text(t).replace("\ng100\t", "\ng5\t"), True, id="duplicate-id"),
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
    _same(*parts)


def test_parts_cut_at_line_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _text(_table()).encode()
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
