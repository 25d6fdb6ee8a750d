"""Sample sheets: their header (for column numbers) and their rows as text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._bytes import _skip_leading_blank_lines, read_bytes
from deseq2_normalized.reader._layout import _header_layout, _misfit_row
from deseq2_normalized.reader._names import check_names
from deseq2_normalized.reader._parse import _read_rows
from deseq2_normalized.samplesheet import SampleSheet


def sample_sheet_header(path: str | Path, name: str | None = None) -> list[str]:
    """The sample sheet's column names in file order, the sample-name column included.

    Read as :func:`read_samples` reads the header line (separator, quotes, blank lines before
    it, R's header without a field for the row names), so that a column number means the same
    column here as there.

    Returns
    -------
    list of str
        The column names; an R-style header's row-name column is ``""``.
    """
    where = name or str(path)
    return _header_layout(where, _skip_leading_blank_lines(read_bytes(path, where)))[1]


def read_samples(path: str | Path, name: str | None = None) -> SampleSheet:
    """Read a sample sheet: one row per sample, the other columns design variables.

    The sample names are taken from a column named ``sample`` (any letter case), else the
    first column. Values are kept as text; numeric design columns are recognised later.

    Returns
    -------
    SampleSheet
        Its table (index sample names, columns design variables as text), the header as
        :func:`sample_sheet_header` reads it, and ``name`` (else the path) for messages.

    Raises
    ------
    InputError
        For layout problems, empty cells, duplicated samples or column names.
    """
    p = Path(path)
    where = name or str(p)
    raw = _skip_leading_blank_lines(read_bytes(p, where))
    sep, header, body = _header_layout(where, raw)
    if len(header) < 2:
        raise InputError(f"{where}: needs a sample column and at least one design variable column")
    names = list(header)
    if names[0] == "":
        names[0] = "sample"
    check_names(names, f"{where}: header", "column name")
    # pandas would silently turn extra leading fields into an index: refuse rows longer than the header.
    misfit = _misfit_row(raw, sep, len(names))
    if misfit:
        raise InputError(f"{where}: rows do not line up with the header ({misfit})")
    frame = _read_rows(where, raw, sep, body, names, dtype=str, keep_default_na=False)
    if frame.shape[0] == 0:
        raise InputError(f"{where}: has a header but no sample rows")
    frame = frame.apply(lambda c: c.str.strip())
    lower = [n.casefold() for n in names]
    sample_col = names[lower.index("sample")] if "sample" in lower else names[0]
    for col in frame.columns:
        empty = frame[col].isna() | (frame[col] == "")
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise InputError(f"{where}: row {i + 1}, column '{col}': empty value")
    check_names(list(frame[sample_col]), f"{where}: column '{sample_col}'", "sample")
    frame = frame.set_index(sample_col)
    frame.index.name = "sample"
    return SampleSheet(frame, tuple(header), where)
