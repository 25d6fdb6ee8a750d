"""What the reader makes of a file, for tests that compare two ways of reading the same file.

Used by the tests of the part-by-part parse (``test_reader_parts``) and of the streamed reader
(``test_reader_stream``): each must give exactly what reading the whole file gives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from deseq2_normalized import reader
from deseq2_normalized.errors import InputError


def scaled_counts(rows: int, seed: int) -> pd.DataFrame:
    """Negative-binomial counts of five samples divided by five scales, as a normalized table."""
    rng = np.random.default_rng(seed)
    counts = rng.negative_binomial(2, 0.05, size=(rows, 5))
    return pd.DataFrame(
        counts / np.array([0.5, 0.8, 1.1, 1.7, 2.3]),
        index=pd.Index([f"g{i}" for i in range(rows)], name="gene_id"),
        columns=[f"s{j}" for j in range(5)],
    )


def tsv(table: pd.DataFrame, fmt: str = "%.15g", **kw: object) -> str:
    """The table as tab-separated text, numbers at ``fmt``."""
    return table.to_csv(sep="\t", float_format=fmt, **kw)  # type: ignore[call-overload]


def reading(path: Path) -> object:
    """What read_count_table gives (values, annotation, notes, file columns), or its error message."""
    try:
        t = reader.read_count_table(path)
    except InputError as exc:
        return str(exc)
    return t.values, t.annotation, t.notes, t.file_columns


def assert_same_reading(a: object, b: object) -> None:
    """Two readings are the same: the same message, or exactly equal tables of the same types."""
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert isinstance(a, tuple) and isinstance(b, tuple)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
            assert x.index.dtype == y.index.dtype and list(x.dtypes) == list(y.dtypes)
        else:
            assert x == y
