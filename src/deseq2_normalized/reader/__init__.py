"""Read count matrices and sample sheets from delimited text files and Excel workbooks.

Pure pandas/numpy (and openpyxl for ``.xlsx``): nothing here touches R. Every problem raises :class:`InputError`
with a one-line message naming the file and, where it can, the row and column.

The reading functions (:func:`read_bytes`, :func:`read_count_table`, :func:`read_counts`,
:func:`sample_sheet_header`, :func:`read_samples`) take the file as ``path`` and, optionally,
its ``name``: what messages call the file (default: its path), e.g. a Galaxy dataset name.
Their docstrings document only the parameters that are their own.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import itertools
import logging
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError

log = logging.getLogger(__name__)

SEPARATORS = ("\t", ",", ";")
_SEP_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 1 << 16
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Column name of the gene IDs while parsing: header names are stripped, so no sample can be called this.
_GENE_COLUMN = " gene_id "
# Values must parse exactly as written (count recovery reads their digits). pandas 3
# parses exactly by default and deprecates the option; older pandas needs round_trip.
_EXACT_FLOATS: dict[str, Any] = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def read_bytes(path: str | Path, name: str | None = None) -> bytes:
    """Return the decoded-to-bytes content of a plain or gzip-compressed text file.

    Returns
    -------
    bytes
        The file's content, decompressed and without a UTF-8 byte-order mark.

    Raises
    ------
    InputError
        When the file is missing, empty, compressed but damaged, or not UTF-8 text
        (binary data, UTF-16, an Excel workbook).
    """
    where = name or str(path)
    return _text_bytes(where, _file_bytes(Path(path), where))


def _file_bytes(p: Path, where: str) -> bytes:
    """The file's bytes, gzip-decompressed."""
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot be read ({exc.strerror})") from None
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"{where}: gzip file is damaged or truncated ({exc})") from None
    return raw


def _text_bytes(where: str, raw: bytes) -> bytes:
    """``raw`` checked to be UTF-8 text, without a byte-order mark."""
    _refuse_non_text(where, raw)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        if not raw.isascii():  # ASCII is UTF-8: the common case needs no decoding pass
            raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{where}: line {line}: not valid UTF-8 text") from None
    if not raw or raw.isspace():  # without copying the whole file, as strip() would
        raise InputError(f"{where}: file is empty")
    return raw


def _refuse_non_text(where: str, raw: bytes) -> None:
    head = raw[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError(f"{where}: file is UTF-32 encoded; save it as UTF-8 text")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        raise InputError(f"{where}: file is UTF-16 encoded; save it as UTF-8 text")
    if head.startswith(b"PK\x03\x04"):
        what = "an Excel workbook (.xlsx)" if is_xlsx(raw) else "a zip archive that is not an Excel workbook (.xlsx)"
        raise InputError(f"{where}: is {what}, not a text table; give a tab- or comma-separated text table or an .xlsx")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{where}: looks like an old-style Excel workbook (.xls) or another Office file; "
            "save it as .xlsx or as tab-separated text"
        )
    if b"\x00" in head:
        raise InputError(f"{where}: contains binary data, not a text table")


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a zero byte beside every character."""
    sample = head[:512]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) == len(even) != odd.count(0) or odd.count(0) == len(odd) != even.count(0)


_LEADING_BLANK = re.compile(rb"(?:[ \t\f\v]*(?:\r\n|\r|\n))+")


def _skip_leading_blank_lines(raw: bytes) -> bytes:
    """Drop blank lines before the header: pandas would count them as the header row."""
    m = _LEADING_BLANK.match(raw)
    return raw[m.end() :] if m else raw


def _records(text: str, sep: str, n: int) -> list[list[str]]:
    """The first ``n`` non-blank records of ``text`` split as pandas does (quoted line breaks kept)."""
    out: list[list[str]] = []
    # newline="": only \n, \r\n and \r end a line, as for pandas (str.splitlines() would also split on \f, ...).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"')
    try:
        for fields in reader:
            if "".join(fields).strip():
                out.append(fields)
                if len(out) == n:
                    break
    except csv.Error:
        pass  # a damaged record: pandas names the problem when it parses the file
    return out


def _head_text(raw: bytes) -> str:
    return raw[: _SNIFF_BYTES * 4].decode("utf-8", errors="replace")


def detect_separator(lines: list[str]) -> str:
    """Pick tab, comma or semicolon: the separator that splits every sniffed record alike.

    Parameters
    ----------
    lines
        The first lines of the file (header first).

    Returns
    -------
    str
        The separator character.
    """
    return _detect_separator("\n".join(lines))


def _detect_separator(text: str) -> str:
    best, best_score = "\t", (-1, -1)
    for sep in SEPARATORS:
        counts = [len(fields) for fields in _records(text, sep, 6)] or [0]
        header, data = counts[0], counts[1:] or counts[:1]
        # Rows agree with each other, and the header has as many fields or one fewer (write.table).
        consistent = len(set(data)) == 1 and data[0] > 1 and header in (data[0], data[0] - 1)
        score = (int(consistent), min(data))
        if score > best_score:
            best, best_score = sep, score
    return best


def _header_layout(where: str, raw: bytes) -> tuple[str, list[str], io.BytesIO]:
    """Return the separator, the column names (gene/sample column first) and the bytes after the header.

    The header record is cut off here rather than with pandas' ``skiprows``, which miscounts a
    header that starts with an empty field and holds a quoted line break.
    """
    text = _head_text(raw)
    sep = _detect_separator(text)
    records = _records(text, sep, 2) or [[""]]
    header = [h.strip() for h in records[0]]
    if len(records) > 1 and len(records[1]) == len(header) + 1:
        # R's write.table: the header has no field for the row names.
        header = ["", *header]
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=sep, quotechar='"')
    with contextlib.suppress(csv.Error, StopIteration):
        next(reader)
    spans = reader.line_num
    lines.seek(0)
    header_bytes = sum(len(line.encode("utf-8")) for _, line in zip(range(spans), lines, strict=False))
    if spans > 1 and not raw[header_bytes:].strip():
        raise InputError(f"{where}: the header row has an unclosed quote (it runs on to line {spans})")
    if header_bytes >= len(text.encode("utf-8")) - 4 and len(raw) > _SNIFF_BYTES * 4:
        raise InputError(
            f"{where}: the header row is over {_SNIFF_BYTES * 4 // 1024} KiB long or has an unclosed quote"
        )
    body = io.BytesIO(raw)  # shares the bytes; pandas reads from the current position
    body.seek(header_bytes)
    return sep, header, body


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


#: Column names of differential-expression results (DESeq2, edgeR, limma): errors on such a column say so.
RESULT_COLUMNS = frozenset(
    c.casefold()
    for c in (
        "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "logFC", "logCPM", "PValue", "FDR",
        "AveExpr", "P.Value", "adj.P.Val", "qvalue", "p_val_adj", "avg_log2FC",
    )
)  # fmt: skip
# A table whose rows are at most a tenth of its (at least this many) columns looks transposed.
_TRANSPOSED_MIN_COLUMNS = 200


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


def _quoted(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _parse_counts(where: str, raw: bytes, decimal: str = ".") -> tuple[pd.DataFrame, str]:
    """Parse a text table: index the gene IDs (str), one column per further header field.

    Number columns come out float64 (parsed exactly), others as objects.
    """
    sep, header, body = _header_layout(where, raw)
    if len(header) < 2:
        raise InputError(
            f"{where}: found a single column; expected gene IDs then one column per sample, "
            "separated by tabs, commas or semicolons"
        )
    check_names(header[1:], f"{where}: header", "sample name")
    names = [_GENE_COLUMN, *header[1:]]
    options: dict[str, Any] = {
        "index_col": 0,
        "dtype": {_GENE_COLUMN: str},
        **_EXACT_FLOATS,
        "decimal": decimal,
        "low_memory": False,
    }
    frame = _read_rows_in_parts(raw, body.tell(), sep, names, options)
    if frame is None:
        frame = _read_rows(where, raw, sep, body, names, **options)
    if frame.index.nlevels != 1 or _GENE_COLUMN in frame.columns:
        # Every row has more fields than the header: pandas would silently shift the columns.
        detail = _misfit_row(raw, sep, len(names)) or "every row has more fields than the header"
        raise InputError(f"{where}: rows do not line up with the header ({detail})")
    if frame.shape[0] == 0:
        raise InputError(f"{where}: has a header but no gene rows")
    frame.index = frame.index.fillna("")
    return frame, sep


#: Tables with more text after the header than two parts of this size are parsed part by part.
_PART_BYTES = 16 << 20


class _Window(io.RawIOBase):
    """A read-only binary stream over a slice of the file's bytes, without copying them."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n


def _read_rows_in_parts(
    raw: bytes, start: int, sep: str, names: list[str], options: dict[str, Any]
) -> pd.DataFrame | None:
    """The rows after the header (from byte ``start`` of ``raw``) parsed part by part.

    For large tables without quotes, where every line break ends a record: the text is cut
    at line breaks into parts of about :data:`_PART_BYTES`, each parsed as :func:`_read_rows`
    parses the whole, and the parts are joined. pandas' parser holds the tokens of all the
    text it parses at once (about twice the text's size); a part's are a fraction of that.
    The result is the whole parse's only when every part has the same columns and column
    types; otherwise, or when a part cannot be parsed, this returns None and the caller
    parses the whole text at once (which then also names any problem as usual).
    """
    size = len(raw) - start
    if size < 2 * _PART_BYTES or raw.find(b'"', start) >= 0:
        return None
    count = -(-size // _PART_BYTES)
    cuts = [start]
    for i in range(1, count):
        cut = raw.find(b"\n", start + size * i // count) + 1
        if cut > cuts[-1]:
            cuts.append(cut)
    if cuts[-1] < len(raw):
        cuts.append(len(raw))
    if len(cuts) < 3:
        return None
    view = memoryview(raw)

    def parse(span: tuple[int, int]) -> pd.DataFrame:
        return _c_parse(_Window(view[span[0] : span[1]]), sep, names, options)

    # A table of numbers only is copied into one float64 matrix (column-major, as a DataFrame holds
    # one block) part by part, its rows counted beforehand: no second copy of the matrix is made.
    rows = _line_breaks(raw, start) + (not raw.endswith(b"\n"))  # the records, and any blank lines
    matrix: np.ndarray | None = None
    filled = 0
    parts: list[pd.DataFrame] = []
    first: pd.DataFrame | None = None
    try:
        for span in itertools.pairwise(cuts):
            part = parse(span)
            if first is None:
                first = part.iloc[:0]
                if len(part.columns) and all(dtype == np.float64 for dtype in part.dtypes):
                    matrix = np.empty((rows, len(part.columns)), dtype=np.float64, order="F")
            elif not _same_layout(part, first):
                return None
            if matrix is not None:
                matrix[filled : filled + len(part)] = part.to_numpy(dtype=np.float64)
                filled += len(part)
                part = part.iloc[:, :0]  # the index is kept, the values are in the matrix
            parts.append(part)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        return None
    if matrix is None or first is None:
        return pd.concat(parts)
    index = parts[0].index.append([part.index for part in parts[1:]])
    values = matrix if filled == rows else np.asfortranarray(matrix[:filled])
    return pd.DataFrame(values, index=index, columns=first.columns, copy=False)


def _c_parse(source: Any, sep: str, names: list[str], options: dict[str, Any]) -> pd.DataFrame:
    """Rows without a header line read by pandas' C parser: ``"`` quotes, blank lines skipped."""
    return pd.read_csv(
        source, sep=sep, header=None, names=names, engine="c", quotechar='"', skip_blank_lines=True, **options
    )


def _line_breaks(raw: bytes, start: int, step: int = 1 << 22) -> int:
    """How many line feeds ``raw`` holds from byte ``start`` on (in a third of ``bytes.count``'s time)."""
    codes = np.frombuffer(raw, dtype=np.uint8)
    return sum(int(np.count_nonzero(codes[i : i + step] == 10)) for i in range(start, len(raw), step))


def _same_layout(part: pd.DataFrame, first: pd.DataFrame) -> bool:
    """Whether a part came out with the first part's columns and column types (and a plain index)."""
    return (
        part.index.nlevels == 1
        and part.index.dtype == first.index.dtype
        and part.columns.equals(first.columns)
        and part.dtypes.equals(first.dtypes)
    )


def _read_rows(
    where: str, raw: bytes, sep: str, body: io.BytesIO, names: list[str], **read_options: Any
) -> pd.DataFrame:
    """The rows after the header (``body``, from :func:`_header_layout`) as a DataFrame with ``names`` as columns.

    Read by pandas' C parser with ``"`` quotes, blank lines skipped; ``read_options`` (index,
    types, decimal mark) go to ``pandas.read_csv``. Rows that do not line up with the header,
    or a table that cannot be parsed, raise :class:`InputError` naming the file (and the
    first row with too many fields, found in ``raw``).
    """
    try:
        return _c_parse(body, sep, names, read_options)
    except pd.errors.ParserError as exc:
        detail = _misfit_row(raw, sep, len(names)) or _parser_detail(exc)
        raise InputError(f"{where}: rows do not line up with the header ({detail})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot be parsed as a {_SEP_NAMES[sep]}-separated table ({exc})") from None


def _not_numbers(values: pd.Series) -> pd.Series:
    """Cells that are present but do not parse as a number."""
    text = cast("pd.Series[str]", values.astype(str)).str.strip()
    return values.notna() & ~text.str.fullmatch(_NUMBER_OR_SPECIAL)


_NUMBER_OR_SPECIAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:[Ii]nf(?:inity)?|INF|NaN|nan)"


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


def _misfit_row(raw: bytes, sep: str, width: int) -> str | None:
    """Name the first line with more fields than the header (or that cannot be split), if any."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"), newline=""), delimiter=sep, quotechar='"')
    try:
        for i, fields in enumerate(reader):
            if i and len(fields) > width:
                return f"line {reader.line_num} has {len(fields)} fields, the header has {width}"
    except csv.Error as exc:
        return f"line {reader.line_num}: {exc}"
    return None


def _parser_detail(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[-1]
    return msg.replace("Error tokenizing data. C error: ", "")


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
            )
        out[col] = as_num.to_numpy(dtype=np.float64)
    result = pd.DataFrame(out, index=frame.index, columns=frame.columns)
    result.index.name = "gene_id"
    return result


def _to_float(value: object) -> float:
    text = str(value).strip()
    return float(text) if _DECIMAL.fullmatch(text) else float("nan")


def check_names(names: list[str], where: str, what: str) -> None:
    """Refuse empty names and names equal up to surrounding whitespace or letter case.

    Parameters
    ----------
    names
        The names, already stripped of surrounding whitespace.
    where
        Prefix of the error message (file and part of the file).
    what
        What a name is ("sample name", "gene ID").
    """
    seen: dict[str, str] = {}
    for i, name in enumerate(names):
        if name == "":
            raise InputError(f"{where}: {what} number {i + 1} is empty")
        key = name.casefold()
        if key in seen:
            other = seen[key]
            kind = "is duplicated" if other == name else f"and '{other}' differ only by letter case"
            raise InputError(f"{where}: {what} '{name}' {kind}")
        seen[key] = name


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


def read_samples(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read a sample sheet: one row per sample, the other columns design variables.

    The sample names are taken from a column named ``sample`` (any letter case), else the
    first column. Values are kept as text; numeric design columns are recognised later.

    Returns
    -------
    pandas.DataFrame
        Index: sample names (str); columns: design variables (str values).

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
    names = header[:]
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
    frame.attrs["source"] = where  # lets later messages (match_samples) name the file
    return frame
