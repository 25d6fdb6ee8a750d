"""A file's bytes: reading, gzip, UTF-8 checks, and the refusal of files that are not text.

Binary data, UTF-16 and UTF-32 text, zip archives and Excel workbooks (old and new) are refused
here with a message saying what the file is; blank lines before the header are dropped.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._excel import is_xlsx

_GZIP_MAGIC = b"\x1f\x8b"
# How much of a file is looked at to tell what it is (here) and, four times as much, its layout.
_SNIFF_BYTES = 1 << 16


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
