"""What kind of table is this? Raw counts, scaled counts, log counts, or none of these.

The classification rests on evidence a person can check: whole numbers, a per-sample unit
that makes every value a whole count (see :mod:`deseq2_normalized.recovery`), a log
transform whose inverse is such a table, or the absence of all of these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from deseq2_normalized.recovery import Precision, RecoveryResult, recover_counts, written_precision
from deseq2_normalized.sizefactors import SizeFactorCheck, check_size_factors

#: Log transforms tried on log-scale tables: name, base, pseudocount.
LOG_TRANSFORMS = (
    ("log2(x+1)", 2.0, 1.0),
    ("ln(x+1)", math.e, 1.0),
    ("log10(x+1)", 10.0, 1.0),
    ("log2(x+0.5)", 2.0, 0.5),
)
#: Largest value a log-scale table of counts plausibly holds (log2 of ~1e9).
_LOG_SCALE_MAX = 32.0


#: What kind of table this is (``Classification.kind``).
Kind = Literal[
    "raw_counts",
    "scaled_counts",
    "estimated_counts",
    "normalized_unrecoverable",
    "depth_normalized",
    "log_counts",
    "not_counts",
    "not_recoverable",
]
#: What ``run --method auto`` does with a table of that kind: recover the raw counts, analyse
#: whole numbers as raw counts, round estimated counts and let DESeq2 estimate size factors,
#: round with size factors 1 (the workaround), or refuse the table.
Action = Literal["recover", "raw", "estimated", "round", "refuse"]

#: A per-sample minimum shared by every sample counts as an added constant (a pseudocount) when at
#: least this share of every sample's cells hold it ...
MIN_PSEUDOCOUNT_SHARE = 0.05
#: ... and, unless recovery confirms it, this many times more cells than the sample's next value.
PSEUDOCOUNT_SPIKE = 3.0
#: Estimated counts: each sample's column sum, relative to the others, lies within this factor of its
#: relative size factor (the samples differ in depth the way their size factors say).
DEPTH_AGREEMENT = 1.5


#: The rounding workaround against the original analysis, as the truth tests measured it: DE set
#: Jaccard index on DESeq2-normalized tables of the pasilla data and of a simulation
#: (tests/test_table_kinds.py::test_workaround_approximates_the_original_analysis: 0.923 to 0.979 seen).
WORKAROUND_JACCARD = (0.92, 0.98)


#: Recovery whose open counts sit at their midpoints (``RecoveryResult.approximate``) against the
#: original analysis, as the truth tests measured it on DESeq2-normalized tables written at 3 and 4
#: significant digits (tests/test_recovery.py::test_approximate_recovery_is_close_to_the_original_analysis).
APPROXIMATE_RECOVERY = (
    "results approximate the original analysis closely (on DESeq2-normalized tables written at 3 and 4 "
    "significant digits the project's truth tests measured log2 fold changes within 0.012 of DESeq2 on the raw "
    "counts and DE set Jaccard 0.99-1.0, where the rounding workaround was off by up to 1.9 in log2 fold change)"
)


def approximation_note(requested: str) -> str:
    """Plain words on what the rounding workaround's results are worth, with the measured agreement."""
    low, high = WORKAROUND_JACCARD
    head = "auto fell back to the rounding workaround" if requested == "auto" else "--method round"
    return (
        f"{head}: results approximate the original analysis (size factors fixed at 1 on a rounded table; on "
        f"DESeq2-normalized tables whose raw counts are known, the project's truth tests measured DE set Jaccard "
        f"{low:.2f}-{high:.2f} against DESeq2 on the raw counts); --rounding-sensitivity measures rounding noise "
        "only, not the bias of fixed size factors"
    )


@dataclass(frozen=True)
class Pseudocount:
    """A constant added to every value of the table (``normalized + 1``).

    Attributes
    ----------
    value
        The constant: every sample's smallest value.
    share
        The smallest share, over the samples, of cells that hold it (the former zeros).
    """

    value: float
    share: float


@dataclass(frozen=True)
class Classification:
    """The kind of table, with the evidence and what to do.

    Attributes
    ----------
    kind
        See :data:`Kind`.
    detail
        E.g. ``"DESeq2 median-of-ratios"``, ``"log2(x+1) of CPM"``, ``"TPM-like"``.
    evidence
        Plain-language observations behind the verdict.
    recommendation
        Which ``--method`` to use, or to go back to the raw counts.
    action
        What ``run --method auto`` does with the table (:data:`Action`).
    recovery
        The recovery attempt on the table (or on its inverse-log, or on it less its
        pseudocount), when one was made.
    size_factors
        The size-factor check on the table (less its pseudocount); None when it cannot be
        run (every gene has a zero) or the table is not counts.
    pseudocount
        The constant removed from every value before everything else, if one was found.
    """

    kind: Kind
    detail: str
    evidence: tuple[str, ...]
    recommendation: str
    action: Action
    recovery: RecoveryResult | None = None
    size_factors: SizeFactorCheck | None = None
    pseudocount: Pseudocount | None = None

    @property
    def recoverable(self) -> bool:
        """Whether raw counts can be recovered from this table as it is (every sample exact or bounded)."""
        return self.kind == "scaled_counts" and self.recovery is not None and self.recovery.usable

    @property
    def offset(self) -> float:
        """The pseudocount removed from every value (0 when none was)."""
        return self.pseudocount.value if self.pseudocount is not None else 0.0

    def explain_failed_check(self) -> str:
        """Plain words on what a failed size-factor check means for a table of this kind."""
        if self.kind == "raw_counts":
            return (
                "The table holds whole numbers with unequal library sizes: it looks like raw counts. "
                "Analyse raw counts with standard DESeq2 (size factors estimated), as --method auto does, "
                "not with the rounding workaround."
            )
        if self.kind == "estimated_counts":
            return (
                "The table holds estimated counts that were never normalized (salmon, kallisto, RSEM, tximport): "
                "--method auto (or --method estimated) rounds them and lets DESeq2 estimate the size factors."
            )
        if self.recoverable:
            return (
                f"The table is scaled per sample ({self.detail}), not DESeq2-normalized on exactly these genes and "
                "samples; its raw counts are recovered, so the check does not matter for --method auto or recover."
            )
        if self.kind == "depth_normalized":
            return f"The table is {self.detail}: gene-length or total-count normalized values are not counts. " + (
                self.recommendation[0].upper() + self.recommendation[1:]
            )
        if self.kind == "scaled_counts":
            return (
                f"The table is scaled per sample ({self.detail}) but its raw counts are only approximately "
                "recoverable at the written precision: rounding with size factors 1 cannot be trusted. "
                "Go back to the raw counts, or to the table written with more digits."
            )
        return (
            "Nothing explains the table: it is not DESeq2-normalized on these genes and samples, not counts scaled "
            "per sample, not estimated counts (its column sums do not differ the way its size factors do) and not "
            "TPM; results with size factors set to 1 cannot be trusted. Go back to the raw counts."
        )

    def text(self) -> str:
        """Several lines of plain words for the terminal."""
        lines = [f"table kind: {self.kind.replace('_', ' ')} ({self.detail})"]
        lines += [f"  - {e}" for e in self.evidence]
        lines.append(f"recommendation: {self.recommendation}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "kind": self.kind,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "recommendation": self.recommendation,
            "action": self.action,
            "recoverable": self.recoverable,
            "pseudocount": self.offset if self.pseudocount is not None else None,
            "recovery": self.recovery.to_dict() if self.recovery is not None else None,
        }


def invert_log(values: pd.DataFrame, base: float, pseudocount: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Undo ``log_base(x + pseudocount)`` and carry the written precision through.

    Parameters
    ----------
    values
        The log-scale table, parsed exactly as written.
    base, pseudocount
        The transform to undo.

    Returns
    -------
    tuple of pandas.DataFrame
        The inverted table (tiny negative round-off set to 0) and each cell's error bound.
    """
    arr = values.to_numpy(dtype=np.float64)
    inverted = np.power(base, arr) - pseudocount
    bounds = np.empty_like(arr)
    for j in range(arr.shape[1]):
        b_log = written_precision(arr[:, j]).bounds(arr[:, j])
        # d/dv base**v = ln(base) * base**v; bound the error at the upper end of the interval.
        bounds[:, j] = math.log(base) * np.power(base, arr[:, j] + b_log) * b_log + 8 * np.finfo(float).eps * (
            np.abs(inverted[:, j]) + pseudocount
        )
    inverted[np.abs(inverted) <= bounds] = 0.0
    return (
        pd.DataFrame(inverted, index=values.index, columns=values.columns, copy=False),
        pd.DataFrame(bounds, index=values.index, columns=values.columns, copy=False),
    )


def rounded_table(values: pd.DataFrame) -> pd.DataFrame:
    """The table rounded to integers (half to even, as R's ``round``), as float64."""
    return pd.DataFrame(
        np.rint(values.to_numpy(dtype=np.float64)), index=values.index, columns=values.columns, copy=False
    )


def size_factor_check(values: pd.DataFrame, tolerance: float) -> SizeFactorCheck | None:
    """The size-factor check on the table rounded to integers (half to even, as R's ``round``).

    Returns None when no gene is positive in every sample, so that no size factor can be estimated.
    """
    try:
        return check_size_factors(values, tolerance, rounding=True)
    except ValueError:
        return None


def find_pseudocount(values: pd.DataFrame) -> Pseudocount | None:
    """A constant added to every value: no zeros, and one smallest value shared by every sample and many cells.

    Parameters
    ----------
    values
        Genes x samples values.

    Returns
    -------
    Pseudocount or None
        The candidate constant, or None when the table shows none. The caller confirms it
        (recovery of the counts once it is removed, or a spike of cells at it).
    """
    arr = values.to_numpy(dtype=np.float64)
    if arr.size == 0 or not (arr > 0).all():
        return None
    smallest = arr.min(axis=0)
    if not (smallest == smallest[0]).all():
        return None
    share = (arr == smallest[0]).mean(axis=0)
    if share.min() < MIN_PSEUDOCOUNT_SHARE:
        return None
    return Pseudocount(float(smallest[0]), float(share.min()))


def _spike(values: pd.DataFrame, constant: float) -> bool:
    """Whether every sample has many more cells at ``constant`` than at any other single value."""
    for column in values.to_numpy(dtype=np.float64).T:
        _, counts = np.unique(column, return_counts=True)
        at = int(np.sum(column == constant))
        others = np.sort(counts)[-2] if counts.size > 1 else 0
        if at < PSEUDOCOUNT_SPIKE * others:
            return False
    return True


def classify_table(values: pd.DataFrame, sf_tolerance: float = 0.1) -> Classification:
    """Say what kind of table ``values`` is, with the evidence, a recommendation and what ``run`` does.

    Parameters
    ----------
    values
        Genes x samples values, parsed exactly as written (may hold negatives).
    sf_tolerance
        Tolerance of the size-factor check.

    Returns
    -------
    Classification
        The verdict.
    """
    arr = values.to_numpy(dtype=np.float64)
    # A validated table is all finite: no copy of its finite values is needed then.
    finite = arr if np.isfinite(arr).all() else arr[np.isfinite(arr)]
    non_integer = non_integer_fraction(arr)
    max_value = float(finite.max()) if finite.size else 0.0
    min_value = float(finite.min()) if finite.size else 0.0
    # log2(x+0.5) and similar transforms give negative values for zero counts: try them first.
    if non_integer > 0 and max_value <= _LOG_SCALE_MAX:
        log_class = _classify_log(values, max_value)
        if log_class is not None and (log_class.kind == "log_counts" or min_value >= 0):
            return log_class
    if min_value < 0:
        share = float(np.mean(finite < 0))
        return Classification(
            "not_counts",
            "values below zero",
            (
                f"{100 * share:.1f}% of the values are negative (smallest {min_value:.4g})",
                "counts, scaled counts and log(x+1) of counts are never negative: this looks like log ratios, "
                "centred or batch-corrected data",
            ),
            "go back to the raw counts (or the DESeq2-normalized counts) and analyse those",
            "refuse",
        )
    pseudocount = find_pseudocount(values)
    if pseudocount is not None:
        found = _with_pseudocount(values, pseudocount, sf_tolerance)
        if found is not None:
            return found
    return _classify_counts(values, None, sf_tolerance, non_integer)


def non_integer_fraction(arr: np.ndarray) -> float:
    """The share of cells of a genes x samples matrix that are not whole numbers (NaN for no cells).

    Counted a column at a time: no rounded copy of the table is made.
    """
    if not arr.size:
        return float("nan")
    different = sum(int(np.count_nonzero(arr[:, j] != np.rint(arr[:, j]))) for j in range(arr.shape[1]))
    return different / arr.size


def _with_pseudocount(values: pd.DataFrame, pseudocount: Pseudocount, sf_tolerance: float) -> Classification | None:
    """Classify the table less its constant, when the counts recovered from it or a spike of cells confirm it."""
    arr = values.to_numpy(dtype=np.float64)
    # The written digits bound the values before the constant was added; subtracting it adds one rounding.
    bounds = np.empty_like(arr)
    for j in range(arr.shape[1]):
        bounds[:, j] = written_precision(arr[:, j]).bounds(arr[:, j]) + 4 * np.finfo(float).eps * arr[:, j]
    shifted = values - pseudocount.value
    shifted = shifted.where(shifted.abs() > bounds, 0.0)
    inner = _classify_counts(
        shifted, pd.DataFrame(bounds, index=values.index, columns=values.columns, copy=False), sf_tolerance
    )
    confirmed = inner.kind == "scaled_counts" and inner.recovery is not None and inner.recovery.recoverable
    if not confirmed and not _spike(values, pseudocount.value):
        return None
    c = f"{pseudocount.value:g}"
    evidence = (
        f"no value is zero, and every sample's smallest value is {c}, held by at least "
        f"{100 * pseudocount.share:.1f}% of its cells: a constant {c} was added to every value (a pseudocount)",
        "recovering whole counts once it is removed confirms it"
        if confirmed
        else f"in every sample far more cells hold {c} than any other value: the former zeros",
        f"the rest is read from the table less {c}:",
        *inner.evidence,
    )
    return replace(
        inner,
        detail=f"{inner.detail}, plus a pseudocount of {c}",
        evidence=evidence,
        recommendation=f"{c} is removed from every value first; then {inner.recommendation}",
        pseudocount=pseudocount,
    )


def _classify_counts(
    values: pd.DataFrame, bounds: pd.DataFrame | None, sf_tolerance: float, non_integer: float | None = None
) -> Classification:
    """Classify a table of non-negative values: raw, scaled, estimated, depth-normalized or unexplained.

    ``non_integer`` is :func:`non_integer_fraction` of ``values`` when the caller has it already.
    """
    arr = values.to_numpy(dtype=np.float64)
    if non_integer is None:
        non_integer = non_integer_fraction(arr)
    sf = size_factor_check(values, sf_tolerance)
    if non_integer == 0:
        totals = arr.sum(axis=0)
        # Whole numbers summing to about a million, not exactly the same total (rarefied counts do): rounded TPM.
        if np.allclose(totals, 1e6, rtol=1e-3) and not (totals == totals[0]).all():
            whole = ("every value is a whole number", "the columns do not sum to one same total")
            return _depth_normalized(totals, whole, None, sf, rounded=True)
        return _whole_numbers(sf)
    recovery = recover_counts(values, bounds)
    evidence = [f"{100 * non_integer:.1f}% of the values are not whole numbers"]
    precisions = sorted({s.precision for s in recovery.samples})
    evidence.append(f"written at {', '.join(precisions)}")
    sums = arr.sum(axis=0)
    if (recovery.recoverable or recovery.approximate) and not _one_unit_for_all(recovery, sf):
        return _scaled(recovery, evidence, sf)
    failed = [x for x in recovery.samples if x.verdict == "not_recoverable"]
    # A unit found whose counts the digits leave open: too few digits, not a table without units.
    short = [x for x in failed if np.isfinite(x.scale)]
    unitless = [x for x in failed if not np.isfinite(x.scale)]
    n = len(recovery.samples)
    if short:
        units = ", ".join(f"{x.sample} x {x.scale:.6g}" for x in short[:3]) + (", ..." if len(short) > 3 else "")
        fractions = [100 * x.ambiguous_fraction for x in short]
        evidence.append(
            f"a per-sample unit fits every value within its written digits in {len(short)} of {n} samples ({units}), "
            f"but those digits leave {min(fractions):.1f}% to {max(fractions):.1f}% of their counts undetermined: "
            "too few digits to recover the raw counts"
        )
    if unitless:
        evidence.append(
            f"no per-sample unit turns the values into whole counts in {len(unitless)} of {n} "
            "samples: they were not made by dividing whole counts by one size factor per sample"
        )
    if not failed:
        evidence.append(
            f"every sample's values are whole multiples of the same unit 1/{recovery.samples[0].scale:.6g}: "
            "fractions of counts, not counts divided by a per-sample size factor"
        )
    if np.allclose(sums, sums.mean(), rtol=1e-3):
        return _depth_normalized(sums, tuple(evidence), recovery, sf)
    if sf is None:
        evidence.append("every gene is zero in at least one sample, so no size factor can be estimated")
        return Classification(
            "not_recoverable",
            "not counts scaled per sample",
            tuple(evidence),
            "go back to the raw counts",
            "round",
            recovery,
            sf,
        )
    rel_sf = sf.table["relative_size_factor"].to_numpy()
    spread = f"{rel_sf.min():.3g} to {rel_sf.max():.3g}"
    if sf.passed:
        evidence.append(
            f"size factors estimated on the rounded table are close to 1 ({spread}, relative): the table is normalized"
        )
        detail = (
            "normalized, but written with too few digits to recover the raw counts"
            if short and not unitless
            else "normalized, but the raw counts cannot be recovered: gene-specific normalization factors or "
            "non-integer counts"
        )
        return Classification(
            "normalized_unrecoverable",
            detail,
            tuple(evidence),
            "the default --method auto rounds the table and sets every size factor to 1 (the workaround); results "
            "approximate the original analysis. Prefer the raw counts, or the normalized table written with more "
            "digits if it was shortened",
            "round",
            recovery,
            sf,
        )
    rel_sum = sums / np.exp(np.mean(np.log(np.maximum(sums, np.finfo(float).tiny))))
    depth_like = bool(np.all(np.abs(np.log(rel_sum) - np.log(rel_sf)) <= np.log(DEPTH_AGREEMENT)))
    evidence.append(
        f"size factors estimated on the rounded table are far from 1 ({spread}, relative): the samples still "
        "differ in sequencing depth, so the table was not normalized"
    )
    if depth_like:
        evidence.append(
            f"column sums differ the same way ({rel_sum.min():.3g} to {rel_sum.max():.3g}, relative): estimated counts "
            "as salmon, kallisto, RSEM or tximport write them (or fractional featureCounts)"
        )
        return Classification(
            "estimated_counts",
            "estimated counts (non-integer, not normalized)",
            tuple(evidence),
            "the default --method auto (or --method estimated) rounds them and lets DESeq2 estimate the size "
            "factors, as DESeq2's documentation does for estimated counts without their quantification files "
            "(DESeqDataSetFromMatrix(round(x))). With the salmon, kallisto or RSEM quantification files, the "
            "tximport route (DESeqDataSetFromTximport, or the IUC DESeq2 tool's tximport input in Galaxy) also "
            "uses transcript-length offsets",
            "estimated",
            recovery,
            sf,
        )
    evidence.append(
        f"but the column sums do not differ that way ({rel_sum.min():.3g} to {rel_sum.max():.3g}, relative): not "
        "estimated counts either"
    )
    return Classification(
        "not_recoverable",
        "not counts scaled per sample, not estimated counts",
        tuple(evidence),
        "raw counts cannot be recovered from this table and nothing explains it; go back to the raw counts. "
        "--method round forces the rounding workaround, whose results cannot be trusted here",
        "round",
        recovery,
        sf,
    )


def _one_unit_for_all(recovery: RecoveryResult, sf: SizeFactorCheck | None) -> bool:
    """Every sample recovered with the same unit while the samples still differ in depth: fractions of counts.

    Counts split in halves (featureCounts' fractional multi-mapping) are whole multiples of 1/2 in every
    sample: a unit shared by all samples normalizes nothing, so the values are counts, not scaled counts.
    """
    if sf is None or sf.passed:
        return False
    low = max(s.scale_low for s in recovery.samples)
    high = min(s.scale_high for s in recovery.samples)
    return low <= high * (1 + 1e-9)


def _whole_numbers(sf: SizeFactorCheck | None) -> Classification:
    if sf is not None and sf.passed:
        rel = sf.table["relative_size_factor"].to_numpy()
        return Classification(
            "raw_counts",
            "whole numbers, size factors close to 1",
            (
                "every value is a whole number",
                f"size factors estimated on the table are close to 1 ({rel.min():.3g} to {rel.max():.3g}, relative)",
                "this is either raw counts of samples sequenced to about the same depth, or a normalized table "
                "rounded before it was shared; the digits cannot tell which",
            ),
            "the default --method auto analyses them as raw counts with standard DESeq2 (size factors estimated, "
            "close to 1). For raw counts this is the standard analysis; for a normalized table rounded before "
            "sharing, the rounding and the original size factors are lost, and results approximate the original "
            "analysis: ask for the raw counts or the unrounded table",
            "raw",
            None,
            sf,
        )
    return Classification(
        "raw_counts",
        "whole numbers",
        ("every value is a whole number", "library sizes differ: size factors estimated on the table are not all 1"),
        "these look like raw counts: the default --method auto analyses them with standard DESeq2 "
        "(size factors estimated)",
        "raw",
        None,
        sf,
    )


def _scaled(recovery: RecoveryResult, evidence: list[str], sf: SizeFactorCheck | None) -> Classification:
    evidence.append(
        "every sample's values are whole multiples of one unit per sample: "
        + ", ".join(f"{s.sample} x {s.scale:.6g}" for s in recovery.samples[:6])
        + (" ..." if len(recovery.samples) > 6 else "")
    )
    evidence += list(recovery.notes)
    largest = max(s.smallest_count for s in recovery.samples)
    if largest > 1:
        evidence.append(
            f"smallest recovered counts up to {largest} (a table of expressed genes): the recovered counts of "
            "each sample share no common factor, the only such counts that give these values"
        )
    if recovery.usable:
        advice = "the default --method auto (or --method recover) runs DESeq2 on the recovered raw counts" + (
            "" if recovery.all_exact else " (" + recovery.summary() + ")"
        )
        action: Action = "recover"
    elif recovery.approximate:
        advice = (
            "the default --method auto runs DESeq2 on the recovered counts, those the digits leave open at their "
            f"midpoints ({recovery.summary()}): {APPROXIMATE_RECOVERY}. --method recover insists on exact or "
            "bounded counts and stops; the table written with more digits gives the original analysis"
        )
        action = "recover"
    else:
        advice = (
            "recovery is not good enough for every sample (" + recovery.summary() + "); --method auto rounds the "
            "table and sets every size factor to 1; --method round with --rounding-sensitivity shows how much "
            "rounding matters"
        )
        action = "round"
    return Classification("scaled_counts", recovery.scaling, tuple(evidence), advice, action, recovery, sf)


def _depth_normalized(
    sums: np.ndarray,
    evidence: tuple[str, ...],
    recovery: RecoveryResult | None,
    sf: SizeFactorCheck | None,
    rounded: bool = False,
) -> Classification:
    total = float(sums.mean())
    tpm = bool(np.isclose(total, 1e6, rtol=1e-3))
    detail = "TPM-like (every column sums to one million)" if tpm else f"scaled to a common total of {total:.6g}"
    if rounded:
        detail = "TPM or CPM rounded to whole numbers (every column sums to about one million)"
    return Classification(
        "depth_normalized",
        detail,
        (
            *evidence,
            f"every column sums to {'about ' if rounded else ''}{total:.6g}"
            + (
                ", but the values are not counts divided by a library size: gene-length normalization (TPM)"
                if tpm
                else ": values scaled to one total per sample (like TPM or CPM), not counts"
            ),
        ),
        "go back to the counts behind the table (for salmon or kallisto, their estimated counts, NumReads or "
        "est_counts, which --method auto analyses). --method round forces the rounding workaround, whose "
        "results cannot be trusted for such a table",
        "refuse",
        recovery,
        sf,
    )


def _classify_log(values: pd.DataFrame, max_value: float) -> Classification | None:
    arr = values.to_numpy(dtype=np.float64)
    has_zero = bool((arr == 0).any())
    evidence = [f"every value is at most {max_value:.3g}: the scale of logarithms, not of counts"]
    for name, base, pseudocount in LOG_TRANSFORMS:
        inverted, bounds = invert_log(values, base, pseudocount)
        if inverted.to_numpy().min() < 0:
            continue
        recovery = recover_counts(inverted, bounds)
        if recovery.recoverable:
            evidence.append(f"undoing {name} gives whole multiples of one unit per sample ({recovery.scaling})")
            of = recovery.scaling if recovery.scaling != "unknown per-sample scaling" else "scaled counts"
            return Classification(
                "log_counts",
                f"{name} of {of}",
                tuple(evidence),
                f"undo the transform ({_inverse_formula(name)}) and run on that table: its raw counts are recoverable"
                if recovery.usable
                else f"undo the transform ({_inverse_formula(name)}); counts are only approximately recoverable "
                "at this precision: prefer the raw counts",
                "refuse",
                recovery,
            )
    if not has_zero and arr.min() > 1:
        evidence.append(f"no zeros and a floor at {arr.min():.3g}: typical of DESeq2's vst or rlog")
        return Classification(
            "not_counts",
            "VST/rlog-like",
            tuple(evidence),
            "variance-stabilized values cannot be turned back into counts; go back to the raw or normalized counts",
            "refuse",
        )
    precision: Precision = written_precision(arr[:, 0])
    evidence.append(
        f"no tried log transform ({', '.join(n for n, _, _ in LOG_TRANSFORMS)}) inverts to counts "
        f"at the written precision ({precision.describe()})"
    )
    return Classification(
        "not_counts",
        "log-scale values",
        tuple(evidence),
        "a log-scale table cannot be analysed as counts; go back to the raw or normalized counts",
        "refuse",
    )


def _inverse_formula(name: str) -> str:
    return {
        "log2(x+1)": "2^v - 1",
        "ln(x+1)": "exp(v) - 1",
        "log10(x+1)": "10^v - 1",
        "log2(x+0.5)": "2^v - 0.5",
    }[name]
