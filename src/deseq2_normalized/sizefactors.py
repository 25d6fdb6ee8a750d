"""The size-factor check: whether this table is really DESeq2-normalized.

If a matrix holds ``counts(dds, normalized=TRUE)``, DESeq2's median-of-ratios size factors
estimated on it are all close to 1 (up to one common factor). The estimate here follows
DESeq2's ``estimateSizeFactorsForMatrix`` exactly and is tested against it, so that the
check runs before, and without, R.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: ``column(j, rows)``: column ``j`` of a genes x samples matrix, its rows ``rows`` only (an index
#: array; None: every row), as numbers made on demand (see :func:`columns_of`).
Column = Callable[[int, "np.ndarray | None"], np.ndarray]


def columns_of(counts: np.ndarray, *, rounded: bool = False) -> Column:
    """Columns of ``counts``, rounded to integers (half to even, as R's ``round``) when ``rounded``.

    The estimators take a matrix's columns one at a time, so that no temporary is the size of
    the matrix (a rounded table is never made whole). A column of a pandas table is contiguous.
    """
    values = np.asarray(counts)

    def column(j: int, rows: np.ndarray | None = None) -> np.ndarray:
        picked = values[:, j] if rows is None else values[rows, j]
        return np.rint(picked) if rounded else picked

    return column


def median_of_ratios(counts: np.ndarray, *, usable: np.ndarray | None = None) -> np.ndarray:
    """DESeq2's median-of-ratios size factors of a genes x samples matrix.

    Parameters
    ----------
    counts
        Non-negative values, genes x samples.
    usable
        The genes positive in every sample, when the caller already knows them (a boolean
        mask over the rows); found here otherwise.

    Returns
    -------
    numpy.ndarray
        One size factor per sample.

    Raises
    ------
    ValueError
        When no gene is positive in every sample (DESeq2 refuses such a matrix too).
    """
    values = np.asarray(counts)
    return median_of_ratios_by_column(columns_of(values), values.shape[1], usable=usable)


def median_of_ratios_by_column(column: Column, n: int, *, usable: np.ndarray | None = None) -> np.ndarray:
    """:func:`median_of_ratios` of the matrix whose ``n`` columns ``column`` gives, one at a time.

    A first pass sums the usable genes' logs in sample order (as numpy's mean over the samples
    of a matrix adds them), a second takes each sample's median ratio: the factors are bitwise
    those of the whole matrix's computation.
    """
    if usable is None:
        usable = complete_genes(column, n)
    if not usable.any():
        raise ValueError("every gene contains at least one zero, cannot compute log geometric means")
    rows = np.flatnonzero(usable)

    def logs(j: int) -> np.ndarray:
        return np.log(column(j, rows).astype(np.float64, copy=False))

    log_geo = np.zeros(rows.size)
    for j in range(n):
        log_geo += logs(j)
    log_geo /= n
    sf = np.empty(n)
    for j in range(n):
        ratios = logs(j)
        ratios -= log_geo
        sf[j] = np.exp(np.median(ratios, overwrite_input=True))
    return sf


def complete_genes(column: Column, n: int) -> np.ndarray:
    """The genes (rows) positive in each of the ``n`` columns."""
    if n == 0:
        raise ValueError("no samples")
    complete = column(0, None) > 0
    for j in range(1, n):
        complete &= column(j, None) > 0
    return complete


def poscounts(counts: np.ndarray) -> np.ndarray:
    """DESeq2's ``estimateSizeFactors(type = "poscounts")`` of a genes x samples matrix.

    For tables in which every gene has a zero in some sample (microbiome, single-cell
    pseudobulk), where median-of-ratios cannot be computed. Each gene's geometric mean is
    taken over its positive counts but divided by the number of all samples,
    ``exp(sum(log(x[x > 0])) / n)`` (0 for a gene of zeros); each sample's factor is the
    median ratio to those means over the genes positive in it; the factors are then
    scaled to a geometric mean of 1, as DESeq2 does with given ``geoMeans``.

    Parameters
    ----------
    counts
        Non-negative values, genes x samples.

    Returns
    -------
    numpy.ndarray
        One size factor per sample, geometric mean 1.

    Raises
    ------
    ValueError
        When every gene is zero in every sample.
    """
    values = np.asarray(counts)
    return poscounts_by_column(columns_of(values), values.shape[1])


def poscounts_by_column(column: Column, n: int) -> np.ndarray:
    """:func:`poscounts` of the matrix whose ``n`` columns ``column`` gives, one at a time."""
    log_sum: np.ndarray | None = None
    seen: np.ndarray | None = None
    for j in range(n):
        values = column(j, None).astype(np.float64, copy=False)
        positive = values > 0
        logs = np.zeros(values.shape)
        np.log(values, out=logs, where=positive)
        log_sum = logs if log_sum is None else log_sum + logs
        seen = positive if seen is None else seen | positive
    if log_sum is None or seen is None:
        raise ValueError("no samples")
    log_geo = np.where(seen, log_sum / n, -np.inf)
    finite = np.isfinite(log_geo)
    if not finite.any():
        raise ValueError("every gene contains at least one zero, cannot compute log geometric means")
    sf = np.empty(n)
    for j in range(n):
        values = column(j, None).astype(np.float64, copy=False)
        use = (values > 0) & finite
        sf[j] = np.exp(np.median(np.log(values[use]) - log_geo[use]))
    return sf / np.exp(np.mean(np.log(sf)))


def has_complete_gene(counts: np.ndarray) -> bool:
    """Whether some gene is positive in every sample, as median-of-ratios needs."""
    return bool((np.asarray(counts) > 0).all(axis=1).any())


@dataclass(frozen=True)
class SizeFactorCheck:
    """Outcome of the size-factor check.

    Attributes
    ----------
    table
        One row per sample: ``size_factor``, ``relative_size_factor`` (divided by the
        geometric mean) and ``within_tolerance``.
    tolerance
        A relative size factor passes when it lies within a factor ``1 + tolerance`` of 1.
    genes_used
        Genes the estimate rests on: positive in every sample (median-of-ratios), or
        positive in some sample (poscounts).
    estimator
        ``"ratio"`` (DESeq2's median-of-ratios), or ``"poscounts"`` when every gene has a
        zero in some sample and median-of-ratios cannot be computed.
    """

    table: pd.DataFrame
    tolerance: float
    genes_used: int
    estimator: str = "ratio"

    @property
    def passed(self) -> bool:
        """True when every sample's relative size factor is within tolerance."""
        return bool(self.table["within_tolerance"].all())

    @property
    def failing(self) -> list[str]:
        """Samples outside the tolerance band."""
        return [str(s) for s in self.table.index[~self.table["within_tolerance"]]]

    @property
    def max_deviation(self) -> float:
        """Largest factor by which a relative size factor differs from 1."""
        rel = self.table["relative_size_factor"].to_numpy()
        return float(np.exp(np.abs(np.log(rel)).max()))

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary for ``diagnostics.json``."""
        return {
            "passed": self.passed,
            "tolerance": self.tolerance,
            "genes_used": self.genes_used,
            "estimator": self.estimator,
            "max_deviation_factor": self.max_deviation,
            "failing_samples": self.failing,
            "samples": {
                str(s): {
                    "size_factor": float(r.size_factor),
                    "relative_size_factor": float(r.relative_size_factor),
                    "within_tolerance": bool(r.within_tolerance),
                }
                for s, r in self.table.iterrows()
            },
        }


def check_size_factors(values: pd.DataFrame, tolerance: float = 0.1, *, rounding: bool = False) -> SizeFactorCheck:
    """Estimate size factors on the table (rounded to integers first with ``rounding``) and compare them with 1.

    Parameters
    ----------
    values
        Genes x samples non-negative values: rounded counts, or values to round.
    tolerance
        Relative size factors must lie in ``[1 / (1 + tolerance), 1 + tolerance]``.
    rounding
        Round each value to an integer (half to even, as R's ``round``) as it is used, so
        that no rounded copy of the table is made.

    Returns
    -------
    SizeFactorCheck
        Per-sample factors and the verdict.

    Raises
    ------
    ValueError
        When every gene is zero in every sample.

    Notes
    -----
    When every gene has a zero in some sample (a sparse table), the factors are DESeq2's
    poscounts estimate (:func:`poscounts`) instead of median-of-ratios, and ``estimator``
    says so.
    """
    column = columns_of(values.to_numpy(dtype=np.float64), rounded=rounding)
    n = values.shape[1]
    usable = complete_genes(column, n)
    complete = bool(usable.any())
    if complete:
        sf = median_of_ratios_by_column(column, n, usable=usable)
    else:
        sf = poscounts_by_column(column, n)
        for j in range(n):
            usable |= column(j, None) > 0
    rel = sf / np.exp(np.log(sf).mean())
    bound = np.log1p(tolerance)
    # A tiny slack keeps a factor exactly on the band's edge inside it.
    within = np.abs(np.log(rel)) <= bound + 1e-12
    table = pd.DataFrame(
        {"size_factor": sf, "relative_size_factor": rel, "within_tolerance": within},
        index=pd.Index(values.columns, name="sample"),
    )
    return SizeFactorCheck(
        table=table,
        tolerance=tolerance,
        genes_used=int(usable.sum()),
        estimator="ratio" if complete else "poscounts",
    )
