"""Validate a count matrix and its sample sheet before any of it reaches R.

Pure pandas/numpy. Each failure is an :class:`InputError` whose one-line message names
the row (gene) or column (sample) at fault.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError
from deseq2_normalized.reader import RESULT_COLUMNS, check_names

log = logging.getLogger(__name__)

#: The largest count an R integer (and so a DESeqDataSet) can hold.
MAX_COUNT = 2**31 - 1


def validate_counts(counts: pd.DataFrame, source: str = "counts") -> pd.DataFrame:
    """Check that a genes x samples table can be a (normalized) count matrix.

    Parameters
    ----------
    counts
        Genes x samples values; index gene IDs, columns sample names.
    source
        Name used in messages (usually the file name).

    Returns
    -------
    pandas.DataFrame
        The same table as float64 with string index and columns.

    Raises
    ------
    InputError
        Fewer than two samples or genes; empty, duplicated or case-colliding names;
        missing, infinite, negative or too large values; a table of zeros only.
    """
    if counts.shape[1] < 2:
        raise InputError(f"{source}: {counts.shape[1]} sample column(s); DESeq2 needs at least two samples")
    if counts.shape[0] < 2:
        raise InputError(f"{source}: {counts.shape[0]} gene row(s); DESeq2 needs at least two genes")
    samples = [str(c).strip() for c in counts.columns]
    check_names(samples, f"{source}: header", "sample name")
    genes = pd.Index([g.strip() if isinstance(g, str) else "" for g in counts.index.tolist()], name="gene_id")
    empty = np.flatnonzero(genes == "")
    if empty.size:
        raise InputError(f"{source}: row {empty[0] + 1}: empty or NA gene ID")
    dup = genes.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(genes == genes[i])[0])
        raise InputError(f"{source}: row {i + 1}: gene ID '{genes[i]}' is duplicated (first seen in row {first + 1})")
    try:
        values = counts.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{source}: values must be numbers") from None
    _check_values(values, genes, samples, source)
    # No copy: nothing here writes into a table in place (pandas 3 copies on write anyway).
    return pd.DataFrame(values, index=genes, columns=pd.Index(samples, name=None), copy=False)


def _check_values(values: np.ndarray, genes: pd.Index, samples: list[str], source: str) -> None:
    if values.size:
        # Two passes without temporaries say whether anything is wrong; only then are the cells looked for.
        lowest, highest = values.min(axis=0), values.max(axis=0)  # NaN when a column holds one
        finite = np.isfinite(lowest).all() and np.isfinite(highest).all()
        if finite and lowest.min() >= 0 and highest.max() <= MAX_COUNT and (highest > 0).all():
            return
    _find_bad_values(values, genes, samples, source)


def _find_bad_values(values: np.ndarray, genes: pd.Index, samples: list[str], source: str) -> None:
    def where(mask: np.ndarray) -> str:
        i, j = np.argwhere(mask)[0]
        return f"row {i + 1} (gene '{genes[i]}'), column '{samples[j]}'"

    def hint(mask: np.ndarray) -> str:
        return results_column_hint(samples[int(np.argwhere(mask)[0][1])])

    nan = np.isnan(values)
    if nan.any():
        raise InputError(f"{source}: {where(nan)}: missing value (empty, NA or NaN){hint(nan)}")
    inf = np.isinf(values)
    if inf.any():
        raise InputError(f"{source}: {where(inf)}: infinite value")
    neg = values < 0
    if neg.any():
        i, j = np.argwhere(neg)[0]
        raise InputError(
            f"{source}: {where(neg)}: negative value {values[i, j]:g}; counts cannot be negative "
            f"(log-scale, centred or batch-corrected tables cannot be analysed as counts){hint(neg)}"
        )
    big = values > MAX_COUNT
    if big.any():
        i, j = np.argwhere(big)[0]
        raise InputError(
            f"{source}: {where(big)}: value {values[i, j]:g} exceeds the largest count DESeq2 can hold ({MAX_COUNT})"
        )
    if not values.any():
        raise InputError(f"{source}: every value is zero")
    zero_cols = ~values.any(axis=0)
    if zero_cols.any():
        raise InputError(f"{source}: column '{samples[int(np.flatnonzero(zero_cols)[0])]}': every value is zero")


def results_column_hint(column: str) -> str:
    """For a column named like a results statistic (``padj``, ``log2FoldChange``): what to do, else empty.

    Parameters
    ----------
    column
        A column name of the count table.

    Returns
    -------
    str
        Text to append to an error message about that column (starting with ``"; "``), or ``""``.
    """
    if column.strip().casefold() not in RESULT_COLUMNS:
        return ""
    return (
        f"; '{column}' looks like a results column, not a sample: give a sample sheet (--samples) naming "
        "the sample columns, and the other columns are left out"
    )


@dataclass(frozen=True)
class SampleTable:
    """Sample sheet matched to the count matrix.

    Attributes
    ----------
    table
        Rows in the matrix's sample order; columns the design variables, each a
        categorical with sorted levels.
    ignored
        Sheet rows that name no sample of the matrix.
    """

    table: pd.DataFrame
    ignored: tuple[str, ...]


def match_samples(samples: pd.DataFrame, matrix_samples: list[str], source: str = "sample sheet") -> SampleTable:
    """Align a sample sheet with the matrix's samples, by name, in the matrix's order.

    Parameters
    ----------
    samples
        Sample sheet: index sample names, columns design variables (text).
    matrix_samples
        Sample names of the count matrix, in order.
    source
        Name used in messages.

    Returns
    -------
    SampleTable
        The aligned table (every column categorical) and the sheet rows that were ignored.

    Raises
    ------
    InputError
        When matrix samples are missing from the sheet.
    """
    index = [str(s).strip() for s in samples.index]
    sheet = samples.set_axis(index, axis=0)
    missing = [s for s in matrix_samples if s not in sheet.index]
    if missing:
        shown = ", ".join(f"'{s}'" for s in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise InputError(f"{source}: no row for matrix sample(s) {shown}{more}")
    ignored = tuple(s for s in sheet.index if s not in set(matrix_samples))
    if ignored:
        log.warning("%s: ignoring %d row(s) that name no matrix sample: %s", source, len(ignored), ", ".join(ignored))
    aligned = sheet.loc[matrix_samples]
    table = pd.DataFrame({col: _typed(aligned[col]) for col in aligned.columns}, index=aligned.index)
    table.index.name = "sample"
    return SampleTable(table=table, ignored=ignored)


def _typed(values: pd.Series) -> pd.Series:
    """Every design variable is a factor with sorted levels, as in DESeq2's Galaxy tool.

    Numbers such as batch 1, 2, 3 are levels too; sorting is done here, not by R's
    locale-dependent ``sort``, so the default reference level is the same everywhere.
    """
    text = values.astype(str)
    return pd.Series(pd.Categorical(text, categories=sorted(set(text))), index=values.index)


def samples_from_groups(groups: list[tuple[str, list[int]]], matrix_samples: list[str], source: str) -> pd.DataFrame:
    """Build a one-factor (``condition``) sample sheet from groups of column numbers.

    Parameters
    ----------
    groups
        ``(level, columns)`` pairs; columns are 1-based numbers of the counts file, where
        column 1 holds the gene IDs, so the samples are columns 2 and up.
    matrix_samples
        Sample names of the count matrix, in order.
    source
        The counts file name, for messages.

    Returns
    -------
    pandas.DataFrame
        Index sample names, one text column ``condition``.
    """
    rows: dict[str, str] = {}
    for level, columns in groups:
        for col in columns:
            last = len(matrix_samples) + 1
            if not 2 <= col <= last:
                raise InputError(f"{source}: group '{level}' names column {col}, but sample columns are 2 to {last}")
            name = matrix_samples[col - 2]
            if name in rows:
                raise InputError(f"{source}: sample '{name}' (column {col}) is in groups '{rows[name]}' and '{level}'")
            rows[name] = level
    frame = pd.DataFrame({"condition": list(rows.values())}, index=pd.Index(list(rows), name="sample"))
    return frame
