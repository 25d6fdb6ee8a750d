"""A count table's columns: the gene IDs, the sample columns and the text (annotation) columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._decimal_comma import _DECIMAL_COMMA
from deseq2_normalized.reader._numbers import _NUMBER_OR_SPECIAL, _not_numbers


def _text_columns(frame: pd.DataFrame) -> set[str]:
    """Columns most of whose cells are text: annotation, not a sample with a stray bad cell."""
    out = set()
    for col, dtype in frame.dtypes.items():
        if dtype.kind in "fiub":  # not a text column: spares making a Series of each sample column
            continue
        values = frame[col]
        present = int(values.notna().sum())
        if present and int(_not_numbers(values).sum()) * 2 > present:
            out.add(str(col))
    return out


def _refuse_numeric_gene_ids(where: str, frame: pd.DataFrame) -> None:
    """The first column must hold gene IDs: numbers there mean a table written without row names.

    Refused when every ID is a number and some repeat, or (in a table of ten rows or more) some
    are not whole numbers. Whole numbers that are all different (Entrez gene IDs) are IDs.
    """
    ids = pd.Series(frame.index, dtype=object)
    text = cast("pd.Series[str]", ids.astype(str)).str.strip()
    numeric = text.str.fullmatch(_NUMBER_OR_SPECIAL) | text.str.fullmatch(_DECIMAL_COMMA)
    if not len(ids) or not numeric.all():
        return
    whole = text.str.fullmatch(r"[+-]?[0-9]+")
    if not text.duplicated().any() and (whole.all() or len(ids) < 10):
        return
    raise InputError(
        f"{where}: the first column holds numbers ('{text.iloc[0]}' in row 1), not gene IDs: the table was probably "
        "written without row names (write.csv(..., row.names = FALSE)); write it with the gene IDs as the "
        "first column"
    )


def _selection(
    where: str, frame: pd.DataFrame, samples: Sequence[str] | None, columns: Sequence[int] | None
) -> set[str] | None:
    """The sample columns named by a sample sheet or by column numbers; None for neither."""
    file_columns = [str(c) for c in frame.columns]
    if columns is not None:
        last = len(file_columns) + 1
        for number in columns:
            if not 2 <= number <= last:
                raise InputError(f"{where}: column {number} is not a sample column; sample columns are 2 to {last}")
        return {file_columns[n - 2] for n in columns}
    if samples is None:
        return None
    return {str(s).strip() for s in samples} & set(file_columns)
