"""Read count matrices and sample sheets from delimited text files.

Pure pandas/numpy: nothing here touches R. Every problem raises :class:`InputError`
with a one-line message naming the file and, where it can, the row and column.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import logging
import re
import zlib
from pathlib import Path
from typing import Any

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

    Parameters
    ----------
    path
        File to read.
    name
        What messages call the file (default: its path), e.g. a Galaxy dataset name.

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
    p = Path(path)
    where = name or str(p)
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
    _refuse_non_text(where, raw)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{where}: line {line}: not valid UTF-8 text") from None
    if not raw.strip():
        raise InputError(f"{where}: file is empty")
    return raw


def _refuse_non_text(where: str, raw: bytes) -> None:
    head = raw[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError(f"{where}: file is UTF-32 encoded; save it as UTF-8 text")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        raise InputError(f"{where}: file is UTF-16 encoded; save it as UTF-8 text")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{where}: looks like an Excel workbook or other archive, not a text table; "
            "export it as tab- or comma-separated text"
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
    header_bytes = sum(len(line.encode("utf-8")) for _, line in zip(range(spans), lines))
    if spans > 1 and not raw[header_bytes:].strip():
        raise InputError(f"{where}: the header row has an unclosed quote (it runs on to line {spans})")
    if header_bytes >= len(text.encode("utf-8")) - 4 and len(raw) > _SNIFF_BYTES * 4:
        raise InputError(
            f"{where}: the header row is over {_SNIFF_BYTES * 4 // 1024} KiB long or has an unclosed quote"
        )
    body = io.BytesIO(raw)  # shares the bytes; pandas reads from the current position
    body.seek(header_bytes)
    return sep, header, body


def read_counts(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read a count matrix: first column gene IDs, header row sample names.

    Tab, comma or semicolon separated (detected), optionally gzip-compressed; files written
    by R's ``write.csv`` and ``write.table``, CRLF line ends and a UTF-8 BOM are accepted.
    Values are parsed exactly as written (round-trip precision), which count recovery needs.

    Parameters
    ----------
    path
        The counts file.
    name
        What messages call the file (default: its path), e.g. a Galaxy dataset name.

    Returns
    -------
    pandas.DataFrame
        float64 values, index ``gene_id`` (str), columns the sample names in file order.

    Raises
    ------
    InputError
        For any problem with the file's layout or values, naming file, row and column.
    """
    p = Path(path)
    where = name or str(p)
    raw = _skip_leading_blank_lines(read_bytes(p, where))
    sep, header, body = _header_layout(where, raw)
    if len(header) < 2:
        raise InputError(
            f"{where}: found a single column; expected gene IDs then one column per sample, "
            "separated by tabs, commas or semicolons"
        )
    samples = header[1:]
    check_names(samples, f"{where}: header", "sample name")
    names = [_GENE_COLUMN, *samples]
    try:
        frame = pd.read_csv(
            body,
            sep=sep,
            header=None,
            names=names,
            index_col=0,
            dtype={_GENE_COLUMN: str},
            **_EXACT_FLOATS,
            engine="c",
            quotechar='"',
            skip_blank_lines=True,
            low_memory=False,
        )
    except pd.errors.ParserError as exc:
        detail = _misfit_row(raw, sep, len(names)) or _parser_detail(exc)
        raise InputError(f"{where}: rows do not line up with the header ({detail})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot be parsed as a {_SEP_NAMES[sep]}-separated table ({exc})") from None
    if frame.index.nlevels != 1 or _GENE_COLUMN in frame.columns:
        # Every row has more fields than the header: pandas would silently shift the columns.
        detail = _misfit_row(raw, sep, len(names)) or "every row has more fields than the header"
        raise InputError(f"{where}: rows do not line up with the header ({detail})")
    if frame.shape[0] == 0:
        raise InputError(f"{where}: has a header but no gene rows")
    frame.index = frame.index.fillna("")
    frame = _numeric(where, frame)
    log.debug("read %s: %d genes x %d samples, %s-separated", p, *frame.shape, _SEP_NAMES[sep])
    return frame


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


def read_samples(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read a sample sheet: one row per sample, the other columns design variables.

    The sample names are taken from a column named ``sample`` (any letter case), else the
    first column. Values are kept as text; numeric design columns are recognised later.

    Parameters
    ----------
    path
        The sample sheet.
    name
        What messages call the file (default: its path), e.g. a Galaxy dataset name.

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
    try:
        frame = pd.read_csv(
            body,
            sep=sep,
            header=None,
            names=names,
            dtype=str,
            keep_default_na=False,
            engine="c",
            quotechar='"',
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        raise InputError(f"{where}: rows do not line up with the header ({_parser_detail(exc)})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot be parsed as a {_SEP_NAMES[sep]}-separated table ({exc})") from None
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
