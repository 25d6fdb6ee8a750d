"""The verdict on a table and on a run, in plain words: one place for the prose.

:func:`story` is the verdict on the table for the method that ran (the classification and
the size-factor check together; stderr, ``check``, ``diagnostics.json`` and the report all
say it); :func:`run_verdict` is the report's traffic light (green, amber, red) with its
reasons; :func:`log_check` writes the story to the log, framed when the check failed where
it matters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deseq2_normalized.classify import APPROXIMATE_RECOVERY, approximation_note

if TYPE_CHECKING:
    from deseq2_normalized.results import AnalysisResult, CheckResult

log = logging.getLogger(__name__)


def story(checked: CheckResult, method: str) -> str:
    """One verdict on the table for ``method``: the classification and the size-factor check together.

    ``method`` is what ran (or, for ``check``, what ``run --method auto`` would do): the
    verdict, the kind and the method always agree. Recovered raw counts outrank the
    size-factor heuristic (it only guards the rounding workaround).

    Parameters
    ----------
    checked
        What ``check`` learnt about the table.
    method
        ``"round"``, ``"recover"``, ``"estimated"``, ``"raw"``, or what the default method
        does instead of fitting: ``"refuse"`` or ``"stop"``.

    Returns
    -------
    str
        The verdict, one paragraph.
    """
    sf = checked.size_factors
    band = f"a factor {1 + sf.tolerance:g} of 1 (largest deviation {sf.max_deviation:.3f})"
    check = (
        f"size-factor check passed: every relative size factor is within {band}"
        if sf.passed
        else f"size-factor check failed: relative size factors of {', '.join(sf.failing)} lie outside {band}"
    )
    cls = checked.classification
    offset = f"a pseudocount of {cls.offset:g} removed from every value; " if cls and cls.pseudocount else ""
    if method == "refuse" and cls is not None:
        return f"the table is {cls.detail}, not counts to analyse: run refuses it; {cls.recommendation}"
    if method == "recover" and cls is not None and cls.recovery is not None:
        recovered = (
            "exactly"
            if cls.recovery.all_exact
            else "within the stated bound"
            if cls.recovery.usable
            else "approximately (counts the written digits leave open at their midpoints)"
        )
        text = f"{offset}raw counts recovered {recovered} from the table ({cls.detail}); {check}"
        if cls.recovery.scaling == "DESeq2 median-of-ratios":
            return text + ", as expected for a DESeq2-normalized table"
        if sf.passed and cls.recovery.scaling in ("CPM", "upper quartile"):
            return (
                f"{text}, yet the table is {cls.recovery.scaling}-scaled, not DESeq2-normalized: recovered counts "
                "decide"
            )
        if sf.passed and cls.recovery.approximate:
            return f"{text}, as for a normalized table written with few digits"
        if sf.passed:
            return f"{text}, consistent with DESeq2 normalization on a larger gene or sample set"
        if cls.recovery.scaling == "unknown per-sample scaling":
            return (
                f"{text}: the table's scales do not put the samples on one scale, so DESeq2 estimates the size "
                "factors on the recovered counts"
            )
        return (
            f"{text}, as expected for a table not normalized by DESeq2 on exactly these genes and samples; "
            "the recovered counts outrank the check"
        )
    if method == "raw":
        if cls is not None and cls.detail.startswith("whole numbers, size factors close to 1"):
            return (
                f"{offset}the table holds whole numbers whose size factors are close to 1: raw counts of samples "
                "of about the same depth, or a normalized table rounded before sharing (the digits cannot tell "
                "which); analysed with standard DESeq2, size factors estimated by DESeq2. If it was rounded "
                f"before sharing, results approximate the original analysis; {check}"
            )
        return (
            f"{offset}the table holds whole numbers: raw counts, analysed with standard DESeq2 (size factors "
            f"estimated by DESeq2); {check}"
        )
    if method == "estimated":
        what = cls.detail if cls is not None else "estimated counts"
        return (
            f"{offset}the table holds {what}: rounded to integers, and DESeq2 estimates the size factors, as "
            f"DESeq2's documentation does for estimated counts without their quantification files (with them, the "
            "tximport route, DESeqDataSetFromTximport or the IUC DESeq2 tool's tximport input in Galaxy, also uses "
            f"transcript-length offsets); {check}"
        )
    if sf.passed:
        looks = "the table looks DESeq2-normalized"
        if cls is not None and cls.kind == "scaled_counts" and cls.detail in ("CPM", "upper quartile"):
            looks = f"but the table is {cls.detail}-scaled, not DESeq2-normalized"
        elif cls is not None and cls.kind in ("normalized_unrecoverable", "depth_normalized", "scaled_counts"):
            looks = f"the table is {cls.detail}"
        return f"{offset}{check}; {looks}; rounded, every size factor set to 1: results are approximate"
    stops = " run stops here (exit 1) unless --no-strict or --method round is given." if method == "stop" else ""
    return (
        f"{offset}size-factor check FAILED: relative size factors of {', '.join(sf.failing)} lie outside {band}; "
        "the table is not DESeq2-normalized and results from rounding it with size factors 1 cannot be trusted."
        f"{stops} " + checked.explanation
    )


@dataclass(frozen=True)
class Verdict:
    """The size-factor verdict as a traffic light.

    Attributes
    ----------
    level
        ``"green"``, ``"amber"`` or ``"red"`` (also the badge's CSS class).
    headline
        A few words for the badge.
    reasons
        Plain-language sentences behind the level.
    """

    level: str
    headline: str
    reasons: tuple[str, ...]


def run_verdict(result: AnalysisResult) -> Verdict:
    """Green, amber or red for a run.

    Red when the table was rounded and the size-factor check failed (the check guards only
    the rounding workaround); amber when something deserves a look (calls that changed
    under stochastic rounding, a scaled table rounded because recovery was only
    approximate, whole numbers analysed as raw counts); green otherwise.
    """
    check = result.check
    method = result.method.name
    story = check.story(method)
    if check.check_failed_for(method):
        return Verdict("red", "size-factor check failed", (story,))
    warnings = []
    cls = check.classification
    recovery = cls.recovery if cls is not None else None
    if recovery is not None and method != "recover":
        approximate = [s.sample for s in recovery.samples if not s.usable]
        if approximate and cls is not None and cls.kind == "scaled_counts":
            warnings.append(
                f"Raw counts could be recovered only approximately for {len(approximate)} sample(s) "
                f"({', '.join(approximate[:5])}{'...' if len(approximate) > 5 else ''}), so the table was rounded."
            )
    if method == "round":
        note = approximation_note(result.method.requested)
        warnings.append(note[0].upper() + note[1:] + ".")
    if method == "recover" and recovery is not None and recovery.approximate:
        warnings.append(
            f"The written digits leave some counts open ({recovery.summary()}); they were set to their midpoints, "
            f"and the {APPROXIMATE_RECOVERY}."
        )
    if method == "raw":
        warnings.append(
            "The table holds whole numbers, so it was analysed as raw counts with standard DESeq2 (size factors "
            "estimated). If it is a normalized table rounded before it was shared, the rounding and the original "
            "size factors are lost: results approximate the original analysis."
        )
    if cls is not None and cls.pseudocount is not None:
        warnings.append(f"A pseudocount of {cls.offset:g} was found and removed from every value before the analysis.")
    sensitivity = result.rounding_sensitivity
    if sensitivity:
        for name, summary in sensitivity.contrasts.items():
            if summary.unstable_calls:
                warnings.append(
                    f"{name}: {summary.unstable_calls} of {summary.called_in_any_run} genes called in any run "
                    f"({100 * summary.unstable_fraction:.1f}%) changed their call under "
                    f"{sensitivity.roundings} stochastic roundings."
                )
    if warnings:
        return Verdict("amber", "with warnings", (story, *warnings))
    headline = {"recover": "raw counts recovered", "estimated": "estimated counts analysed"}.get(method, "check passed")
    return Verdict("green", headline, (story,))


def log_check(check: CheckResult, method: str) -> None:
    """Log the story for ``method``: a warning framed by lines of ``!`` when the check failed where it matters."""
    if not check.check_failed_for(method):
        log.info("%s", check.story(method))
        return
    log.warning("!" * 72)
    log.warning("%s", check.story(method))
    log.warning("!" * 72)
