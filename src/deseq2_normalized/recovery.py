"""Recover raw integer counts and size factors from a normalized table.

DESeq2's normalized counts are ``raw / s`` with one size factor ``s`` per sample, so every
value of a sample is a whole multiple of ``1/s``. From the values alone, ``s`` and every raw
count can be found, up to what the written precision allows:

1. The written precision of each sample (decimals or significant digits) is read from the
   values, which the reader parses exactly as written; it gives each value an error bound.
2. The unit ``1/s`` divides every difference between two values, so the smallest resolved
   difference is a whole number ``k`` of units. Each ``k`` gives the smallest value's count
   ``r`` (no cap on ``r``: tables of well-expressed genes have smallest counts in the
   thousands), and the candidates are tried from the coarsest unit on. Every value whose
   count is then the only integer consistent with the bounds narrows ``s`` further, until
   the interval for ``s`` stops shrinking. A value with no consistent integer refutes ``r``.
3. The coarsest unit that fits gives counts with no common factor: any other reading of
   the same values multiplies every count by one whole number. A sample is *exact* when
   every count is the only integer consistent with its value; *bounded* when a few counts
   are not determined by the written digits but each is known within a small relative
   uncertainty (its midpoint is used); *approximate* when some are known only more loosely;
   otherwise *not recoverable*, with the reason.
4. Self-consistency: DESeq2's median-of-ratios size factors re-estimated on the recovered
   counts must fall inside every sample's interval for ``s`` (a DESeq2-normalized table);
   for CPM the column sums, for upper-quartile scaling the upper quartiles. When one of
   them fits, it gives the original scales exactly.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from deseq2_normalized.sizefactors import Column, median_of_ratios_by_column

log = logging.getLogger(__name__)

#: Candidate readings of the smallest value tried per sample (coarsest unit first).
MAX_CANDIDATES = 2_000
#: Whole numbers of units the smallest resolved difference between two values may span.
MAX_UNITS_IN_SMALLEST_STEP = 64
#: A unit counts as found only when random values would fit it with probability below 10**-this.
MIN_EVIDENCE = 20.0
#: Default bound on the relative uncertainty of a count the written digits leave ambiguous:
#: a sample whose every ambiguous count is known this well is recovered (verdict ``bounded``).
MAX_RELATIVE_UNCERTAINTY = 1e-4
#: A sample with more ambiguous cells than this, some beyond the relative bound, is not recoverable.
MAX_AMBIGUOUS_FRACTION = 0.01
_EPS = np.finfo(np.float64).eps


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
        """Largest difference between each written value and the value before writing.

        The writing's rounding (half a step of the last written digit) plus the floating-point
        error of the division that made the value and of parsing it (a few units in the last place).
        """
        floating = 4 * _EPS * np.abs(values)
        if self.decimals == 0:
            return floating  # whole numbers only: written exactly
        # Rounding errors lie strictly inside half a step; a scale at which some value sits
        # exactly on a half step (a lattice coincidence, not a recovery) is thereby refuted.
        half = 0.5 * (1 - 1e-9)
        written = np.zeros_like(floating)
        if self.decimals is not None:
            written = np.maximum(written, half * 10.0 ** (-self.decimals))
        if self.significant is not None:
            with np.errstate(divide="ignore"):
                exponent = np.floor(np.log10(np.abs(values), where=values > 0, out=np.zeros_like(values)))
            written = np.maximum(written, half * 10.0 ** (exponent - self.significant + 1))
        # Both errors add up: at 15 significant digits the float error is a few percent of the step.
        return written + floating


#: Values of a column read for its precision: a larger column is read at even steps.
_PRECISION_SAMPLE = 20_000
#: The decimals recorded for a value that 22 decimals do not write exactly: full precision.
_FULL = 99


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
    return _precision_of(v)


def _precision_of(v: np.ndarray) -> Precision:
    """The largest decimals and significant digits of positive non-whole values ``v``."""
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


#: Verdicts of a sample whose recovered counts DESeq2 may use.
USABLE_VERDICTS = ("exact", "bounded")


@dataclass(frozen=True)
class SampleRecovery:
    """Recovery of one sample.

    Attributes
    ----------
    sample
        Sample name.
    verdict
        ``"exact"`` (every count determined), ``"bounded"`` (a few counts not determined by
        the written digits, each known within ``max_relative_uncertainty``; midpoints used),
        ``"approximate"`` (some counts known more loosely) or ``"not_recoverable"``.
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
    max_relative_uncertainty
        Largest distance from an ambiguous count's recovered value (the midpoint of its
        consistent counts) to any consistent count, relative to the recovered value (0 when
        every count is determined; NaN when not recoverable).
    basis
        What the counts rest on besides the values: the counts share no common factor.
    unit_known
        The sample's unit (its scale) fits every value and is the only one that does, whatever
        the written digits leave open of its counts: False without a unit, or when the counts
        found share a common factor.
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
    max_relative_uncertainty: float = float("nan")
    basis: str = ""
    unit_known: bool = False

    @property
    def usable(self) -> bool:
        """Whether DESeq2 may run on this sample's recovered counts."""
        return self.verdict in USABLE_VERDICTS


@dataclass(frozen=True)
class RecoveryResult:
    """Recovered counts and scales of a whole table.

    Attributes
    ----------
    values
        The table the counts were recovered from (genes x samples, as written).
    scales
        Per-sample scale: the original size factor when the recovery is exact.
    samples
        Per-sample verdicts.
    scaling
        What reproduces the solved scales: ``"DESeq2 median-of-ratios"``, ``"CPM"``,
        ``"upper quartile"`` or ``"unknown per-sample scaling"``.
    notes
        Plain-language remarks on the scaling.
    max_relative_uncertainty
        The bound a ``bounded`` sample's ambiguous counts had to meet.
    """

    values: pd.DataFrame
    scales: pd.Series
    samples: tuple[SampleRecovery, ...]
    scaling: str
    notes: tuple[str, ...] = field(default=())
    max_relative_uncertainty: float = MAX_RELATIVE_UNCERTAINTY
    counts_of: tuple[_CountsOf, ...] = field(default=(), repr=False)

    @functools.cached_property
    def counts(self) -> pd.DataFrame:
        """int64 genes x samples recovered counts (the midpoint of the consistent counts where ambiguous).

        Made when first asked for, from :attr:`values` and each sample's solution: ``check``
        never holds the whole matrix beside the values.
        """
        arr = self.values.to_numpy(dtype=np.float64)
        counts = np.empty(arr.shape, dtype=np.int64, order="F")
        for j, rule in enumerate(self.counts_of):
            counts[:, j] = rule.column(arr[:, j])
        return pd.DataFrame(counts, index=self.values.index, columns=self.values.columns, copy=False)

    @property
    def whole_number_samples(self) -> tuple[str, ...]:
        """Samples written as whole numbers (scale 1) beside samples that are not: raw and normalized mixed.

        Empty when no sample, or every sample, has scale 1, and when a known normalization
        (DESeq2's, CPM, upper quartile) explains the scales.
        """
        if self.scaling != "unknown per-sample scaling":
            return ()
        whole = tuple(str(name) for name, scale in self.scales.items() if scale == 1.0)
        return whole if len(whole) < len(self.scales) else ()

    @property
    def approximate(self) -> bool:
        """Not every sample is exact or bounded, but every sample's unit is known.

        The written digits leave more counts open than ``bounded`` allows; each open count is
        the midpoint of its consistent counts. DESeq2 on these counts, with the scales found,
        approximates the original analysis far more closely than the rounding workaround.
        """
        return not self.usable and all(s.unit_known for s in self.samples)

    @property
    def all_exact(self) -> bool:
        """True when every sample was recovered exactly."""
        return all(s.verdict == "exact" for s in self.samples)

    @property
    def usable(self) -> bool:
        """True when every sample is exact or bounded: DESeq2 may run on the recovered counts."""
        return all(s.usable for s in self.samples)

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
        if self.usable:
            head = (
                f"every sample recovered ({self.scaling}); counts not fixed by the written digits are known "
                f"within a relative {max(s.max_relative_uncertainty for s in self.samples):.2g} "
                f"(bound {self.max_relative_uncertainty:g}): "
            )
            return head + "; ".join(worst[:3]) + (f"; and {len(worst) - 3} more" if len(worst) > 3 else "")
        if self.approximate:
            return (
                f"{self.open_counts()}: "
                + "; ".join(worst[:5])
                + (f"; and {len(worst) - 5} more" if len(worst) > 5 else "")
            )
        return "; ".join(worst[:5]) + (f"; and {len(worst) - 5} more" if len(worst) > 5 else "")

    def open_counts(self) -> str:
        """How much of the counts the written digits leave open, in words (for an approximate recovery)."""
        shares = [100 * s.ambiguous_fraction for s in self.samples]
        return (
            f"every sample's unit found ({self.scaling}), but the written digits leave {min(shares):.1f}% to "
            f"{max(shares):.1f}% of the counts open"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record for ``diagnostics.json``."""

        def number(x: float) -> float | None:
            return None if np.isnan(x) else x

        return {
            "all_exact": self.all_exact,
            "usable": self.usable,
            "approximate": self.approximate,
            "scaling": self.scaling,
            "notes": list(self.notes),
            "max_relative_uncertainty_bound": self.max_relative_uncertainty,
            "samples": {
                s.sample: {
                    "verdict": s.verdict,
                    "scale": number(s.scale),
                    "scale_interval": [s.scale_low, s.scale_high] if np.isfinite(s.scale_low) else None,
                    "smallest_count": s.smallest_count,
                    "ambiguous_fraction": s.ambiguous_fraction,
                    "max_relative_uncertainty": number(s.max_relative_uncertainty),
                    "precision": s.precision,
                    "basis": s.basis,
                    "reason": s.reason,
                }
                for s in self.samples
            },
        }


#: The smallest distinct values of a sample that give its unit candidates.
_CANDIDATE_VALUES = 4096


def _smallest_count_candidates(u: np.ndarray, b: np.ndarray) -> list[int]:
    """Counts the smallest value may stand for, coarsest unit first.

    Every difference between two values is a whole number of units, up to the two values'
    bounds. The smallest resolved difference among the smallest values is ``k`` units for
    some ``k >= 1``, so the smallest value is ``r = k * u[0] / step`` counts within the bounds.
    """
    head = min(u.size, _CANDIDATE_VALUES)
    steps = np.diff(u[:head])
    errors = b[: head - 1] + b[1:head]
    resolved = steps > 2 * errors
    if not resolved.any():
        return _prefilter(np.arange(1.0, MAX_UNITS_IN_SMALLEST_STEP + 1), u, b)
    i = int(np.argmin(np.where(resolved, steps, np.inf)))
    step, error = float(steps[i]), float(errors[i])
    units = np.arange(1.0, MAX_UNITS_IN_SMALLEST_STEP + 1)
    firsts = np.ceil(units * (u[0] - b[0]) / (step + error) * (1 - 4 * _EPS)).tolist()
    lasts = np.floor(units * (u[0] + b[0]) / (step - error) * (1 + 4 * _EPS)).tolist()
    found: set[int] = set()
    for first, last in zip(firsts, lasts, strict=True):
        # Only the MAX_CANDIDATES smallest counts are kept: no more of one range can be among them
        # (a step resolved by a hair gives ranges of billions, which would not fit in memory).
        low = max(int(first), 1)
        found.update(range(low, min(int(last), low + MAX_CANDIDATES - 1) + 1))
        if len(found) >= MAX_CANDIDATES:
            break
    return _prefilter(np.array(sorted(found)[:MAX_CANDIDATES], dtype=np.float64), u, b)


def _prefilter(candidates: np.ndarray, u: np.ndarray, b: np.ndarray, values: int = 32) -> list[int]:
    """Drop candidates for which one of the smallest values has no consistent count (all at once).

    A necessary condition of :func:`_solve`, checked for every candidate in one array
    operation before the slower narrowing: tables with no unit refute nearly all here.
    """
    if candidates.size == 0 or u[0] <= b[0]:
        return [int(r) for r in candidates]
    low = candidates[:, None] / (u[0] + b[0])
    high = candidates[:, None] / (u[0] - b[0])
    head = slice(1, min(u.size, values + 1))
    first = np.ceil((u[head] - b[head]) * low * (1 - 4 * _EPS))
    last = np.floor((u[head] + b[head]) * high * (1 + 4 * _EPS))
    keep = (last >= first).all(axis=1)
    return [int(r) for r in candidates[keep]]


class _Distinct:
    """The distinct values of a column, sorted as by ``np.unique``, found by hashing rather than sorting every value.

    A normalized column holds few distinct values (one per raw count): only those are sorted.
    Which distinct value each cell holds (``np.unique``'s inverse) is worked out when asked for.
    """

    def __init__(self, values: np.ndarray) -> None:
        self._codes, distinct = pd.factorize(values, sort=False)
        self._distinct = np.asarray(distinct)  # in order of first appearance
        self._sorted: np.ndarray | None = None
        self._inverse: np.ndarray | None = None

    @property
    def size(self) -> int:
        """How many distinct values there are."""
        return int(self._distinct.size)

    @property
    def values(self) -> np.ndarray:
        """The distinct values, sorted."""
        if self._sorted is None:
            self._sorted = np.sort(self._distinct)
        return self._sorted

    def smallest(self, n: int) -> np.ndarray:
        """The ``n`` smallest distinct values, sorted (``values[:n]``, without sorting them all)."""
        if self._sorted is not None or self._distinct.size <= n:
            return self.values[:n]
        return np.sort(np.partition(self._distinct, n - 1)[:n])

    @property
    def inverse(self) -> np.ndarray:
        """For each value, in order, its index in :attr:`values`."""
        if self._inverse is None:
            order = np.argsort(self._distinct)  # the values are distinct: any sort orders them alike
            rank = np.empty(order.size, dtype=np.intp)
            rank[order] = np.arange(order.size, dtype=np.intp)
            self._inverse = rank[self._codes]
        return self._inverse

    def precision(self) -> Precision:
        """:func:`written_precision` of the (positive) values, each distinct value read once.

        The values are sampled in row order as :func:`written_precision` samples them; only the
        largest decimals and significant digits count, so one reading of each distinct value will do.
        """
        distinct = self._distinct
        fraction = distinct != np.rint(distinct)
        rows = self._codes[fraction[self._codes]]  # the values that are not whole numbers, in row order
        if rows.size == 0:
            return Precision(decimals=0, significant=None)
        if rows.size > _PRECISION_SAMPLE:
            rows = rows[:: rows.size // _PRECISION_SAMPLE + 1]
        seen = np.zeros(distinct.size, dtype=bool)
        seen[rows] = True
        return _precision_of(distinct[seen])


@dataclass(frozen=True)
class _CountsOf:
    """How one sample's recovered counts follow from its values.

    Where every count is ``rint(value * scale)`` the scale says it all, and the counts are made
    only when asked for (zeros for a sample not recovered); where ambiguous counts were given
    their midpoints, they are held.
    """

    scale: float
    held: np.ndarray | None = None

    def column(self, values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The sample's int64 counts, from its values (those of the genes ``rows`` only, unless None).

        A sample not recovered (no scale) has zeros.
        """
        if self.held is not None:
            return self.held if rows is None else self.held[rows]
        picked = values if rows is None else values[rows]
        if np.isnan(self.scale):
            return np.zeros(picked.shape, np.int64)
        return _scaled_counts(picked, self.scale)


def _scaled_counts(values: np.ndarray, scale: float) -> np.ndarray:
    """``rint(value * scale)`` as int64 for the positive values, 0 for the others."""
    scaled = values * scale
    scaled[~(values > 0)] = 0.0
    return np.rint(scaled, out=scaled).astype(np.int64)


def _not_recoverable(name: str, precision: Precision, reason: str) -> tuple[SampleRecovery, _CountsOf]:
    record = SampleRecovery(name, "not_recoverable", np.nan, np.nan, np.nan, 0, 1.0, precision.describe(), reason)
    return record, _CountsOf(np.nan)


def _recover_column(
    name: str, values: np.ndarray, bounds: np.ndarray | None, max_relative_uncertainty: float
) -> tuple[SampleRecovery, _CountsOf]:
    nonzero = values > 0
    if not nonzero.any():
        return _not_recoverable(name, written_precision(values), "every value is zero")
    positive = np.compress(nonzero, values)
    distinct = _Distinct(positive)
    precision = distinct.precision()
    if bounds is None:
        # The smallest values give the candidates and refute most wrong ones: all values are
        # sorted only for a candidate they leave standing (a value's bound depends on it alone).
        u = distinct.smallest(_CANDIDATE_VALUES)
        b = precision.bounds(u)
    else:
        u = distinct.values
        b = np.zeros(u.shape)
        np.maximum.at(b, distinct.inverse, np.compress(nonzero, bounds))
    solution = None
    head = min(u.size, 256)
    candidates = _smallest_count_candidates(u, b)
    for smallest in candidates:
        # The smallest values refute most wrong guesses quickly; then all values decide.
        if _solve(u[:head], b[:head], smallest) is None:
            continue
        if u.size < distinct.size:  # the smallest values only so far
            u = distinct.values
            b = precision.bounds(u)
        solution = _solve(u, b, smallest)
        if solution is not None:
            break
    if solution is None:
        reason = (
            f"no scale makes every value a whole number of counts within the written precision "
            f"({precision.describe()}; {len(candidates)} readings of the smallest value tried)"
        )
        return _not_recoverable(name, precision, reason)
    scale = 0.5 * (solution.low + solution.high)
    # Values written with d decimals are all whole multiples of 10**-d, and a sparse set of values
    # fits units just coarser than that by chance: demand that chance be negligible.
    chance = float(np.sum(np.log10(np.clip(2 * b * scale, 1e-300, 1.0))))
    if chance > -MIN_EVIDENCE:
        reason = (
            f"values written at {precision.describe()} fit the unit 1/{scale:.6g} by chance with probability "
            f"10^{chance:.1f}: the digits hold no evidence of whole counts"
        )
        return _not_recoverable(name, precision, reason)
    if not (np.isfinite(scale) and values.max() * scale < 2.0**62):
        return _not_recoverable(name, precision, f"the scale {scale:.4g} gives counts beyond 2^62")
    # Each unique value's interval of consistent counts; its midpoint is the recovered count.
    first = np.maximum(np.ceil((u - b) * solution.low * (1 - 4 * _EPS)), 1)
    last = np.maximum(np.floor((u + b) * solution.high * (1 + 4 * _EPS)), first)
    unique_counts = np.where(solution.ambiguous, np.rint(0.5 * (first + last)), np.rint(u * scale))
    if solution.ambiguous.any():
        held = np.zeros(values.shape, np.int64)
        held[nonzero] = unique_counts[distinct.inverse].astype(np.int64)
        counts = _CountsOf(scale, held)
        ambiguous = float(solution.ambiguous[distinct.inverse].mean())
    else:
        # Every count is rint(value * scale), as for its distinct value: made when asked for.
        counts = _CountsOf(scale)
        ambiguous = 0.0
    # The largest distance from the (rounded) midpoint to a consistent count bounds the error.
    spread = np.maximum(unique_counts - first, last - unique_counts)
    relative = np.where(solution.ambiguous, spread / np.maximum(unique_counts, 1), 0.0)
    max_relative = float(relative.max())
    basis = (
        f"the recovered counts share no common factor (smallest count {solution.smallest_count}); counts that are "
        "all multiples of one whole number would give the same values"
    )
    if ambiguous > 0 and max_relative <= max_relative_uncertainty:
        # Significant digits leave the largest counts open, each by a small relative amount.
        verdict = "bounded"
        reason = (
            f"{100 * ambiguous:.3f}% of the counts are not fixed by values written at {precision.describe()}; "
            f"each is known within a relative {max_relative:.2g} (bound {max_relative_uncertainty:g}), "
            "the midpoint is used"
        )
    elif ambiguous > MAX_AMBIGUOUS_FRACTION:
        verdict = "not_recoverable"
        step = 2 * float(np.median(b)) * scale
        reason = (
            f"{100 * ambiguous:.1f}% of the counts are not determined by values written at "
            f"{precision.describe()} (at scale {scale:.4g} a value step is {step:.2g} counts)"
        )
    elif ambiguous > 0:
        verdict = "approximate"
        reason = (
            f"{100 * ambiguous:.3f}% of the counts are ambiguous at {precision.describe()}, some only within a "
            f"relative {max_relative:.2g} (bound {max_relative_uncertainty:g})"
        )
    else:
        verdict, reason = "exact", ""
    unit_known = True
    if verdict != "not_recoverable" and int(np.gcd.reduce(unique_counts.astype(np.int64))) != 1:
        # The coarsest unit was tried first, so this only happens through midpoints of ambiguous counts.
        verdict, reason = "approximate", "the recovered counts share a common factor: the unit is not determined"
        unit_known = False
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
        max_relative if verdict != "not_recoverable" else float("nan"),
        basis if verdict != "not_recoverable" else "",
        unit_known,
    )
    return record, counts


def _explained_scales(records: list[SampleRecovery], column: Column, n: int) -> tuple[str, np.ndarray | None]:
    """Which known normalization gives back every solved scale, and its exact values.

    ``column`` gives the recovered counts a sample at a time; each scaling is tried only when
    the ones before it did not fit, as the first fits a DESeq2 table.
    """
    ok = np.array([r.verdict != "not_recoverable" or r.unit_known for r in records])
    if not ok.all():
        return "not recoverable", None
    low = np.array([r.scale_low for r in records])
    high = np.array([r.scale_high for r in records])

    def sums() -> np.ndarray:
        return np.array([column(j, None).astype(np.float64).sum() for j in range(n)]) / 1e6

    def upper_quartiles() -> np.ndarray:
        quartiles = np.empty(n)
        for j in range(n):
            counts = column(j, None).astype(np.float64)
            quartiles[j] = np.percentile(counts[counts > 0], 75)
        return quartiles

    candidates: list[tuple[str, Callable[[], np.ndarray]]] = [
        ("DESeq2 median-of-ratios", lambda: median_of_ratios_by_column(column, n)),  # the counts as they are
        ("CPM", sums),
        ("upper quartile", upper_quartiles),
    ]
    slack = 1e-9
    for name, func in candidates:
        try:
            sf = np.asarray(func(), dtype=np.float64)
        except (ValueError, IndexError):
            continue
        if np.all((sf >= low * (1 - slack)) & (sf <= high * (1 + slack))):
            return name, sf
    return "unknown per-sample scaling", None


def _recovery_threads() -> int:
    """The cores this process may use (its CPU affinity, as a Slurm or container job limits it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def recover_counts(
    values: pd.DataFrame,
    bounds: pd.DataFrame | None = None,
    *,
    max_relative_uncertainty: float = MAX_RELATIVE_UNCERTAINTY,
) -> RecoveryResult:
    """Recover raw counts and size factors from a per-sample scaled table.

    Parameters
    ----------
    values
        Genes x samples non-negative values, parsed exactly as written.
    bounds
        Optional error bound per cell (default: derived from each sample's written precision).
    max_relative_uncertainty
        A sample whose counts are not all fixed by the written digits is still recovered
        (verdict ``bounded``, midpoints used) when every ambiguous count is known within
        this relative half-width.

    Returns
    -------
    RecoveryResult
        Counts, scales and a verdict per sample.
    """
    arr = values.to_numpy(dtype=np.float64)
    bound_arr = None if bounds is None else bounds.to_numpy(dtype=np.float64)
    counts_of: list[_CountsOf] = [_CountsOf(np.nan)] * arr.shape[1]

    def solve(j: int) -> SampleRecovery:
        b = None if bound_arr is None else bound_arr[:, j]
        record, counts_of[j] = _recover_column(str(values.columns[j]), arr[:, j], b, max_relative_uncertainty)
        return record

    # Samples are solved independently, and numpy's sorts and array operations release the GIL.
    workers = min(_recovery_threads(), max(1, arr.shape[1] // 8))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            records = list(pool.map(solve, range(arr.shape[1])))
    else:
        records = [solve(j) for j in range(arr.shape[1])]
    scaling, exact_scales = _explained_scales(
        records, lambda j, rows: counts_of[j].column(arr[:, j], rows), arr.shape[1]
    )
    notes: list[str] = []
    scales = np.array([r.scale for r in records])
    if exact_scales is not None:
        scales = exact_scales
        notes.append(f"{scaling} of the recovered counts reproduces every solved scale")
    elif scaling == "unknown per-sample scaling" and not all(r.usable for r in records):
        notes.append(
            "with counts the written digits leave open, no normalization of the recovered counts (DESeq2 "
            "median-of-ratios, CPM, upper quartile) can be confirmed to the solved scales' precision; the scales "
            "are known far more precisely than the counts"
        )
    elif scaling == "unknown per-sample scaling":
        notes.append(
            "no known normalization (DESeq2 median-of-ratios, CPM, upper quartile) of the recovered counts "
            "reproduces the solved scales: DESeq2 on another gene or sample set (a filtered table, a subset of "
            "samples), DESeq2 with controlGenes or poscounts, or TMM would explain this"
        )
        whole = [str(values.columns[j]) for j, r in enumerate(records) if r.scale == 1.0]
        if 0 < len(whole) < len(records):
            notes.append(
                f"{_listed(whole)} {'holds' if len(whole) == 1 else 'hold'} whole numbers (scale 1) and the other "
                "samples do not: raw samples mixed with normalized ones? DESeq2 then estimates the size factors on "
                "the recovered counts"
            )
    return RecoveryResult(
        values,
        pd.Series(scales, index=values.columns, name="scale"),
        tuple(records),
        scaling,
        tuple(notes),
        max_relative_uncertainty,
        tuple(counts_of),
    )


#: Where the size factors DESeq2 gets come from (:attr:`SizeFactorChoice.source`).
SizeFactorSource = Literal["estimated", "recovered", "fixed at 1"]


@dataclass(frozen=True)
class SizeFactorChoice:
    """The size factors DESeq2 gets for recovered counts, and why.

    Attributes
    ----------
    source
        ``"estimated"`` (DESeq2 estimates them on the counts it gets), ``"recovered"`` (the
        table's own scales, passed to DESeq2 as they are) or ``"fixed at 1"`` (the rounding
        workaround).
    why
        Plain words for stderr, diagnostics and the report.
    values
        The size factors to set, or ``None`` when DESeq2 estimates them.
    warning
        The table's own scales were set aside because they do not put the samples on one
        scale: said as a warning, not only as information.
    """

    source: SizeFactorSource
    why: str
    values: np.ndarray | None
    warning: bool = False


#: Recovered scales whose geometric mean lies within this factor of 1 are on DESeq2's scale.
_DESEQ2_CENTRE = 2.0


def choose_size_factors(recovery: RecoveryResult, table_check_passed: bool = True) -> SizeFactorChoice:
    """Decide which size factors DESeq2 gets for the recovered counts.

    DESeq2 expects size factors on its own scale, centred on 1. A table DESeq2 normalized
    gives back its original size factors, the original analysis; a table scaled per million
    (CPM, TMM-CPM) or by upper quartiles does not, and DESeq2's own estimate on the
    recovered raw counts is the analysis a DESeq2 user would run on them.

    Scales that no known normalization explains are the original size factors only when they
    put the samples on one scale: when the size factors estimated on the table's own values are
    close to 1 (``table_check_passed``), as for a DESeq2 table filtered to expressed genes or cut
    to a subset of samples. A table normalized in separate parts (per batch), or with raw and
    normalized samples side by side, fails that check; its scales would leave the samples on
    different scales, so DESeq2 estimates its size factors on the recovered raw counts instead.

    Parameters
    ----------
    recovery
        A usable recovery.
    table_check_passed
        Whether the size-factor check on the table's values passed.

    Returns
    -------
    SizeFactorChoice
        What DESeq2 gets, with the reason in plain words.
    """
    scales = recovery.scales.to_numpy(dtype=np.float64)
    whole = recovery.whole_number_samples
    if whole:
        return SizeFactorChoice(
            "estimated",
            f"{_listed(whole)} {'holds' if len(whole) == 1 else 'hold'} whole numbers (scale 1) and the other samples "
            "do not: raw and normalized samples mixed in one table, whose scales do not put the samples on one "
            "scale. DESeq2 estimates its size factors on the recovered raw counts of every sample, the standard "
            "analysis of those counts",
            None,
            warning=True,
        )
    if recovery.scaling == "DESeq2 median-of-ratios":
        return SizeFactorChoice(
            "estimated",
            "the table is DESeq2 median-of-ratios normalized: DESeq2's estimate on the recovered counts equals "
            "the original size factors, so this is the original analysis",
            None,
        )
    if recovery.scaling in ("CPM", "upper quartile"):
        return SizeFactorChoice(
            "estimated",
            f"the table is {recovery.scaling}-scaled, not DESeq2's scale: DESeq2 estimates its size factors on "
            "the recovered raw counts, as a DESeq2 user would",
            None,
        )
    centre = float(np.exp(np.mean(np.log(scales))))
    if 1 / _DESEQ2_CENTRE <= centre <= _DESEQ2_CENTRE and not table_check_passed:
        return SizeFactorChoice(
            "estimated",
            f"the table's scales (geometric mean {centre:.3g}) are not DESeq2's estimate on these genes and samples, "
            "and they do not put the samples on one scale: size factors estimated on the table's own values are not "
            "close to 1 (the size-factor check failed), as when samples were normalized in separate parts (per "
            "batch) or tables were pasted together. DESeq2 estimates its size factors on every sample's recovered "
            "raw counts, the standard analysis of those counts. (A table normalized on control genes or spike-ins "
            "fails the check too: 'deseq2-normalized recover' writes its raw counts for a DESeq2 run with "
            "controlGenes.)",
            None,
            warning=True,
        )
    if 1 / _DESEQ2_CENTRE <= centre <= _DESEQ2_CENTRE and recovery.approximate:
        return SizeFactorChoice(
            "recovered",
            f"the written digits leave some counts open, so no normalization of the recovered counts can be "
            f"confirmed; the solved scales are centred on 1 (geometric mean {centre:.3g}) and put the samples on one "
            "scale (the size-factor check passed): they are the size factors, known far more precisely than the "
            "open counts",
            scales,
        )
    if 1 / _DESEQ2_CENTRE <= centre <= _DESEQ2_CENTRE:
        return SizeFactorChoice(
            "recovered",
            f"the table's scales are centred on 1 (geometric mean {centre:.3g}) as DESeq2's size factors are, "
            "but are not DESeq2's estimate on these genes and samples: a DESeq2 run on a larger gene or sample "
            "set, or with controlGenes or poscounts. The recovered scales are the original size factors, "
            "so this is the original analysis",
            scales,
        )
    return SizeFactorChoice(
        "estimated",
        f"the table's scales (geometric mean {centre:.3g}) are not on DESeq2's scale (centred on 1): an unknown "
        "per-sample scaling such as TMM-CPM. DESeq2 estimates its size factors on the recovered raw counts",
        None,
    )


def _listed(names: Sequence[str], shown: int = 5) -> str:
    """Sample names for a sentence: ``samples 'a', 'b'`` (the first few of many)."""
    head = ", ".join(f"'{n}'" for n in names[:shown]) + (", ..." if len(names) > shown else "")
    return f"sample{'s' if len(names) > 1 else ''} {head}"
