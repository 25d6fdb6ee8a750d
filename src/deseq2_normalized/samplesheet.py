"""A sample sheet as the analysis takes it: its rows, its header in file order, its name."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


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
