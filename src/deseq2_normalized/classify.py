"""What kind of table is this? Raw counts, scaled counts, log counts, or none of these.

The classification rests on evidence a person can check: whole numbers, a per-sample unit
that makes every value a whole count (see :mod:`deseq2_normalized.recovery`), a log
transform whose inverse is such a table, or the absence of all of these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from deseq2_normalized.recovery import Precision, RecoveryResult, recover_counts, written_precision

#: Log transforms tried on log-scale tables: name, base, pseudocount.
LOG_TRANSFORMS = (
    ("log2(x+1)", 2.0, 1.0),
    ("ln(x+1)", math.e, 1.0),
    ("log10(x+1)", 10.0, 1.0),
    ("log2(x+0.5)", 2.0, 0.5),
)
#: Largest value a log-scale table of counts plausibly holds (log2 of ~1e9).
_LOG_SCALE_MAX = 32.0


@dataclass(frozen=True)
class Classification:
    """The kind of table, with the evidence and what to do.

    Attributes
    ----------
    kind
        ``raw_counts``, ``scaled_counts``, ``log_counts`` or ``not_recoverable``.
    detail
        E.g. ``"DESeq2 median-of-ratios"``, ``"log2(x+1) of CPM"``, ``"TPM/FPKM-like"``.
    evidence
        Plain-language observations behind the verdict.
    recommendation
        Which ``--method`` to use, or to go back to the raw counts.
    recovery
        The recovery attempt on the table (or on its inverse-log), when one was made.
    """

    kind: str
    detail: str
    evidence: tuple[str, ...]
    recommendation: str
    recovery: RecoveryResult | None = None

    @property
    def recoverable(self) -> bool:
        """Whether raw counts can be recovered from this table as it is (every sample exact or bounded)."""
        return self.kind == "scaled_counts" and self.recovery is not None and self.recovery.usable

    def explain_failed_check(self) -> str:
        """Plain words on what a failed size-factor check means for a table of this kind."""
        if self.kind == "raw_counts":
            return (
                "The table holds whole numbers with unequal library sizes: it looks like raw counts. "
                "Analyse raw counts with standard DESeq2 (size factors estimated), as --method auto does, "
                "not with the rounding workaround."
            )
        if self.recoverable:
            assert self.recovery is not None
            return (
                f"The table is scaled per sample ({self.detail}), not DESeq2-normalized on exactly these genes and "
                "samples; its raw counts are recovered, so the check does not matter for --method auto or recover."
            )
        if self.detail == "TPM/FPKM-like":
            return (
                "Every column sums to one million but the values are not counts divided by a library size: "
                "it looks like TPM/FPKM. Go back to the raw counts."
            )
        if self.kind == "scaled_counts":
            return (
                f"The table is scaled per sample ({self.detail}) but its raw counts are only approximately "
                "recoverable at the written precision: rounding with size factors 1 cannot be trusted. "
                "Go back to the raw counts, or to the table written with more digits."
            )
        return (
            "The table was probably normalized another way (TPM/FPKM, a different DESeq2 run's subset written "
            "with too few digits) or is not counts at all; results with size factors set to 1 cannot be trusted. "
            "Go back to the raw counts, or run 'deseq2-normalized check' to see what kind of table this is."
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
            "recoverable": self.recoverable,
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
        pd.DataFrame(inverted, index=values.index, columns=values.columns),
        pd.DataFrame(bounds, index=values.index, columns=values.columns),
    )


def classify_table(values: pd.DataFrame) -> Classification:
    """Say what kind of table ``values`` is, with the evidence and a recommendation.

    Parameters
    ----------
    values
        Genes x samples values, parsed exactly as written (may hold negatives).

    Returns
    -------
    Classification
        The verdict.
    """
    arr = values.to_numpy(dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    non_integer = float(np.mean(arr != np.rint(arr)))
    max_value = float(finite.max()) if finite.size else 0.0
    # log2(x+0.5) and similar transforms give negative values for zero counts: try them first.
    if non_integer > 0 and max_value <= _LOG_SCALE_MAX:
        log_class = _classify_log(values, max_value)
        if log_class is not None and (log_class.kind == "log_counts" or finite.min() >= 0):
            return log_class
    if finite.size and finite.min() < 0:
        share = float(np.mean(finite < 0))
        return Classification(
            "not_recoverable",
            "values below zero",
            (
                f"{100 * share:.1f}% of the values are negative (smallest {finite.min():.4g})",
                "counts, scaled counts and log(x+1) of counts are never negative: this looks like log ratios, "
                "centred or batch-corrected data",
            ),
            "go back to the raw counts (or the DESeq2-normalized counts) and analyse those",
        )
    if non_integer == 0:
        return Classification(
            "raw_counts",
            "whole numbers",
            ("every value is a whole number",),
            "these look like raw counts: the default --method auto analyses them with standard DESeq2 "
            "(size factors estimated); if they really are DESeq2-normalized counts written as whole numbers, "
            "the estimated size factors are close to 1 and the analysis is the same",
        )
    recovery = recover_counts(values)
    evidence = [f"{100 * non_integer:.1f}% of the values are not whole numbers"]
    precisions = sorted({s.precision for s in recovery.samples})
    evidence.append(f"written at {', '.join(precisions)}")
    if recovery.recoverable:
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
        else:
            advice = (
                "recovery is not good enough for every sample (" + recovery.summary() + "); --method auto will "
                "round; --method round with --rounding-sensitivity shows how much rounding matters"
            )
        return Classification("scaled_counts", recovery.scaling, tuple(evidence), advice, recovery)
    sums = arr.sum(axis=0)
    failed = [x for x in recovery.samples if x.verdict == "not_recoverable"]
    evidence.append(
        f"no per-sample unit makes the values whole counts in {len(failed)} of {len(recovery.samples)} samples "
        f"({failed[0].sample}: {failed[0].reason})"
    )
    if np.allclose(sums, 1e6, rtol=1e-3):
        detail = "TPM/FPKM-like"
        evidence.append(
            "every column sums to one million, but values are not counts divided by a library size: "
            "gene-length normalization (TPM)"
        )
    else:
        detail = "not counts scaled per sample"
        evidence.append("consistent with TPM/FPKM, batch-corrected, noisy or otherwise transformed values")
    return Classification(
        "not_recoverable",
        detail,
        tuple(evidence),
        "raw counts cannot be recovered from this table; go back to the raw counts. If this is "
        "DESeq2-normalized output after all, --method round is the only option and results are approximate",
        recovery,
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
                recovery,
            )
    if not has_zero and arr.min() > 1:
        evidence.append(f"no zeros and a floor at {arr.min():.3g}: typical of DESeq2's vst or rlog")
        return Classification(
            "not_recoverable",
            "VST/rlog-like",
            tuple(evidence),
            "variance-stabilized values cannot be turned back into counts; go back to the raw or normalized counts",
        )
    precision: Precision = written_precision(arr[:, 0])
    evidence.append(
        f"no tried log transform ({', '.join(n for n, _, _ in LOG_TRANSFORMS)}) inverts to counts "
        f"at the written precision ({precision.describe()})"
    )
    return Classification(
        "not_recoverable",
        "log-scale values",
        tuple(evidence),
        "a log-scale table cannot be analysed as counts; go back to the raw or normalized counts",
    )


def _inverse_formula(name: str) -> str:
    return {
        "log2(x+1)": "2^v - 1",
        "ln(x+1)": "exp(v) - 1",
        "log10(x+1)": "10^v - 1",
        "log2(x+0.5)": "2^v - 0.5",
    }[name]
