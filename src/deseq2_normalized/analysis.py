"""The analysis as a library: pandas DataFrames in, result tables and a typed result out.

Validation and the size-factor check run in pure pandas/numpy first; only then does any
data reach R (DESeq2), through :mod:`deseq2_normalized.rbackend`. R loads DESeq2 in the
background meanwhile, so the checks cost no time of their own. The options are in
:mod:`~deseq2_normalized.options`, the design and contrasts are resolved by
:mod:`~deseq2_normalized.planning`, the result types are in :mod:`~deseq2_normalized.results`,
the verdict's words in :mod:`~deseq2_normalized.verdict`, the rounding-sensitivity refits in
:mod:`~deseq2_normalized.sensitivity`, and :mod:`~deseq2_normalized.diagnostics` turns a
result into the record of ``diagnostics.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from deseq2_normalized import rbackend, sensitivity
from deseq2_normalized.choices import Method
from deseq2_normalized.classify import (
    APPROXIMATE_RECOVERY,
    approximation_note,
    classify_table,
    non_integer_fraction,
)
from deseq2_normalized.contrasts import LRT_STEM, Contrast, ResultSummary
from deseq2_normalized.diagnostics import software_versions
from deseq2_normalized.errors import AnalysisError, InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import Plan, plan_run, settle_request
from deseq2_normalized.progress import stage
from deseq2_normalized.recovery import RecoveryResult, SizeFactorChoice, choose_size_factors
from deseq2_normalized.results import AnalysisResult, CheckResult, MethodName, MethodUsed
from deseq2_normalized.samplesheet import SampleSheet, as_sample_sheet
from deseq2_normalized.sizefactors import check_size_factors, has_complete_gene
from deseq2_normalized.validate import match_samples, validate_counts
from deseq2_normalized.verdict import log_check

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


def check_table(
    counts: pd.DataFrame,
    samples: SampleSheet | pd.DataFrame | None = None,
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
        Optional sample sheet to match against the matrix: as :func:`~deseq2_normalized.reader.read_samples`
        reads it, or a table (index sample names, columns design variables).
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
    if samples is not None:
        sheet = as_sample_sheet(samples)
        matched = match_samples(sheet.table, list(values.columns), sheet.source).table
    else:
        matched = None
    classification = classify_table(values, sf_tolerance)
    if classification.pseudocount is not None:
        # Everything after this (rounding, the check, the fit) sees the table less its constant.
        shifted = values - classification.offset
        values = shifted.where(shifted.abs() > 1e-9 * classification.offset, 0.0)
    non_integer = non_integer_fraction(values.to_numpy(dtype=np.float64))
    sf = classification.size_factors
    if sf is None:
        try:
            sf = check_size_factors(values, sf_tolerance, rounding=True)
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
    return CheckResult(values, non_integer, sf, matched, classification)


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
    samples: SampleSheet | pd.DataFrame,
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
        Sample sheet, as :func:`~deseq2_normalized.reader.read_samples` reads it (then
        ``factor`` and ``blocking`` may name columns by their number in the file), or a
        table: index sample names, columns design variables.
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
    >>> sheet = read_samples("samples.tsv")  # doctest: +SKIP
    >>> run_analysis(counts, sheet, factor="3", blocking=("batch",), pick_reference=True)  # doctest: +SKIP
    """
    opts = replace(options or AnalysisOptions(), **overrides)
    opts.validate()
    rbackend.start_in_background()
    sheet = as_sample_sheet(samples)
    request = settle_request(opts, sheet)
    opts = request.options
    with stage("checking"):
        checked = check_table(counts, sheet, sf_tolerance=opts.sf_tolerance, source=source)
        assert checked.samples is not None
        plan = plan_run(opts, checked.samples, request)
    method, why, recovery = _choose_method(opts.method, checked, source)
    log_check(checked, method)
    log.info("method: %s (%s)", _METHOD_NAMES[method], why)
    _stop_or_warn(checked, method, opts, source)
    if method == "round":
        log.warning("%s", approximation_note(opts.method))
    elif recovery is not None and recovery.approximate:
        log.warning("%s: counts the written digits leave open were set to their midpoints: %s", source,
                    APPROXIMATE_RECOVERY)  # fmt: skip

    counts_in = recovery.counts if recovery is not None else checked.rounded
    kept = _prefiltered(counts_in, opts.prefilter, source)
    if kept is not None:
        counts_in = counts_in[kept]
    choice, sf_type = _estimator(
        _size_factor_choice(method, recovery, checked.size_factors.passed), opts.sf_type, counts_in
    )
    if kept is not None and choice.source == "estimated":
        choice = replace(choice, why=f"{choice.why}; estimated on the genes --prefilter kept, as after dds[keep, ]")
    if choice.warning:
        log.warning("%s: size factors: %s", source, choice.why)
    else:
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
        refits = sensitivity.start(plan, opts, checked.counts if kept is None else checked.counts[kept])
    elif opts.rounding_sensitivity:
        log.info("rounding sensitivity skipped: the counts were recovered exactly, nothing was rounded")
    try:
        threads = opts.threads - (refits.forks if refits is not None else 0)
        with stage(f"fitting {counts_in.shape[0]} genes x {counts_in.shape[1]} samples"):
            model = _fit(plan, opts, counts_in, size_factors, sf_type, threads)
        with stage("extracting results"):
            tables = _test(plan, opts, model)
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
            table = checked.size_factors.table.assign(recovered_size_factor=recovery.scales)
            checked = replace(checked, size_factors=replace(checked.size_factors, table=table))
        rounded_disp = None
        if recovery is not None and opts.compare_rounded:
            with stage("dispersions of the rounded table, for comparison"):
                rounded_disp = rbackend.rounded_dispersions(
                    checked.rounded if kept is None else checked.rounded[kept],
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
            pending_refits=refits,
        )
    except BaseException:
        if refits is not None:
            refits.stop()
        raise
    return result.collect_refits() if wait_for_refits else result


#: How the stderr line and the report name each method.
_METHOD_NAMES = {"round": "round", "recover": "recover", "raw": "raw counts", "estimated": "estimated counts"}


def _choose_method(
    requested: Method, checked: CheckResult, source: str
) -> tuple[MethodName, str, RecoveryResult | None]:
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


def _prefiltered(counts: pd.DataFrame, minimum: int, source: str) -> np.ndarray | None:
    """Genes whose counts add up to at least ``minimum`` (None: no pre-filter), as the DESeq2 vignette keeps them.

    The sums are of the counts DESeq2 gets (recovered or rounded), so DESeq2's size-factor
    estimate, where it runs, sees the kept genes only, as after ``dds[keep, ]``.
    """
    if minimum <= 0:
        return None
    keep = counts.to_numpy().sum(axis=1, dtype=np.float64) >= minimum
    kept = int(keep.sum())
    if kept == 0:
        raise InputError(f"{source}: --prefilter {minimum}: no gene's counts add up to {minimum} or more")
    log.info(
        "pre-filter: %d of %d genes have counts adding up to at least %d and are fitted; %d left out",
        kept,
        len(keep),
        minimum,
        len(keep) - kept,
    )
    return keep


def _size_factor_choice(
    method: MethodName, recovery: RecoveryResult | None, table_check_passed: bool
) -> SizeFactorChoice:
    if method == "recover":
        assert recovery is not None
        return choose_size_factors(recovery, table_check_passed)
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
        options=opts.fit_options,
        threads=threads,
        sf_type=sf_type,
    )


def _test(plan: Plan, opts: AnalysisOptions, model: rbackend.FittedModel) -> dict[str, pd.DataFrame]:
    """Result table per output stem, in the model's gene order."""
    return {stem: rbackend.results(model, contrast, opts.results_options) for stem, contrast in plan.tests}
