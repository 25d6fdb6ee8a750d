"""Decimal commas (R's ``write.csv2``): tables whose numbers have them, proved from the whole table."""

from __future__ import annotations

import re
from typing import cast

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._bytes import _SNIFF_BYTES
from deseq2_normalized.reader._layout import _head_text, _header_layout, _records
from deseq2_normalized.reader._parse import _GENE_COLUMN, _parse_counts

# Cells of number-like text: digits with dots and commas, an optional exponent.
_NUMBERISH = re.compile(r"[+-]?[0-9.,]*[0-9][0-9.,]*(?:[eE][+-]?[0-9]+)?|[+-]?(?:[Ii]nf(?:inity)?|INF|NaN|nan)")
# A comma cell that could be a thousands separator: 1-3 digits (no leading zero), comma, 3 digits.
_THOUSANDS_LIKE = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")
_DECIMAL_COMMA = re.compile(r"[+-]?(?:[0-9]+,[0-9]*|,[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Over a column's cells joined by line breaks: the first cell that is not number-like, that has a
# comma but is no decimal-comma number, and that has a comma that cannot be a thousands separator.
_NOT_NUMBERISH_LINE = re.compile(rf"^(?!(?:{_NUMBERISH.pattern})$).*$", re.M)
_BAD_COMMA_LINE = re.compile(rf"^(?=[^\n]*,)(?!(?:{_DECIMAL_COMMA.pattern})$)[^\n]*$", re.M)
_DECISIVE_COMMA_LINE = re.compile(rf"^(?=[^\n]*,)(?!(?:{_THOUSANDS_LIKE.pattern})$)[^\n]*$", re.M)
# The same, fast, over cells made of number characters only: a character outside them, two commas or
# a comma and a dot in one cell.
_NON_NUMBER_CHAR = re.compile(r"[^0-9,.eE+\-\n]")
_BAD_COMMA_PLAIN = re.compile(r",[0-9.eE+-]*,|\.[0-9eE+-]*,|,[0-9eE+-]*\.")
# Number cells with a decimal comma among the first records: read the table as one with decimal commas.
_HEAD_COMMA_NUMBER = re.compile(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")


def _head_has_comma_numbers(raw: bytes, sep: str) -> bool:
    """Whether the first records hold a number cell with a decimal comma (after the gene-ID column)."""
    records = _records(_head_text(raw)[:_SNIFF_BYTES], sep, 200)[1:]
    return any(_HEAD_COMMA_NUMBER.fullmatch(cell.strip()) for record in records for cell in record[1:])


def _has_comma_numbers(frame: pd.DataFrame) -> bool:
    """Whether a text column is made of number-like cells with commas (decimal commas, maybe)."""
    for col, dtype in frame.dtypes.items():
        if dtype.kind in "fiub":  # not a text column
            continue
        values = frame[col]
        present = cast("pd.Series[str]", values.dropna().astype(str)).str.strip()
        if len(present) and present.str.contains(",", regex=False).any() and present.str.fullmatch(_NUMBERISH).all():
            return True
    return False


def _parse_decimal_comma(where: str, raw: bytes, sep: str) -> pd.DataFrame | None:
    """Read a table whose numbers have decimal commas, after proving that from the whole table.

    Every number-like column is checked as written: a cell with a decimal point, or with more
    than one comma, or only comma cells that could all be thousands separators, is refused.
    Returns None when no number-like column has a comma after all.
    """
    _, header, body = _header_layout(where, raw)
    names = [_GENE_COLUMN, *header[1:]]
    try:
        cells = pd.read_csv(
            body, sep=sep, header=None, names=names, index_col=0, dtype=str, engine="c", quotechar='"',
            skip_blank_lines=True, low_memory=False,
        )  # fmt: skip
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        return None  # a layout problem: the plain parse names it
    if len(header) < 2 or cells.index.nlevels != 1 or _GENE_COLUMN in cells.columns or not len(cells):
        return None
    genes = [str(g) for g in cells.index]

    def at(col: str, i: int) -> str:
        return f"row {i + 1} (gene '{genes[i]}'), column '{col}': '{cells[col].iloc[i]}'"

    comma_cell: tuple[str, int] | None = None
    proof: tuple[str, int] | None = None
    numeric: dict[str, tuple[str, np.ndarray]] = {}  # number-like columns: cells joined, their rows
    for col in cells.columns:
        present = cells[col].notna().to_numpy()
        # One string per column, a cell per line: the regular expressions run over it in C.
        joined = "\n".join(cells[col].to_numpy()[present])
        if " " in joined or "\t" in joined or "\r" in joined:
            joined = "\n".join(c.strip() for c in cells[col].to_numpy()[present])
        plain = not _NON_NUMBER_CHAR.search(joined)  # only digits, signs, exponents, commas and dots
        if not joined or (not plain and _NOT_NUMBERISH_LINE.search(joined)):
            continue  # a text column (annotation)
        positions = present.nonzero()[0]
        numeric[col] = (joined, positions)
        comma = joined.find(",")
        if comma < 0:
            continue

        def row_of(pos: int, positions: np.ndarray = positions, joined: str = joined) -> int:
            return int(positions[joined.count("\n", 0, pos)])

        comma_cell = comma_cell or (col, row_of(comma))
        bad = (_BAD_COMMA_PLAIN if plain else _BAD_COMMA_LINE).search(joined)
        if bad:
            raise InputError(
                f"{where}: {at(col, row_of(bad.start()))} is not a number (thousands separators or several "
                "commas); save the table without thousands separators"
            )
        if proof is None:
            decisive = _DECISIVE_COMMA_LINE.search(joined)
            if decisive:
                proof = (col, row_of(decisive.start()))
    if comma_cell is None:
        return None
    for col, (joined, positions) in numeric.items():  # no number may have a decimal point
        dot = joined.find(".")
        if dot < 0:
            continue
        dot_cell = (col, int(positions[joined.count("\n", 0, dot)]))
        # Name the odd one out: the form fewer numbers are written in.
        dots = sum(j.count(".") for j, _ in numeric.values())
        commas = sum(j.count(",") for j, _ in numeric.values())
        odd, usual, odd_form, usual_form = (
            (comma_cell, dot_cell, "comma", "point") if commas < dots else (dot_cell, comma_cell, "point", "comma")
        )
        raise InputError(
            f"{where}: {at(*odd)} is not a number: it has a decimal {odd_form}, while the other numbers "
            f"have decimal {usual_form}s (e.g. {at(*usual)}); write every number the same way"
        )
    if proof is None:
        raise InputError(
            f"{where}: {at(*comma_cell)} is not a number: every comma in the table's numbers has three digits "
            "after it, so it could be a thousands separator or a decimal comma; save the table without "
            "thousands separators, or with decimal points"
        )
    frame, _ = _parse_counts(where, raw, decimal=",")
    return frame
