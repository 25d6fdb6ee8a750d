"""Which cells are numbers, and the sample columns as exact float64 values."""

from __future__ import annotations

import re
from typing import cast

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError

# A number written in decimal: sign, digits with an optional point, exponent.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# The same, or an infinity or NaN as pandas reads them.
_NUMBER_OR_SPECIAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:[Ii]nf(?:inity)?|INF|NaN|nan)"
# A number with thousands separators, as spreadsheets write it with number formatting on.
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:[,.' ][0-9]{3})+(?:[.,][0-9]*)?")


def _not_numbers(values: pd.Series) -> pd.Series:
    """Cells that are present but do not parse as a number."""
    text = cast("pd.Series[str]", values.astype(str)).str.strip()
    return values.notna() & ~text.str.fullmatch(_NUMBER_OR_SPECIAL)


def _numeric(where: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Turn every column into float64 or raise naming the first cell that is not a number."""
    if all(dtype == np.float64 for dtype in frame.dtypes):
        result = frame.copy(deep=False)  # already numbers: no per-column copies
        result.index.name = "gene_id"
        return result
    out = {}
    for col in frame.columns:
        values = frame[col]
        if values.dtype.kind in "fiu":
            out[col] = values.to_numpy(dtype=np.float64)
            continue
        if values.dtype.kind == "b":
            # pandas reads a column of True/False as booleans; they are not counts.
            values = values.astype(str)
        try:
            as_num = pd.to_numeric(values, errors="coerce")
        except OverflowError:
            # Integers with hundreds of digits: parse cell by cell (they become inf, refused later).
            as_num = pd.Series([_to_float(v) for v in values], index=values.index, dtype=np.float64)
        bad = as_num.isna() & values.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{where}: row {i + 1} (gene '{frame.index[i]}'), column '{col}': '{values.iloc[i]}' is not a number"
                + _hint(str(values.iloc[i]).strip())
            )
        out[col] = as_num.to_numpy(dtype=np.float64)
    result = pd.DataFrame(out, index=frame.index, columns=frame.columns)
    result.index.name = "gene_id"
    return result


def _hint(text: str) -> str:
    """Why a cell that looks like a number is not read as one."""
    if _GROUPED.fullmatch(text):
        return " (thousands separators); save the table without thousands separators"
    return ""


def _to_float(value: object) -> float:
    text = str(value).strip()
    return float(text) if _DECIMAL.fullmatch(text) else float("nan")
