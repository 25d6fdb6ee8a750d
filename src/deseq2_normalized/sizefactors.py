"""The size-factor check: whether this table is really DESeq2-normalized.

If a matrix holds ``counts(dds, normalized=TRUE)``, DESeq2's median-of-ratios size factors
estimated on it are all close to 1 (up to one common factor). The estimate here follows
DESeq2's ``estimateSizeFactorsForMatrix`` exactly and is tested against it, so that the
check runs before, and without, R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
    # One sample at a time, so that no temporary is the size of the table: a first pass sums the
    # genes' logs (in sample order, as numpy's mean over samples adds them), a second takes each
    # sample's median ratio. A column of a pandas table is contiguous, so each pass reads memory
    # in order.
    values = np.asarray(counts)
    if usable is None:
        usable = (values > 0).all(axis=1)
    if not usable.any():
        raise ValueError("every gene contains at least one zero, cannot compute log geometric means")
    rows = np.flatnonzero(usable)
    n = values.shape[1]

    def logs(j: int) -> np.ndarray:
        return np.log(values[rows, j].astype(np.float64, copy=False))

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
    values = np.asarray(counts, dtype=np.float64)
    positive = values > 0
    with np.errstate(divide="ignore"):
        logs = np.log(values)
    n = values.shape[1]
    logs_pos = np.where(positive, logs, 0.0)
    log_geo = np.where(positive.any(axis=1), logs_pos.sum(axis=1) / n, -np.inf)
    if not np.isfinite(log_geo).any():
        raise ValueError("every gene contains at least one zero, cannot compute log geometric means")
    finite = np.isfinite(log_geo)
    sf = np.empty(n)
    for j in range(n):
        use = finite & positive[:, j]
        sf[j] = np.exp(np.median(logs[use, j] - log_geo[use]))
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


def check_size_factors(rounded: pd.DataFrame, tolerance: float = 0.1) -> SizeFactorCheck:
    """Estimate size factors on the rounded input and compare them with 1.

    Parameters
    ----------
    rounded
        Genes x samples rounded counts.
    tolerance
        Relative size factors must lie in ``[1 / (1 + tolerance), 1 + tolerance]``.

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
    values = rounded.to_numpy(dtype=np.float64)
    positive = values > 0
    complete_genes: np.ndarray = np.asarray(positive.all(axis=1))
    complete = bool(complete_genes.any())
    sf = median_of_ratios(values, usable=complete_genes) if complete else poscounts(values)
    rel = sf / np.exp(np.log(sf).mean())
    bound = np.log1p(tolerance)
    # A tiny slack keeps a factor exactly on the band's edge inside it.
    within = np.abs(np.log(rel)) <= bound + 1e-12
    table = pd.DataFrame(
        {"size_factor": sf, "relative_size_factor": rel, "within_tolerance": within},
        index=pd.Index(rounded.columns, name="sample"),
    )
    used = complete_genes if complete else positive.any(axis=1)
    return SizeFactorCheck(
        table=table,
        tolerance=tolerance,
        genes_used=int(used.sum()),
        estimator="ratio" if complete else "poscounts",
    )
