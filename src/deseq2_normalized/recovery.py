"""Recover raw integer counts and size factors from a normalized table.

DESeq2's normalized counts are ``raw / s`` with one size factor ``s`` per sample, so every
value of a sample is a whole multiple of ``1/s``. From the values alone, ``s`` and every raw
count can be found, up to what the written precision allows:

1. The written precision of each sample (decimals or significant digits) is read from the
   values, which the reader parses exactly as written; it gives each value an error bound.
2. The smallest value is taken to be ``r`` counts (``r = 1, 2, ...``), which bounds ``s``.
   Every value whose count is then the only integer consistent with the bounds narrows
   ``s`` further, until the interval for ``s`` stops shrinking. A value with no consistent
   integer refutes that ``r``.
3. A sample is *exact* when every count is the only integer consistent with its value and
   its bound and the smallest count is 1 (otherwise all counts could be a common multiple
   of the ones found); *approximate* when a few counts are ambiguous; otherwise *not
   recoverable*, with the reason.
4. Self-consistency: DESeq2's median-of-ratios size factors re-estimated on the recovered
   counts must fall inside every sample's interval for ``s`` (a DESeq2-normalized table);
   for CPM the column sums, for upper-quartile scaling the upper quartiles. When one of
   them fits, it gives the original scales exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from deseq2_normalized.sizefactors import median_of_ratios

log = logging.getLogger(__name__)

#: Largest count tried for the smallest value of a sample (filtered tables have larger minima).
MAX_SMALLEST_COUNT = 64
#: A sample with more ambiguous cells than this is not recoverable (precision too coarse).
MAX_AMBIGUOUS_FRACTION = 0.01
_EPS = np.finfo(np.float64).eps
_PRECISION_SAMPLE = 20_000
_FULL = 99


@dataclass(frozen=True)
class Precision:
    """How the values of one sample were written.

    Attributes
    ----------
    decimals
        Largest number of decimals seen (``None``: a value needs more digits than a
        double holds, i.e. it was written at full precision).
    significant
        Largest number of significant digits seen (``None``: full double precision).
    """

    decimals: int | None
    significant: int | None

    def describe(self) -> str:
        """Plain words, e.g. ``"2 decimals"`` or ``"15 significant digits"``."""
        if self.decimals is not None and (self.decimals <= 3 or (self.significant is None and self.decimals <= 15)):
            return f"{self.decimals} decimals"
        if self.significant is not None:
            return f"{self.significant} significant digits"
        return "full double precision"

    def bounds(self, values: np.ndarray) -> np.ndarray:
        """Largest difference between each written value and the value before writing."""
        out = 4 * _EPS * np.abs(values)
        if self.decimals == 0:
            return out  # whole numbers only: written exactly
        # Rounding errors lie strictly inside half a step; a scale at which some value sits
        # exactly on a half step (a lattice coincidence, not a recovery) is thereby refuted.
        half = 0.5 * (1 - 1e-9)
        if self.decimals is not None:
            out = np.maximum(out, half * 10.0 ** (-self.decimals))
        if self.significant is not None:
            with np.errstate(divide="ignore"):
                exponent = np.floor(np.log10(np.abs(values), where=values > 0, out=np.zeros_like(values)))
            out = np.maximum(out, half * 10.0 ** (exponent - self.significant + 1))
        return out


def written_precision(values: np.ndarray) -> Precision:
    """Infer the decimals and significant digits a column was written with.

    Parameters
    ----------
    values
        The column's values as parsed exactly from the text.

    Returns
    -------
    Precision
        The largest decimals and significant digits found in (a sample of) the values.
    """
    v = values[(values > 0) & (values != np.rint(values))]
    if v.size == 0:
        return Precision(decimals=0, significant=None)
    if v.size > _PRECISION_SAMPLE:
        v = v[:: v.size // _PRECISION_SAMPLE + 1]
    decimals = np.full(v.shape, _FULL)
    pending = np.ones(v.shape, dtype=bool)
    for d in range(23):  # 10**22 is the largest power of ten a double holds exactly
        scale = 10.0**d
        scaled = v * scale
        hit = pending & (scaled < 2**53) & (np.rint(scaled) / scale == v)
        decimals[hit] = d
        pending &= ~hit
        if not pending.any():
            break
    max_decimals = int(decimals.max())
    known = decimals < _FULL
    significant = (decimals[known] + np.floor(np.log10(v[known])) + 1).astype(int) if known.any() else np.array([17])
    max_significant = int(significant.max())
    return Precision(
        decimals=None if max_decimals == _FULL else max_decimals,
        # 16 or 17 significant digits is the shortest round-trip form of a double: full precision.
        significant=None if max_decimals == _FULL or max_significant >= 16 else max_significant,
    )


@dataclass(frozen=True)
class _Solution:
    low: float
    high: float
    smallest_count: int
    ambiguous: np.ndarray  # per unique value


def _narrow(u: np.ndarray, b: np.ndarray, low: float, high: float) -> tuple[float, float, np.ndarray] | None:
    """Shrink ``[low, high]`` with every value whose count is the only consistent integer.

    Returns the interval and the mask of values with more than one consistent count, or
    ``None`` when some value has no consistent count (the interval is refuted).
    """
    lower_values, upper_values = u - b, u + b
    while True:
        first = np.ceil(lower_values * low * (1 - 4 * _EPS))
        last = np.floor(upper_values * high * (1 + 4 * _EPS))
        if (last < first).any():
            return None
        unique = first == last
        if not unique.any():
            return low, high, ~unique
        counts = first[unique]
        new_low = max(low, float(np.max(counts / upper_values[unique])))
        positive = lower_values[unique] > 0
        new_high = min(high, float(np.min(counts[positive] / lower_values[unique][positive])))
        if new_low > new_high * (1 + 8 * _EPS):
            return None
        if new_low == low and new_high == high:
            return low, high, ~unique
        low, high = new_low, new_high


def _search(
    u: np.ndarray, b: np.ndarray, low: float, high: float, budget: list[int]
) -> list[tuple[float, float, np.ndarray]]:
    """All consistent intervals: when narrowing stalls, branch on the smallest ambiguous value's count."""
    budget[0] -= 1
    narrowed = _narrow(u, b, low, high)
    if narrowed is None:
        return []
    low, high, ambiguous = narrowed
    # A few ambiguous values are the written precision's limit; many mean the scale is still loose.
    if ambiguous.mean() <= MAX_AMBIGUOUS_FRACTION or budget[0] <= 0:
        return [narrowed]
    i = int(np.argmax(ambiguous))
    first = int(np.ceil((u[i] - b[i]) * low))
    last = int(np.floor((u[i] + b[i]) * high))
    if last - first > 16:
        return [narrowed]
    found: list[tuple[float, float, np.ndarray]] = []
    for count in range(max(first, 1), last + 1):
        sub_low = max(low, count / (u[i] + b[i]))
        sub_high = min(high, count / (u[i] - b[i])) if u[i] > b[i] else high
        if sub_low <= sub_high:
            found += _search(u, b, sub_low, sub_high, budget)
        if len(found) > 1:
            break  # two readings of the same values: the scale is ambiguous
    return found


def _solve(u: np.ndarray, b: np.ndarray, smallest_count: int) -> _Solution | None:
    """Find the scale interval assuming the smallest value is ``smallest_count`` counts."""
    if u[0] <= b[0]:
        return None
    low, high = smallest_count / (u[0] + b[0]), smallest_count / (u[0] - b[0])
    found = _search(u, b, low, high, [64])
    if not found:
        return None
    low, high, ambiguous = found[0]
    for other_low, other_high, other_ambiguous in found[1:]:
        # Several scales fit: a count is certain only where every reading agrees.
        differ = np.rint(u * 0.5 * (low + high)) != np.rint(u * 0.5 * (other_low + other_high))
        ambiguous = ambiguous | other_ambiguous | differ
    return _Solution(low, high, smallest_count, ambiguous)


@dataclass(frozen=True)
class SampleRecovery:
    """Recovery of one sample.

    Attributes
    ----------
    sample
        Sample name.
    verdict
        ``"exact"``, ``"approximate"`` or ``"not_recoverable"``.
    scale
        ``raw = value * scale``: the original size factor (NaN when not recoverable).
    scale_low, scale_high
        Interval of scales consistent with every value and its written precision.
    smallest_count
        Recovered count of the smallest non-zero value.
    ambiguous_fraction
        Fraction of non-zero cells whose count is not the only consistent integer.
    precision
        The written precision, in words.
    reason
        Why the verdict is not ``exact`` (empty when it is).
    """

    sample: str
    verdict: str
    scale: float
    scale_low: float
    scale_high: float
    smallest_count: int
    ambiguous_fraction: float
    precision: str
    reason: str = ""


@dataclass(frozen=True)
class RecoveryResult:
    """Recovered counts and scales of a whole table.

    Attributes
    ----------
    counts
        int64 genes x samples recovered counts (rounded ``value * scale`` where ambiguous).
    scales
        Per-sample scale: the original size factor when the recovery is exact.
    samples
        Per-sample verdicts.
    scaling
        What reproduces the solved scales: ``"DESeq2 median-of-ratios"``, ``"CPM"``,
        ``"upper quartile"`` or ``"unknown per-sample scaling"``.
    """

    counts: pd.DataFrame
    scales: pd.Series
    samples: tuple[SampleRecovery, ...]
    scaling: str
    notes: tuple[str, ...] = field(default=())

    @property
    def all_exact(self) -> bool:
        """True when every sample was recovered exactly."""
        return all(s.verdict == "exact" for s in self.samples)

    @property
    def recoverable(self) -> bool:
        """True when no sample is ``not_recoverable``."""
        return all(s.verdict != "not_recoverable" for s in self.samples)

    @property
    def per_sample(self) -> pd.DataFrame:
        """One row per sample with its verdict and scale."""
        return pd.DataFrame([s.__dict__ for s in self.samples]).set_index("sample")

    def summary(self) -> str:
        """One line on the outcome, naming the samples that were not exact."""
        if self.all_exact:
            return f"every sample recovered exactly ({self.scaling})"
        worst = [f"{s.sample}: {s.verdict} ({s.reason})" for s in self.samples if s.verdict != "exact"]
        return "; ".join(worst[:5]) + (f"; and {len(worst) - 5} more" if len(worst) > 5 else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record for ``diagnostics.json``."""
        return {
            "all_exact": self.all_exact,
            "scaling": self.scaling,
            "notes": list(self.notes),
            "samples": {
                s.sample: {
                    "verdict": s.verdict,
                    "scale": None if np.isnan(s.scale) else s.scale,
                    "scale_interval": [s.scale_low, s.scale_high] if np.isfinite(s.scale_low) else None,
                    "smallest_count": s.smallest_count,
                    "ambiguous_fraction": s.ambiguous_fraction,
                    "precision": s.precision,
                    "reason": s.reason,
                }
                for s in self.samples
            },
        }


def _recover_column(name: str, values: np.ndarray, bounds: np.ndarray | None) -> tuple[SampleRecovery, np.ndarray]:
    precision = written_precision(values)
    nonzero = values > 0
    if not nonzero.any():
        return SampleRecovery(
            name, "not_recoverable", np.nan, np.nan, np.nan, 0, 1.0, precision.describe(), "every value is zero"
        ), np.zeros(values.shape, np.int64)
    b_all = precision.bounds(values) if bounds is None else bounds
    u, inverse = np.unique(values[nonzero], return_inverse=True)
    b = np.zeros(u.shape)
    np.maximum.at(b, inverse, b_all[nonzero])
    solution = None
    head = min(u.size, 256)
    for smallest in range(1, MAX_SMALLEST_COUNT + 1):
        # The smallest values refute most wrong guesses quickly; then all values decide.
        if _solve(u[:head], b[:head], smallest) is None:
            continue
        solution = _solve(u, b, smallest)
        if solution is not None:
            break
    fail = np.zeros(values.shape, np.int64)
    if solution is None:
        reason = (
            f"no scale makes every value a whole number of counts within the written precision "
            f"({precision.describe()}), trying smallest counts 1 to {MAX_SMALLEST_COUNT}"
        )
        return SampleRecovery(
            name, "not_recoverable", np.nan, np.nan, np.nan, 0, 1.0, precision.describe(), reason
        ), fail
    scale = 0.5 * (solution.low + solution.high)
    counts = np.zeros(values.shape, np.int64)
    if np.isfinite(scale) and values.max() * scale < 2.0**62:
        counts[nonzero] = np.rint(values[nonzero] * scale).astype(np.int64)
    ambiguous = float(solution.ambiguous[inverse].mean())
    if ambiguous > MAX_AMBIGUOUS_FRACTION:
        verdict = "not_recoverable"
        step = 2 * float(np.median(b)) * scale
        reason = (
            f"{100 * ambiguous:.1f}% of the counts are not determined by values written at "
            f"{precision.describe()} (at scale {scale:.4g} a value step is {step:.2g} counts)"
        )
    elif ambiguous > 0:
        verdict, reason = "approximate", f"{100 * ambiguous:.3f}% of the counts are ambiguous at {precision.describe()}"
    elif solution.smallest_count != 1:
        verdict = "approximate"
        reason = (
            f"the smallest count is {solution.smallest_count}, not 1: the counts are known only up to a "
            "common whole factor (heavily filtered table?)"
        )
    else:
        verdict, reason = "exact", ""
    record = SampleRecovery(
        name,
        verdict,
        scale,
        solution.low,
        solution.high,
        solution.smallest_count,
        ambiguous,
        precision.describe(),
        reason,
    )
    return record, counts


def _explained_scales(records: list[SampleRecovery], counts: np.ndarray) -> tuple[str, np.ndarray | None]:
    """Which known normalization gives back every solved scale, and its exact values."""
    ok = np.array([r.verdict != "not_recoverable" for r in records])
    if not ok.all():
        return "not recoverable", None
    low = np.array([r.scale_low for r in records])
    high = np.array([r.scale_high for r in records])
    candidates: list[tuple[str, Any]] = [
        ("DESeq2 median-of-ratios", lambda c: median_of_ratios(c)),
        ("CPM", lambda c: c.sum(axis=0) / 1e6),
        ("upper quartile", lambda c: np.array([np.percentile(col[col > 0], 75) for col in c.T])),
    ]
    slack = 1e-9
    for name, func in candidates:
        try:
            sf = np.asarray(func(counts.astype(np.float64)), dtype=np.float64)
        except ValueError:
            continue
        if np.all((sf >= low * (1 - slack)) & (sf <= high * (1 + slack))):
            return name, sf
    return "unknown per-sample scaling", None


def recover_counts(values: pd.DataFrame, bounds: pd.DataFrame | None = None) -> RecoveryResult:
    """Recover raw counts and size factors from a per-sample scaled table.

    Parameters
    ----------
    values
        Genes x samples non-negative values, parsed exactly as written.
    bounds
        Optional error bound per cell (default: derived from each sample's written precision).

    Returns
    -------
    RecoveryResult
        Counts, scales and a verdict per sample.
    """
    arr = values.to_numpy(dtype=np.float64)
    counts = np.zeros(arr.shape, dtype=np.int64)
    records = []
    for j, name in enumerate(values.columns):
        b = None if bounds is None else bounds.iloc[:, j].to_numpy(dtype=np.float64)
        record, counts[:, j] = _recover_column(str(name), arr[:, j], b)
        records.append(record)
    scaling, exact_scales = _explained_scales(records, counts)
    notes: list[str] = []
    scales = np.array([r.scale for r in records])
    if exact_scales is not None:
        scales = exact_scales
        notes.append(f"{scaling} of the recovered counts reproduces every solved scale")
    elif scaling == "unknown per-sample scaling":
        notes.append(
            "no known normalization (DESeq2 median-of-ratios, CPM, upper quartile) of the recovered counts "
            "reproduces the solved scales; a DESeq2 run on another gene set, or TMM, would explain this"
        )
    frame = pd.DataFrame(counts, index=values.index, columns=values.columns)
    return RecoveryResult(
        frame, pd.Series(scales, index=values.columns, name="scale"), tuple(records), scaling, tuple(notes)
    )
