"""The analysis as a library: pandas DataFrames in, result tables and a typed result out.

Validation and the size-factor check run in pure pandas/numpy first; only then does any
data reach R (DESeq2), through :mod:`deseq2_normalized.rbackend`. R loads DESeq2 in the
background meanwhile, so the checks cost no time of their own. The options are in
:mod:`~deseq2_normalized.options`, the design and contrasts are resolved by
:mod:`~deseq2_normalized.planning`, and :mod:`~deseq2_normalized.diagnostics` turns a
result into the record of ``diagnostics.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from deseq2_normalized import rbackend, rounding
from deseq2_normalized.classify import Classification, approximation_note, classify_table, rounded_table
from deseq2_normalized.contrasts import LRT_STEM, Contrast, ResultSummary
from deseq2_normalized.design import Design
from deseq2_normalized.diagnostics import build_diagnostics, software_versions
from deseq2_normalized.errors import AnalysisError, InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import Plan, plan_run
from deseq2_normalized.progress import stage
from deseq2_normalized.recovery import RecoveryResult, SizeFactorChoice, choose_size_factors
from deseq2_normalized.sizefactors import SizeFactorCheck, check_size_factors, has_complete_gene
from deseq2_normalized.validate import match_samples, validate_counts

# Names other modules and callers import from here.
__all__ = [
    "AnalysisOptions",
    "AnalysisResult",
    "CheckResult",
    "Contrast",
    "MethodUsed",
    "check_table",
    "run_analysis",
    "software_versions",
]

log = logging.getLogger(__name__)

#: What the default ``--method auto`` does with a table: a method that fits, or ``"refuse"``
#: (exit 2: not counts) or ``"stop"`` (exit 1: it would be rounded over a failed size-factor check).
DefaultMethod = Literal["recover", "raw", "estimated", "round", "refuse", "stop"]


@dataclass
class CheckResult:
    """What ``check`` learns about a table without fitting anything.

    Attributes
    ----------
    counts
        The validated table (float64), less its pseudocount when one was found.
    rounded
        ``counts`` rounded to integers (half to even, as R's ``round``).
    non_integer_fraction
        Fraction of cells that are not whole numbers.
    size_factors
        The size-factor check.
    samples
        The matched sample table, when a sample sheet was given.
    classification
        What kind of table this is, with the count-recovery attempt.
    """

    counts: pd.DataFrame
    rounded: pd.DataFrame
    non_integer_fraction: float
    size_factors: SizeFactorCheck
    samples: pd.DataFrame | None = None
    classification: Classification | None = None

    @property
    def explanation(self) -> str:
        """Plain words on a failed check, from the table's classification (empty when it passed)."""
        if self.size_factors.passed or self.classification is None:
            return ""
        return self.classification.explain_failed_check()

    @property
    def default_method(self) -> DefaultMethod:
        """What ``--method auto`` does with this table (see :data:`DefaultMethod`)."""
        cls = self.classification
        if cls is None:
            return "stop" if not self.size_factors.passed else "round"
        if cls.action == "round" and not self.size_factors.passed:
            return "stop"
        return cls.action

    def check_failed_for(self, method: str) -> bool:
        """Whether the size-factor check failed where it matters: only the rounding method relies on it."""
        return method in ("round", "stop") and not self.size_factors.passed

    def story(self, method: str) -> str:
        """One verdict on the table for ``method``: the classification and the size-factor check together.

        ``method`` is what ran (or, for ``check``, what ``run --method auto`` would do): the
        verdict, the kind and the method always agree. Recovered raw counts outrank the
        size-factor heuristic (it only guards the rounding workaround).
        """
        sf = self.size_factors
        band = f"a factor {1 + sf.tolerance:g} of 1 (largest deviation {sf.max_deviation:.3f})"
        check = (
            f"size-factor check passed: every relative size factor is within {band}"
            if sf.passed
            else f"size-factor check failed: relative size factors of {', '.join(sf.failing)} lie outside {band}"
        )
        cls = self.classification
        offset = f"a pseudocount of {cls.offset:g} removed from every value; " if cls and cls.pseudocount else ""
        if method == "refuse" and cls is not None:
            return f"the table is {cls.detail}, not counts to analyse: run refuses it; {cls.recommendation}"
        if method == "recover" and cls is not None and cls.recovery is not None:
            recovered = "exactly" if cls.recovery.all_exact else "within the stated bound"
            text = f"{offset}raw counts recovered {recovered} from the table ({cls.detail}); {check}"
            if cls.recovery.scaling == "DESeq2 median-of-ratios":
                return text + ", as expected for a DESeq2-normalized table"
            if sf.passed and cls.recovery.scaling in ("CPM", "upper quartile"):
                return (
                    f"{text}, yet the table is {cls.recovery.scaling}-scaled, not DESeq2-normalized: recovered counts "
                    "decide"
                )
            if sf.passed:
                return f"{text}, consistent with DESeq2 normalization on a larger gene or sample set"
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
            f"{stops} " + self.explanation
        )

    @property
    def verdict(self) -> str:
        """The verdict on the table for what the default ``--method auto`` does with it."""
        return self.story(self.default_method)

    def stop_if_failed(self, method: str) -> None:
        """Stop when the size-factor check failed where it matters for ``method``.

        Raises
        ------
        AnalysisError
            When :meth:`check_failed_for` ``method``; the message is the verdict.
        """
        if self.check_failed_for(method):
            raise AnalysisError(self.story("stop"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "genes": int(self.counts.shape[0]),
            "samples": int(self.counts.shape[1]),
            "non_integer_fraction": self.non_integer_fraction,
            "size_factor_check": self.size_factors.to_dict(),
            "verdict": self.verdict,
            "default_method": self.default_method,
            "classification": self.classification.to_dict() if self.classification else None,
        }


@dataclass(frozen=True)
class MethodUsed:
    """How the normalized table became counts for DESeq2, and why.

    Attributes
    ----------
    name
        ``"round"``, ``"recover"``, ``"estimated"`` (estimated counts rounded, size factors
        estimated) or ``"raw"`` (standard DESeq2 on a table of raw counts).
    requested
        The ``method`` option: ``"auto"``, ``"round"``, ``"recover"`` or ``"estimated"``.
    why
        Plain words on the choice.
    recovery
        The count recovery, when the counts were recovered.
    size_factors
        Which size factors DESeq2 got, and why.
    size_factor_values
        The size factors of the fitted model, per sample.
    """

    name: str
    requested: str
    why: str
    recovery: RecoveryResult | None
    size_factors: SizeFactorChoice
    size_factor_values: pd.Series = field(repr=False)

    @property
    def description(self) -> str:
        """What the method does, in a line."""
        return {
            "round": "normalized table rounded to integers; every DESeq2 size factor set to 1",
            "estimated": "estimated counts rounded to integers; size factors estimated by DESeq2",
            "recover": "raw integer counts recovered from the normalized table; DESeq2 on them",
            "raw": "the table holds raw counts: standard DESeq2, size factors estimated by DESeq2",
        }[self.name]


@dataclass(frozen=True)
class PendingRefits:
    """Rounding-sensitivity refits under way, with what their summary needs (:meth:`AnalysisResult.collect_refits`)."""

    plan: Plan
    opts: AnalysisOptions
    refits: rbackend.PendingRefits


@dataclass
class AnalysisResult:
    """Everything a run produces.

    Attributes
    ----------
    results
        Result table per output stem (``results_...``), sorted by padj then pvalue, NA last.
    summaries
        Per results table, in output order: its contrast (None for the LRT), file name and
        genes up and down at ``alpha``.
    normalized
        DESeq2's normalized counts.
    transformed
        The vst or rlog assay, or ``None``.
    check
        The size-factor check and input facts.
    dispersions
        Per-gene dispersion estimates (for plots).
    model
        Handle on the fitted DESeqDataSet in R.
    options
        The options of the run.
    design
        The design formula.
    method
        How the table became counts, and the size factors DESeq2 used.
    source
        Name of the counts in messages and the diagnostics.
    notes
        What reading the file did (decimal commas, annotation kept, columns left out).
    versions
        Versions of the software that ran (see :func:`software_versions`).
    coldata
        Samples x design variables (categorical, reference level first), as given to DESeq2.
    rounded_dispersions
        When the counts were recovered (and ``compare_rounded``): per-gene dispersions
        estimated from the rounded table with size factors 1, for comparison.
    rounding_sensitivity
        When run: the stochastic roundings' summary per results file (JSON-ready).
    rlog
        With ``transform="both"``: the rlog values (``transformed`` then holds the vst ones).
    pending_refits
        Rounding-sensitivity refits still running, when :func:`run_analysis` was told not to
        wait for them: :meth:`collect_refits` ends them and fills ``rounding_sensitivity``.
    """

    results: dict[str, pd.DataFrame]
    summaries: list[ResultSummary]
    normalized: pd.DataFrame
    transformed: pd.DataFrame | None
    check: CheckResult
    dispersions: pd.DataFrame
    model: rbackend.FittedModel = field(repr=False)
    options: AnalysisOptions
    design: Design
    method: MethodUsed
    source: str
    notes: tuple[str, ...]
    versions: dict[str, str]
    coldata: pd.DataFrame | None = None
    rounded_dispersions: pd.DataFrame | None = None
    rounding_sensitivity: dict[str, Any] | None = None
    rlog: pd.DataFrame | None = None
    pending_refits: PendingRefits | None = field(default=None, repr=False)

    def collect_refits(self) -> None:
        """Wait for the rounding-sensitivity refits still running and add what they found.

        Sets ``rounding_sensitivity`` and adds the ``rounding_agreement`` column to each
        results table. Does nothing when no refits are pending.
        """
        pending, self.pending_refits = self.pending_refits, None
        if pending is not None:
            self.rounding_sensitivity = _rounding_sensitivity(pending.plan, pending.opts, pending.refits, self.results)
            self.__dict__.pop("diagnostics", None)  # drawn up without the sensitivity, if at all

    def stop_refits(self) -> None:
        """Stop the rounding-sensitivity refits still running, for a run that ends without them."""
        pending, self.pending_refits = self.pending_refits, None
        if pending is not None:
            rbackend.stop_refits(pending.refits)

    @property
    def contrasts(self) -> list[Contrast]:
        """The Wald contrasts tested, in output order (none for the LRT)."""
        return [s.contrast for s in self.summaries if s.contrast is not None]

    @cached_property
    def diagnostics(self) -> dict[str, Any]:
        """The JSON-ready record of the run, as written to ``diagnostics.json``."""
        return build_diagnostics(self)


def check_table(
    counts: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    sf_tolerance: float = AnalysisOptions.sf_tolerance,
    source: str = "counts",
) -> CheckResult:
    """Validate a normalized table and run the size-factor check (no R needed).

    Parameters
    ----------
    counts
        Genes x samples normalized values.
    samples
        Optional sample sheet (index sample names) to match against the matrix.
    sf_tolerance
        Tolerance of the size-factor check.
    source
        Name of the counts in messages (usually the file name).

    Returns
    -------
    CheckResult
        Validated and rounded tables, the check and its explanation.

    Raises
    ------
    InputError
        For invalid tables or sample sheets.
    """
    if not sf_tolerance > 0:
        raise InputError(f"--sf-tolerance must be positive, got {sf_tolerance}")
    values = validate_counts(counts, source)
    matched = match_samples(samples, list(values.columns)).table if samples is not None else None
    rounded = rounded_table(values)
    classification = classify_table(values, sf_tolerance, rounded=rounded)
    if classification.pseudocount is not None:
        # Everything after this (rounding, the check, the fit) sees the table less its constant.
        shifted = values - classification.offset
        values = shifted.where(shifted.abs() > 1e-9 * classification.offset, 0.0)
        rounded = rounded_table(values)
    non_integer = float(np.mean(values.to_numpy() != rounded.to_numpy()))
    sf = classification.size_factors
    if sf is None:
        try:
            sf = check_size_factors(rounded, sf_tolerance)
        except ValueError:
            raise InputError(
                f"{source}: every value rounds to zero, so size factors cannot be estimated "
                "and the size-factor check cannot be run"
            ) from None
    if sf.estimator == "poscounts":
        log.info(
            "size-factor check: every gene is zero in at least one sample, so the check uses DESeq2's poscounts "
            "estimator (median-of-ratios needs a gene positive in every sample)"
        )
    return CheckResult(values, rounded, non_integer, sf, matched, classification)


def _sorted_results(table: pd.DataFrame) -> pd.DataFrame:
    out = table.sort_values(["padj", "pvalue"], na_position="last", kind="mergesort")
    out.index.name = "gene_id"
    return out


def _summaries(plan: Plan, results: dict[str, pd.DataFrame], alpha: float) -> list[ResultSummary]:
    """One summary per results table, in output order."""
    if not plan.contrasts:
        return [ResultSummary(None, *_count_calls(results[LRT_STEM], alpha), reduced=plan.reduced_text)]
    return [ResultSummary(c, *_count_calls(results[c.stem], alpha)) for c in plan.contrasts]


def _count_calls(table: pd.DataFrame, alpha: float) -> tuple[int, int, int]:
    """Genes up and down at ``alpha``, and genes tested (with an adjusted p-value)."""
    sig = table["padj"] < alpha
    return (
        int((sig & (table["log2FoldChange"] > 0)).sum()),
        int((sig & (table["log2FoldChange"] < 0)).sum()),
        int(table["padj"].notna().sum()),
    )


def run_analysis(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    options: AnalysisOptions | None = None,
    *,
    source: str = "counts",
    notes: Sequence[str] = (),
    wait_for_refits: bool = True,
    **overrides: Any,
) -> AnalysisResult:
    """Run DESeq2 on a DESeq2-normalized count matrix.

    With ``method="auto"`` (default) the raw counts are recovered from the table when every
    sample allows it (:mod:`deseq2_normalized.recovery`) and DESeq2 runs on them; a table of
    whole numbers is analysed as raw counts; otherwise the table is rounded. With
    ``method="round"`` the table is rounded to integers, every size factor is set to 1 and
    DESeq2 runs as usual; beforehand, size factors estimated on the rounded table are
    checked to be close to 1 (see :class:`~deseq2_normalized.sizefactors.SizeFactorCheck`).
    ``method="recover"`` insists on recovery. Tables that are not counts (log-scale,
    VST-like) are refused.

    Parameters
    ----------
    counts
        Genes x samples normalized values (index gene IDs, columns sample names).
    samples
        Sample sheet: index sample names, columns design variables.
    options
        Analysis options; keyword ``overrides`` replace single fields, e.g.
        ``run_analysis(counts, samples, design="~ type + condition")``.
    source
        Name of the counts in messages.
    notes
        What reading the file did (decimal commas, annotation kept, columns left out),
        recorded in the diagnostics and shown in the report.
    wait_for_refits
        With ``rounding_sensitivity``: wait for the refits before returning (default). False
        returns while they may still run in forked R processes (``--threads``), so that the
        caller can do work that does not need them (drawing the plots) meanwhile; it must then
        call :meth:`AnalysisResult.collect_refits` (or ``stop_refits``) before R is used again.

    Returns
    -------
    AnalysisResult
        Result tables, normalized and transformed counts, size factors, diagnostics.

    Raises
    ------
    InputError
        Invalid table, sample sheet, design or options (before any data reaches R).
    AnalysisError
        The size-factor check failed with ``strict``, or DESeq2 stopped with an error.

    Examples
    --------
    >>> result = run_analysis(counts, samples, reference="untreated")  # doctest: +SKIP
    >>> result.results["results_condition_treated_vs_untreated"].head()  # doctest: +SKIP
    """
    opts = replace(options or AnalysisOptions(), **overrides)
    opts.validate()
    rbackend.start_in_background()
    with stage("checking"):
        checked = check_table(counts, samples, sf_tolerance=opts.sf_tolerance, source=source)
        assert checked.samples is not None
        plan = plan_run(opts, checked.samples)
    method, why, recovery = _choose_method(opts.method, checked, source)
    _report_check(checked, method)
    log.info("method: %s (%s)", _METHOD_NAMES[method], why)
    _stop_or_warn(checked, method, opts, source)
    if method == "round":
        log.warning("%s", approximation_note(opts.method))

    counts_in = recovery.counts if recovery is not None else checked.rounded
    choice, sf_type = _estimator(_size_factor_choice(method, recovery), opts.sf_type, counts_in)
    log.info("size factors: %s", choice.why)
    size_factors = choice.values if choice.source != "fixed at 1" else np.ones(counts_in.shape[1])
    if rbackend.loading():
        # A stage of its own, so that the fitting stage times the fit alone.
        with stage("waiting for DESeq2 to load"):
            rbackend.wait_until_loaded()
    refits = None
    if opts.rounding_sensitivity and method == "round":
        # The refits do not depend on the main fit: they start now, in forked R processes when
        # there are threads for them, and this process joins them once its own work is done.
        refits = _start_refits(plan, opts, checked.counts)
    elif opts.rounding_sensitivity:
        log.info("rounding sensitivity skipped: the counts were recovered exactly, nothing was rounded")
    try:
        threads = opts.threads - (refits.forks if refits is not None else 0)
        with stage(f"fitting {counts_in.shape[0]} genes x {counts_in.shape[1]} samples"):
            model = _fit(plan, opts, counts_in, size_factors, sf_type, threads)
        with stage("extracting results"):
            tables = _test(plan, opts, model, opts.shrink)
            results = {stem: _sorted_results(table) for stem, table in tables.items()}
            summaries = _summaries(plan, results, opts.alpha)
            normalized = rbackend.normalized_counts(model)
            first = "vst" if opts.transform == "both" else opts.transform
            transformed = rbackend.transformed_counts(model, first) if first != "none" else None
            rlog = rbackend.transformed_counts(model, "rlog") if opts.transform == "both" else None
            disp = rbackend.dispersions(model)
        for s in summaries:
            log.info("%s: %d up, %d down at padj < %g", s.file, s.up, s.down, opts.alpha)
        versions = software_versions()
        used = MethodUsed(method, opts.method, why, recovery, choice, rbackend.size_factors(model))
        if recovery is not None:
            checked.size_factors.table["recovered_size_factor"] = recovery.scales
        rounded_disp = None
        if recovery is not None and opts.compare_rounded:
            with stage("dispersions of the rounded table, for comparison"):
                rounded_disp = rbackend.rounded_dispersions(
                    checked.rounded,
                    plan.coldata,
                    plan.aliases,
                    plan.design.r_formula(plan.aliases),
                    fit_type=opts.fit_type,
                )
        result = AnalysisResult(
            results,
            summaries,
            normalized,
            transformed,
            checked,
            disp,
            model,
            options=opts,
            design=plan.design,
            method=used,
            source=source,
            notes=tuple(notes),
            versions=versions,
            coldata=plan.coldata,
            rounded_dispersions=rounded_disp,
            rlog=rlog,
            pending_refits=PendingRefits(plan, opts, refits) if refits is not None else None,
        )
    except BaseException:
        if refits is not None:
            rbackend.stop_refits(refits)
        raise
    if wait_for_refits:
        result.collect_refits()
    return result


#: How the stderr line and the report name each method.
_METHOD_NAMES = {"round": "round", "recover": "recover", "raw": "raw counts", "estimated": "estimated counts"}


def _choose_method(requested: str, checked: CheckResult, source: str) -> tuple[str, str, RecoveryResult | None]:
    """Pick round, recover, estimated or raw (standard DESeq2), refusing tables that are not counts at all."""
    cls = checked.classification
    assert cls is not None
    evidence = "(run 'deseq2-normalized check' for the evidence)"
    if cls.kind in ("log_counts", "not_counts"):
        raise InputError(f"{source}: this table is {cls.detail}, not counts; {cls.recommendation} {evidence}")
    recovery = cls.recovery
    if cls.kind == "depth_normalized":
        if requested not in ("round", "estimated"):
            raise InputError(f"{source}: this table is {cls.detail}, not counts; {cls.recommendation} {evidence}")
        log.warning("%s: the table is %s, not counts: --method %s forced, results cannot be trusted", source,
                    cls.detail, requested)  # fmt: skip
    if requested == "round":
        return "round", "requested: rounded table, size factors 1", None
    if requested == "estimated":
        return "estimated", "requested: table rounded, size factors estimated by DESeq2", None
    if requested == "recover":
        if cls.kind == "raw_counts":
            raise InputError(
                f"{source}: --method recover: every value is a whole number, nothing to recover; "
                "the default --method auto analyses such a table with standard DESeq2"
            )
        if recovery is None or not recovery.usable or cls.kind != "scaled_counts":
            detail = f"{cls.detail}; {recovery.summary()}" if recovery is not None else cls.detail
            raise InputError(f"{source}: --method recover: raw counts cannot be recovered: {detail}")
        return "recover", f"every sample recovered: {recovery.summary()}", recovery
    if cls.action == "recover" and recovery is not None:
        return "recover", f"auto: {recovery.summary()}", recovery
    if cls.action == "raw":
        return (
            "raw",
            "auto: every value is a whole number, so the table holds raw counts (or counts written as whole "
            "numbers): standard DESeq2 on them, size factors estimated by DESeq2",
            None,
        )
    if cls.action == "estimated":
        return (
            "estimated",
            "auto: the table holds estimated counts that were never normalized: rounded, size factors estimated "
            "by DESeq2 (DESeqDataSetFromMatrix(round(x)))",
            None,
        )
    return "round", f"auto: raw counts cannot be recovered ({cls.detail}), so the table was rounded", None


def _stop_or_warn(checked: CheckResult, method: str, opts: AnalysisOptions, source: str) -> None:
    """Stop (exit 1) where the rounding workaround would run over a failed size-factor check, unless told to go on.

    ``strict=None`` stops when auto fell back to rounding and goes on when ``--method round``
    asked for it; ``True`` always stops, ``False`` never does.
    """
    if not checked.check_failed_for(method):
        return
    stop = opts.strict if opts.strict is not None else opts.method == "auto"
    if stop:
        raise AnalysisError(f"{source}: {checked.story('stop')}")
    log.warning("%s: going on with the rounding workaround although the size-factor check failed", source)


def _size_factor_choice(method: str, recovery: RecoveryResult | None) -> SizeFactorChoice:
    if method == "recover":
        assert recovery is not None
        return choose_size_factors(recovery)
    if method == "raw":
        return SizeFactorChoice("estimated", "estimated by DESeq2 on the raw counts: standard DESeq2", None)
    if method == "estimated":
        return SizeFactorChoice(
            "estimated",
            "estimated by DESeq2 on the rounded estimated counts, as for any table of counts that was never normalized",
            None,
        )
    return SizeFactorChoice(
        "fixed at 1", "every size factor set to 1: the table is already normalized (the rounding workaround)", None
    )


def _estimator(choice: SizeFactorChoice, sf_type: str, counts: pd.DataFrame) -> tuple[SizeFactorChoice, str]:
    """The ``estimateSizeFactors`` type where DESeq2 estimates: poscounts for a sparse table under ``ratio``."""
    if choice.source != "estimated":
        return choice, sf_type
    if sf_type == "ratio" and not has_complete_gene(counts.to_numpy()):
        why = (
            f"{choice.why}; every gene is zero in at least one sample, so median-of-ratios cannot be computed and "
            "DESeq2's poscounts estimator was used (estimateSizeFactors type 'poscounts')"
        )
        return replace(choice, why=why), "poscounts"
    if sf_type != "ratio":
        return replace(choice, why=f"{choice.why}; estimator: {sf_type} (--sf-type)"), sf_type
    return choice, sf_type


def _fit(
    plan: Plan,
    opts: AnalysisOptions,
    counts: pd.DataFrame,
    size_factors: np.ndarray | None,
    sf_type: str,
    threads: int,
) -> rbackend.FittedModel:
    """The main ``DESeq()`` fit, with ``threads`` workers for BiocParallel."""
    aliases = plan.aliases
    return rbackend.fit(
        counts,
        plan.coldata,
        aliases,
        plan.design.r_formula(aliases),
        size_factors,
        test=opts.test,
        reduced=(plan.reduced.r_formula(aliases) if plan.reduced else "~ 1") if opts.test == "lrt" else None,
        fit_type=opts.fit_type,
        threads=threads,
        sf_type=sf_type,
        beta_prior=opts.beta_prior,
        outlier_replacement=opts.outlier_replacement,
    )


def _test(plan: Plan, opts: AnalysisOptions, model: rbackend.FittedModel, shrink: str) -> dict[str, pd.DataFrame]:
    """Result table per output stem, in the model's gene order."""
    return {
        stem: rbackend.results(
            model,
            contrast,
            alpha=opts.alpha,
            lfc_threshold=opts.lfc_threshold,
            independent_filtering=opts.independent_filtering,
            cooks_cutoff=opts.cooks_cutoff,
            shrink=shrink,
        )
        for stem, contrast in plan.tests
    }


def _start_refits(plan: Plan, opts: AnalysisOptions, values: pd.DataFrame) -> rbackend.PendingRefits:
    """Start the rounding-sensitivity refits: DESeq2 on ``opts.rounding_sensitivity`` stochastic roundings."""
    k = opts.rounding_sensitivity
    refits = rbackend.start_refits(
        rounding.stochastic_roundings(values.to_numpy(), k, opts.seed),
        values.index,
        plan.coldata,
        plan.aliases,
        plan.design.r_formula(plan.aliases),
        contrasts=[contrast for _, contrast in plan.tests],
        test=opts.test,
        reduced=(plan.reduced.r_formula(plan.aliases) if plan.reduced else "~ 1") if opts.test == "lrt" else None,
        fit_type=opts.fit_type,
        beta_prior=opts.beta_prior,
        outlier_replacement=opts.outlier_replacement,
        alpha=opts.alpha,
        lfc_threshold=opts.lfc_threshold,
        independent_filtering=opts.independent_filtering,
        cooks_cutoff=opts.cooks_cutoff,
        threads=opts.threads,
    )
    if refits.forks:
        log.info(
            "rounding sensitivity: %d refits started in %d forked R process%s beside the main fit",
            k,
            refits.forks,
            "es" if refits.forks > 1 else "",
        )
    return refits


def _rounding_sensitivity(
    plan: Plan, opts: AnalysisOptions, refits: rbackend.PendingRefits, results: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """Collect the refits on stochastic roundings; add ``rounding_agreement`` to each results table."""
    k = opts.rounding_sensitivity
    directional = opts.test == "wald"
    main = {stem: rounding.calls(table, opts.alpha, directional) for stem, table in results.items()}
    with stage(f"rounding sensitivity: {k} refits"):
        tables = rbackend.collect_refits(refits)
    # Each refit has a table per test, in the order of plan.tests.
    reruns = {stem: [rounding.calls(refit[i], opts.alpha, directional) for refit in tables]
              for i, (stem, _) in enumerate(plan.tests)}  # fmt: skip
    per_contrast = {}
    for stem, table in results.items():
        agree = rounding.agreement(main[stem], reruns[stem])
        table["rounding_agreement"] = agree
        summary = rounding.summarize(main[stem], reruns[stem], agree)
        per_contrast[f"{stem}.tsv"] = summary
        log.warning(
            "rounding sensitivity, %s: %d of %d genes called DE in some run (%.1f%%) changed their call "
            "in at least one of %d stochastic roundings",
            stem,
            summary["unstable_calls"],
            summary["called_in_any_run"],
            100 * summary["unstable_fraction"],
            k,
        )
    return {
        "roundings": k,
        "seed": opts.seed,
        "alpha": opts.alpha,
        "column": "rounding_agreement: in how many roundings the gene's call (up, down, none) equals the main run's",
        "contrasts": per_contrast,
    }


def _report_check(checked: CheckResult, method: str) -> None:
    if not checked.check_failed_for(method):
        log.info("%s", checked.story(method))
        return
    log.warning("!" * 72)
    log.warning("%s", checked.story(method))
    log.warning("!" * 72)
