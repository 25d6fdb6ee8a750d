"""A text table's layout: its separator, its header row, and rows that do not line up with the header.

The separator and the header are sniffed from the file's first records, split as pandas
splits them (``"`` quotes, quoted line breaks kept).
"""

from __future__ import annotations

import contextlib
import csv
import io

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._bytes import _SNIFF_BYTES

SEPARATORS = ("\t", ",", ";")
_SEP_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}


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
