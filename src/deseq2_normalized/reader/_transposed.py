"""Tables with samples as rows and genes as columns: refused when they look so, transposed when asked."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._layout import _detect_separator, _head_text
from deseq2_normalized.reader._names import _quoted

# A table whose rows are at most a tenth of its (at least this many) columns looks transposed.
_TRANSPOSED_MIN_COLUMNS = 200


def _refuse_transposed(
    where: str, frame: pd.DataFrame, samples: Sequence[str] | None, selected: set[str] | None
) -> None:
    rows, cols = frame.shape
    how = "transpose it (--transposed) so that genes are rows and samples are columns"
    if samples is not None and not selected:
        named = {str(s).strip() for s in samples}
        in_rows = [str(g).strip() for g in frame.index if str(g).strip() in named]
        if len(in_rows) >= 2:
            raise InputError(
                f"{where}: looks transposed: the sample sheet names rows ({_quoted(in_rows, 3)}), not columns; {how}"
            )
        raise InputError(
            f"{where}: no column is named in the sample sheet (columns: {_quoted(list(frame.columns), 5)})"
        )
    if cols >= _TRANSPOSED_MIN_COLUMNS and rows * 10 <= cols:
        raise InputError(
            f"{where}: looks transposed ({rows} rows, {cols} columns: samples as rows, genes as columns?); {how}"
        )


def _transpose_text(where: str, raw: bytes) -> bytes:
    """A text table with rows and columns swapped, as tab-separated text (cells unchanged)."""
    text = raw.decode("utf-8")
    sep = _detect_separator(_head_text(raw))
    try:
        rows = [
            r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"') if "".join(r).strip()
        ]
    except csv.Error as exc:
        raise InputError(f"{where}: cannot be split into fields ({exc})") from None
    if len(rows) < 2:
        raise InputError(f"{where}: has a header but no rows")
    if len(rows[1]) == len(rows[0]) + 1:
        rows[0] = ["", *rows[0]]  # write.table: no header field for the row names
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputError(f"{where}: record {i + 1} has {len(row)} fields, the header has {width}")
    out = io.StringIO()
    csv.writer(out, delimiter="\t", quotechar='"', lineterminator="\n").writerows(zip(*rows, strict=True))
    return out.getvalue().encode("utf-8")
