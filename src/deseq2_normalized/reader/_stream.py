"""A large plain text table read from its file part by part, never held whole in memory.

Holding a file's bytes while pandas parses them costs the file's size on top of the matrix (a
60,000 x 200 table is 151 MiB of text for a 92 MiB matrix). A large uncompressed table of
UTF-8 text without quotes, a header pandas can split and no decimal commas among its first
records is read here instead: one pass over the file checks the text and counts its lines, a
second parses it part by part (:func:`~deseq2_normalized.reader._parse.parse_parts`, as a
table held whole is parsed in parts). Any other file, and any file whose parts do not parse
alike, is left to the whole-file reader (None), which then reads it, or names its problem, as
it would have anyway.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._bytes import _GZIP_MAGIC, _LEADING_BLANK, _SNIFF_BYTES, _refuse_non_text
from deseq2_normalized.reader._decimal_comma import _head_has_comma_numbers
from deseq2_normalized.reader._layout import _detect_separator, _head_text, _header_layout
from deseq2_normalized.reader._parse import _columns_and_options, _lines_up, parse_parts

#: Plain text files at least this large are read part by part from the file.
STREAM_MIN_BYTES = 32 << 20
#: Bytes read from the file at a time, and the shortest part parsed.
_BLOCK_BYTES = 4 << 20
#: Lines a part holds, where that is longer than a block: pandas builds a table of every part,
#: column by column, so parts of few lines cost a wide table time (up to four blocks a part).
_PART_LINES = 2000
_HEAD_BYTES = _SNIFF_BYTES * 4  # what the separator and the header are sniffed from, as for a whole file


def stream_counts(path: Path, where: str) -> tuple[pd.DataFrame, str] | None:
    """Parse a large plain text table from its file part by part, as :func:`_parse._parse_counts` would.

    Parameters
    ----------
    path
        The file.
    where
        Its name in messages.

    Returns
    -------
    tuple of pandas.DataFrame and str, or None
        The parsed rows (gene IDs as a text index, one column per further header field) and the
        separator; None when the file is not read this way (see the module's docstring).
    """
    try:
        if path.stat().st_size < STREAM_MIN_BYTES:
            return None
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
            layout = _plain_layout(where, head)
            if layout is None:
                return None
            sep, start, names, options = layout
            rows = _count_lines(f, start)
            if rows is None:
                return None
            f.seek(start)
            frame = parse_parts(_parts(f, _part_bytes(head, start)), rows, sep, names, options)
    except (OSError, InputError):
        return None  # the whole-file reader names the problem
    if frame is None or not _lines_up(frame) or frame.shape[0] == 0:
        return None
    frame.index = frame.index.fillna("")
    return frame, sep


def _plain_layout(where: str, head: bytes) -> tuple[str, int, list[str], dict[str, object]] | None:
    """Separator, where the rows start, pandas' column names and options; None if the head is not plain text."""
    _refuse_non_text(where, head)  # raises for what the whole-file reader refuses
    if head.startswith((_GZIP_MAGIC, b"\xef\xbb\xbf")) or _LEADING_BLANK.match(head) or b'"' in head:
        return None
    sep = _detect_separator(_head_text(head))
    if sep in (";", "\t") and _head_has_comma_numbers(head, sep):
        return None
    layout_sep, header, body = _header_layout(where, head)
    start = body.tell()
    if layout_sep != sep or start >= len(head) - 4:
        return None
    names, options = _columns_and_options(where, header, ".")
    return sep, start, names, options


def _count_lines(f: BinaryIO, start: int) -> int | None:
    """The lines from byte ``start`` on, counted as the parts' parse counts them; None if not plain text.

    The text must be UTF-8 without quotes, so that every line break ends a record.
    """
    f.seek(start)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    lines, last = 0, b"\n"
    while block := f.read(_BLOCK_BYTES):
        if not block.isascii() or utf8.getstate()[0]:
            try:
                utf8.decode(block)
            except UnicodeDecodeError:
                return None
        if b'"' in block:
            return None
        lines += int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))
        last = block[-1:]
    try:
        utf8.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return lines + (last != b"\n")


def _part_bytes(head: bytes, start: int) -> int:
    """How long a part is: :data:`_PART_LINES` lines as long as the head's, within one to four blocks."""
    line = (len(head) - start) / max(head.count(b"\n", start), 1)
    return int(min(max(line * _PART_LINES, _BLOCK_BYTES), 4 * _BLOCK_BYTES))


def _parts(f: BinaryIO, size: int) -> Iterator[io.BytesIO]:
    """The rest of the file in parts of whole lines, each about ``size`` bytes long."""
    carry = b""
    while block := f.read(size):
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > 4 * size:
                raise InputError("no line break in a part")  # not a table of short lines: read it whole
            carry = data
            continue
        carry = data[cut:]
        yield io.BytesIO(data[:cut])
    if carry:
        yield io.BytesIO(carry)
