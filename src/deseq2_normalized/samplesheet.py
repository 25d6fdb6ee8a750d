"""A sample sheet as the analysis takes it: its rows, its header in file order, its name."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from deseq2_normalized.errors import InputError

log = logging.getLogger(__name__)

#: The batch-factor file's column that RUVSeq fills with its own grouping: never a covariate.
BATCH_GROUP_COLUMN = "condition"


@dataclass(frozen=True)
class SampleSheet:
    """A sample sheet as read: its rows, its header in file order and what messages call it.

    Attributes
    ----------
    table
        Index: sample names (str); columns: design variables (str values).
    header
        The file's column names in file order, the sample-name column included (``""``
        for an R-style header's row-name column): what a column number counts.
    source
        What messages call the sheet (``--samples-name``, else the path).
    """

    table: pd.DataFrame
    header: tuple[str, ...]
    source: str

    @classmethod
    def from_table(cls, table: pd.DataFrame, source: str = "sample sheet") -> SampleSheet:
        """A sheet held in memory (the Python API, ``--group``): the sample names are its column 1."""
        return cls(table, (str(table.index.name or "sample"), *(str(c) for c in table.columns)), source)

    @property
    def columns(self) -> list[str]:
        """The design columns, every column but the sample names."""
        return [str(c) for c in self.table.columns]


def as_sample_sheet(samples: SampleSheet | pd.DataFrame, source: str = "sample sheet") -> SampleSheet:
    """``samples`` as a :class:`SampleSheet`; a table is taken as :meth:`SampleSheet.from_table` takes it."""
    return samples if isinstance(samples, SampleSheet) else SampleSheet.from_table(samples, source)


def with_batch_factors(sheet: SampleSheet, batch: SampleSheet) -> tuple[SampleSheet, tuple[str, ...]]:
    """The sample sheet with a batch-factor file's covariates added, and their names.

    The file is what the RUVSeq Galaxy tool writes (``identifier``, ``condition``, ``W_1``,
    ...) or any table of one row per sample: its first column names the samples (rows of
    other samples are not used), ``condition`` and columns the sheet already has are left
    out, every other column is added.

    Raises
    ------
    InputError
        When a sample of the sheet has no row, or no column is left to add.
    """
    added = [c for c in batch.columns if c != BATCH_GROUP_COLUMN and c not in sheet.table.columns]
    left_out = [c for c in batch.columns if c not in added]
    if not added:
        raise InputError(
            f"{batch.source}: no batch-factor column besides '{BATCH_GROUP_COLUMN}' and the sample sheet's "
            f"({', '.join(left_out)})"
        )
    missing = [str(s) for s in sheet.table.index if s not in batch.table.index]
    if missing:
        shown = ", ".join(f"'{s}'" for s in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise InputError(
            f"{batch.source}: no row for sample(s) {shown}; its first column must name the samples "
            f"(for example {', '.join(repr(str(s)) for s in batch.table.index[:3])})"
        )
    if left_out:
        log.info("%s: column(s) %s left out of the design", batch.source, ", ".join(f"'{c}'" for c in left_out))
    table = sheet.table.join(batch.table[added])
    return SampleSheet(table, (*sheet.header, *added), sheet.source), tuple(added)
