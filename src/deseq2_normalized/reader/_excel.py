"""Excel workbooks (``.xlsx``): recognised by content, one sheet read as tab-separated text."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._names import _quoted


def is_xlsx(raw: bytes) -> bool:
    """Whether ``raw`` is an Excel workbook (.xlsx): a zip archive with the Office Open XML workbook parts.

    Parameters
    ----------
    raw
        The file's bytes.

    Returns
    -------
    bool
        True for an .xlsx (or .xlsm) workbook, whatever the file is called.
    """
    if not raw.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _excel_as_text(raw: bytes, where: str, sheet: str | None) -> tuple[bytes, str, str]:
    """One sheet of a workbook as tab-separated text: numbers written so they parse back to the same double.

    Returns the text, the name messages use from then on, and the sheet's name.
    """
    try:
        import openpyxl  # noqa: F401  (pandas' reader for .xlsx)
    except ImportError:
        raise InputError(
            f"{where}: is an Excel workbook; reading one needs the Python package openpyxl (pip install openpyxl)"
        ) from None
    try:
        book = pd.ExcelFile(io.BytesIO(raw), engine="openpyxl")
        names = [str(n) for n in book.sheet_names]
        if not names:
            raise InputError(f"{where}: the Excel workbook has no sheet")
        chosen = names[0] if sheet is None else sheet
        if chosen not in names:
            raise InputError(f"{where}: the Excel workbook has no sheet '{sheet}' (sheets: {_quoted(names, 10)})")
        grid = pd.read_excel(book, sheet_name=chosen, header=None, dtype=object, keep_default_na=False, na_filter=False)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise InputError(f"{where}: the Excel workbook cannot be read ({type(exc).__name__}: {exc})") from None
    where = f"{where} (Excel workbook, sheet '{chosen}')"
    rows = [[_excel_cell(v) for v in row] for row in grid.itertuples(index=False, name=None)]
    while rows and not any(rows[-1]):
        rows.pop()
    while rows and rows[0] and not any(r[-1] for r in rows):
        rows = [r[:-1] for r in rows]
    if not rows:
        raise InputError(f"{where}: the sheet is empty")
    out = io.StringIO()
    csv.writer(out, delimiter="\t", quotechar='"', lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8"), where, chosen


def _excel_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if x != x:
            return ""
        if x.is_integer() and abs(x) < 2**53:
            return str(int(x))
        return repr(x)  # the shortest text that parses back to the same double
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
