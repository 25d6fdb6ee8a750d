"""The rows of a text table parsed by pandas' C parser, exactly as written: all at once, or part by part.

Large tables without quotes are parsed in parts (:func:`_read_rows_in_parts`), which holds a
fraction of the whole parse's memory; the result is the same as the whole parse's, or the whole
text is parsed.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader._layout import _SEP_NAMES, _header_layout, _misfit_row
from deseq2_normalized.reader._names import check_names

# Column name of the gene IDs while parsing: header names are stripped, so no sample can be called this.
_GENE_COLUMN = " gene_id "
# Values must parse exactly as written (count recovery reads their digits). pandas 3
# parses exactly by default and deprecates the option; older pandas needs round_trip.
_EXACT_FLOATS: dict[str, Any] = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _parse_counts(where: str, raw: bytes, decimal: str = ".") -> tuple[pd.DataFrame, str]:
    """Parse a text table: index the gene IDs (str), one column per further header field.

    Number columns come out float64 (parsed exactly), others as objects.
    """
    sep, header, body = _header_layout(where, raw)
    names, options = _columns_and_options(where, header, decimal)
    frame = _read_rows_in_parts(raw, body.tell(), sep, names, options)
    if frame is None:
        frame = _read_rows(where, raw, sep, body, names, **options)
    if not _lines_up(frame):
        # Every row has more fields than the header: pandas would silently shift the columns.
        detail = _misfit_row(raw, sep, len(names)) or "every row has more fields than the header"
        raise InputError(f"{where}: rows do not line up with the header ({detail})")
    if frame.shape[0] == 0:
        raise InputError(f"{where}: has a header but no gene rows")
    frame.index = frame.index.fillna("")
    return frame, sep


def _columns_and_options(where: str, header: list[str], decimal: str) -> tuple[list[str], dict[str, Any]]:
    """The column names pandas gets for a header, and its options: gene IDs as a text index, exact numbers."""
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
    return names, options


def _lines_up(frame: pd.DataFrame) -> bool:
    """Whether every row had the header's fields (pandas shifts the columns when every row has one more)."""
    return frame.index.nlevels == 1 and _GENE_COLUMN not in frame.columns


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
    rows = _line_breaks(raw, start) + (not raw.endswith(b"\n"))  # the records, and any blank lines
    return parse_parts((_Window(view[a:b]) for a, b in itertools.pairwise(cuts)), rows, sep, names, options)


def parse_parts(
    parts: Iterable[Any], rows: int, sep: str, names: list[str], options: dict[str, Any]
) -> pd.DataFrame | None:
    """Parse the parts of a table's rows (binary streams, each of whole lines) and join them.

    ``rows`` is how many lines the parts hold in all (records and blank lines alike). Each part
    is parsed as :func:`_read_rows` parses the whole. A table of numbers only is copied into one
    float64 matrix (column-major, as a DataFrame holds one block) part by part: no second copy of
    the matrix is made. None when the parts differ in columns or column types, or one cannot be
    parsed: the whole text must be parsed instead.
    """
    matrix: np.ndarray | None = None
    filled = 0
    frames: list[pd.DataFrame] = []
    first: pd.DataFrame | None = None
    try:
        for source in parts:
            part = _c_parse(source, sep, names, options)
            if first is None:
                first = part.iloc[:0]
                if len(part.columns) and all(dtype == np.float64 for dtype in part.dtypes):
                    matrix = np.empty((rows, len(part.columns)), dtype=np.float64, order="F")
            elif not _same_layout(part, first):
                return None
            if matrix is not None:
                if filled + len(part) > rows:
                    return None
                matrix[filled : filled + len(part)] = part.to_numpy(dtype=np.float64)
                filled += len(part)
                part = part.iloc[:, :0]  # the index is kept, the values are in the matrix
            frames.append(part)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        return None
    if first is None:
        return None
    if matrix is None:
        return pd.concat(frames)
    index = frames[0].index.append([part.index for part in frames[1:]])
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


def _parser_detail(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[-1]
    return msg.replace("Error tokenizing data. C error: ", "")
