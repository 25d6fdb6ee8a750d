"""Read count matrices and sample sheets from delimited text files and Excel workbooks.

Pure pandas/numpy (and openpyxl for ``.xlsx``): nothing here touches R. Every problem raises :class:`InputError`
with a one-line message naming the file and, where it can, the row and column.

The reading functions (:func:`read_bytes`, :func:`read_count_table`, :func:`read_counts`,
:func:`sample_sheet_header`, :func:`read_samples`) take the file as ``path`` and, optionally,
its ``name``: what messages call the file (default: its path), e.g. a Galaxy dataset name.
Their docstrings document only the parameters that are their own.

This module holds :func:`read_count_table` and :func:`read_counts`, which put the steps together;
the steps are modules of their own: ``_bytes`` (the file's bytes, encodings, files that are not
text), ``_excel`` (``.xlsx`` workbooks), ``_layout`` (separator and header), ``_transposed``,
``_parse`` (pandas' C parser, whole or part by part), ``_stream`` (a large
plain file part by part from disk), ``_decimal_comma``, ``_columns`` (gene IDs,
samples, annotation), ``_numbers`` (exact float64 values), ``_names`` (name checks) and
``_samples`` (sample sheets).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._bytes import _file_bytes, _skip_leading_blank_lines, _text_bytes, read_bytes
from deseq2_normalized.reader._columns import _refuse_numeric_gene_ids, _selection, _text_columns
from deseq2_normalized.reader._decimal_comma import _has_comma_numbers, _head_has_comma_numbers, _parse_decimal_comma
from deseq2_normalized.reader._excel import _excel_as_text, is_xlsx
from deseq2_normalized.reader._layout import _SEP_NAMES, SEPARATORS, _detect_separator, _head_text, detect_separator
from deseq2_normalized.reader._names import RESULT_COLUMNS, _quoted, check_names
from deseq2_normalized.reader._numbers import _numeric
from deseq2_normalized.reader._parse import _parse_counts
from deseq2_normalized.reader._samples import read_samples, sample_sheet_header
from deseq2_normalized.reader._stream import stream_counts
from deseq2_normalized.reader._transposed import _refuse_transposed, _transpose_text
from deseq2_normalized.samplesheet import SampleSheet, as_sample_sheet

__all__ = [
    "RESULT_COLUMNS",
    "SEPARATORS",
    "CountTable",
    "SampleSheet",
    "as_sample_sheet",
    "check_names",
    "detect_separator",
    "is_xlsx",
    "read_bytes",
    "read_count_table",
    "read_counts",
    "read_samples",
    "sample_sheet_header",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountTable:
    """A count table as read, split into sample values and gene annotation.

    Attributes
    ----------
    values
        float64 genes x samples; index ``gene_id`` (str), columns the sample names in file order.
    annotation
        Text columns kept as gene annotation (symbol, description, ...), in file order; index
        the gene IDs stripped of surrounding whitespace (as validation leaves them), missing
        cells empty. No columns when the table has none.
    notes
        What the reader did beyond a plain read (annotation kept, columns left out, decimal
        commas, a workbook sheet, a transposed table); each was also logged.
    file_columns
        Names of the table's columns after the gene-ID column, in order: column ``k`` of the
        file (1-based, the gene IDs being column 1) is ``file_columns[k - 2]``.
    """

    values: pd.DataFrame
    annotation: pd.DataFrame
    notes: tuple[str, ...]
    file_columns: tuple[str, ...]


def read_count_table(
    path: str | Path,
    name: str | None = None,
    *,
    samples: Sequence[str] | None = None,
    columns: Sequence[int] | None = None,
    sheet: str | None = None,
    transposed: bool = False,
) -> CountTable:
    """Read a count table in any of the forms people share.

    Text tables (tab, comma or semicolon separated, optionally gzip-compressed, as R's
    ``write.csv``, ``write.csv2`` and ``write.table`` write them) and Excel workbooks
    (``.xlsx``, recognised by content whatever the file's name). Values are parsed exactly as
    written, which count recovery needs. Decimal commas (``write.csv2``) are accepted in
    semicolon- and tab-separated tables when the whole table proves them: every number cell
    with a comma has one comma, no number cell has a decimal point, and at least one comma
    cell cannot be a thousands separator (it has other than three digits after the comma).
    Text columns are gene annotation, never samples.

    Parameters
    ----------
    samples
        The sample names of a sample sheet: only these columns are samples; other numeric
        columns (results statistics, samples not in the sheet) are left out, with a note,
        and text columns are annotation. Without ``samples`` (and ``columns``), the text
        columns right after the gene IDs are annotation and every later column is a sample.
    columns
        Instead of ``samples``: the 1-based numbers of the sample columns in the file
        (column 1 holds the gene IDs).
    sheet
        Name of the workbook sheet to read (default: the first); only for Excel workbooks.
    transposed
        The table has samples as rows and genes as columns: transpose it first.

    Returns
    -------
    CountTable
        The sample values, the annotation, notes and the file's column names.

    Raises
    ------
    InputError
        For any problem with the file's form, layout or values, naming file, row and column.
    """
    p = Path(path)
    where = name or str(p)
    notes: list[str] = []
    streamed = None if sheet is not None or transposed else stream_counts(p, where)
    if streamed is not None and streamed[1] in (";", "\t") and _has_comma_numbers(streamed[0]):
        streamed = None  # decimal commas further down: the whole file proves them or not
    if streamed is not None:
        frame, sep = streamed
    else:
        frame, sep, where = _parse_whole_file(p, where, name, sheet, transposed, notes)
    file_columns = tuple(str(c) for c in frame.columns)
    _refuse_numeric_gene_ids(where, frame)
    selected = _selection(where, frame, samples, columns)
    if not transposed:
        _refuse_transposed(where, frame, samples, selected)
    text = _text_columns(frame)
    for number in columns or ():
        if file_columns[number - 2] in text:
            raise InputError(
                f"{where}: column {number} ('{file_columns[number - 2]}') holds text (gene annotation), not counts"
            )
    if selected is None:
        lead = 0
        while lead < len(file_columns) and file_columns[lead] in text:
            lead += 1
        annotation_columns = list(file_columns[:lead])
        sample_columns = list(file_columns[lead:])
    else:
        sample_columns = [c for c in file_columns if c in selected]
        annotation_columns = [c for c in file_columns if c not in selected and c in text]
        left_out = [c for c in file_columns if c not in selected and c not in text]
        if left_out:
            why = "named in the sample sheet" if samples is not None else "in any group"
            _note(
                notes,
                f"{where}: left out {len(left_out)} numeric column(s) not {why}: {_quoted(left_out)}",
                logging.WARNING,
            )
    if annotation_columns:
        _note(notes, f"{where}: kept {len(annotation_columns)} text column(s) as gene annotation: "
              f"{_quoted(annotation_columns)}")  # fmt: skip
    values = _numeric(where, cast(pd.DataFrame, frame[sample_columns]))
    annotation = frame[annotation_columns].astype(object).where(frame[annotation_columns].notna(), "")
    annotation = annotation.astype(str)
    annotation.index = pd.Index([str(g).strip() for g in values.index.tolist()], name="gene_id")
    log.debug("read %s: %d genes x %d samples, %s-separated", where, *values.shape, _SEP_NAMES[sep])
    return CountTable(values=values, annotation=annotation, notes=tuple(notes), file_columns=file_columns)


def _parse_whole_file(
    p: Path, where: str, name: str | None, sheet: str | None, transposed: bool, notes: list[str]
) -> tuple[pd.DataFrame, str, str]:
    """The table parsed from the whole file's bytes (every form :func:`read_count_table` reads).

    Returns the parsed rows, the separator and the name messages give the table from now on (a
    workbook's names its sheet).
    """
    raw = _file_bytes(p, where)
    if raw.startswith(b"PK\x03\x04") and is_xlsx(raw):
        raw, where, sheet_name = _excel_as_text(raw, where, sheet)
        _note(notes, f"{name or p}: read sheet '{sheet_name}' of the Excel workbook")
    else:
        raw = _text_bytes(where, raw)
        if sheet is not None:
            raise InputError(f"{where}: a sheet ('{sheet}') was named, but this is a text table, not an Excel workbook")
    raw = _skip_leading_blank_lines(raw)
    if transposed:
        raw = _transpose_text(where, raw)
        _note(notes, f"{where}: transposed as asked: rows are now genes, columns samples")
    sep = _detect_separator(_head_text(raw))
    commas: pd.DataFrame | None = None
    if sep in (";", "\t") and _head_has_comma_numbers(raw, sep):
        commas = _parse_decimal_comma(where, raw, sep)  # spares parsing the columns as text first
        frame, sep = (commas, sep) if commas is not None else _parse_counts(where, raw)
    else:
        frame, sep = _parse_counts(where, raw)
        if sep in (";", "\t") and _has_comma_numbers(frame):  # comma numbers further down
            commas = _parse_decimal_comma(where, raw, sep)
            frame = commas if commas is not None else frame
    if commas is not None:
        _note(notes, f"{where}: numbers are written with decimal commas (as by R's write.csv2); read them as such")
    return frame, sep, where


def read_counts(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read a count matrix: first column gene IDs, header row sample names.

    The sample values of :func:`read_count_table` (every form it reads; annotation columns
    right after the gene IDs are dropped). Values are parsed exactly as written.

    Returns
    -------
    pandas.DataFrame
        float64 values, index ``gene_id`` (str), columns the sample names in file order.

    Raises
    ------
    InputError
        As :func:`read_count_table` raises it.
    """
    return read_count_table(path, name).values


def _note(notes: list[str], text: str, level: int = logging.INFO) -> None:
    notes.append(text)
    log.log(level, "%s", text)
