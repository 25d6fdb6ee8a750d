"""The analysis as a library: pandas DataFrames in, result tables and diagnostics out.

Validation and the size-factor check run in pure pandas/numpy first; only then does any
data reach R (DESeq2), through :mod:`deseq2_normalized.rbackend`. R loads DESeq2 in the
background meanwhile, so the checks cost no time of their own.
"""

from __future__ import annotations

import logging
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from deseq2_normalized import rbackend, rounding
from deseq2_normalized.classify import Classification, classify_table
from deseq2_normalized.design import Design, default_design, parse_design, r_aliases
from deseq2_normalized.errors import AnalysisError, InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.progress import stage
from deseq2_normalized.recovery import RecoveryResult, SizeFactorChoice, choose_size_factors
from deseq2_normalized.sizefactors import SizeFactorCheck, check_size_factors
from deseq2_normalized.validate import match_samples, validate_counts

# Names other modules and callers import from here.
__all__ = [
    "AnalysisOptions",
    "AnalysisResult",
    "CheckResult",
    "Contrast",
    "check_table",
    "run_analysis",
    "software_versions",
]

log = logging.getLogger(__name__)

#: Table kinds ``run`` refuses: they are not counts, and rounding them would be meaningless.
_NOT_COUNTS = ("log-scale values", "VST/rlog-like")


@dataclass(frozen=True)
class Contrast:
    """One contrast and the file stem its results are written under."""

    factor: str
    numerator: str
    denominator: str

    @property
    def stem(self) -> str:
        """``results_<factor>_<numerator>_vs_<denominator>`` with file-safe characters."""
        return "results_" + "_".join(_file_safe(x) for x in (self.factor, self.numerator, "vs", self.denominator))


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-.") or "x"


@dataclass
class CheckResult:
    """What ``check`` learns about a table without fitting anything.

    Attributes
    ----------
    counts
        The validated table (float64).
    rounded
        The table rounded to integers (half to even, as R's ``round``).
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
    def default_method(self) -> str:
        """What ``--method auto`` does with this table: ``recover``, ``raw`` or ``round``."""
        cls = self.classification
        if cls is not None and cls.recoverable:
            return "recover"
        if cls is not None and cls.kind == "raw_counts":
            return "raw"
        return "round"

    def check_failed_for(self, method: str) -> bool:
        """Whether the size-factor check failed where it matters: only the rounding method relies on it."""
        return method == "round" and not self.size_factors.passed

    def story(self, method: str) -> str:
        """One verdict on the table for ``method``: the classification and the size-factor check together.

        Recovered raw counts outrank the size-factor heuristic (it only guards the rounding
        workaround); a table of raw counts is analysed as such.
        """
        sf = self.size_factors
        band = f"a factor {1 + sf.tolerance:g} of 1 (largest deviation {sf.max_deviation:.3f})"
        check = (
            f"size-factor check passed: every relative size factor is within {band}"
            if sf.passed
            else f"size-factor check failed: relative size factors of {', '.join(sf.failing)} lie outside {band}"
        )
        cls = self.classification
        if method == "recover" and cls is not None and cls.recovery is not None:
            recovered = "exactly" if cls.recovery.all_exact else "within the stated bound"
            text = f"raw counts recovered {recovered} from the table ({cls.detail}); {check}"
            if cls.detail == "DESeq2 median-of-ratios":
                return text + ", as expected for a DESeq2-normalized table"
            if sf.passed and cls.detail in ("CPM", "upper quartile"):
                return f"{text}, yet the table is {cls.detail}-scaled, not DESeq2-normalized: recovered counts decide"
            if sf.passed:
                return f"{text}, consistent with DESeq2 normalization on a larger gene or sample set"
            return (
                f"{text}, as expected for a table not normalized by DESeq2 on exactly these genes and samples; "
                "the recovered counts outrank the check"
            )
        if method == "raw":
            return (
                f"the table holds whole numbers: raw counts, analysed with standard DESeq2 (size factors "
                f"estimated by DESeq2); {check}"
            )
        if sf.passed:
            looks = "the table looks DESeq2-normalized"
            if cls is not None and cls.kind == "scaled_counts" and cls.detail in ("CPM", "upper quartile"):
                looks = f"but the table is {cls.detail}-scaled, not DESeq2-normalized: results are approximate"
            elif cls is not None and cls.kind == "raw_counts":
                looks = "the table holds whole numbers (raw counts, or normalized counts written as whole numbers)"
            return f"{check}; {looks}"
        return (
            f"size-factor check FAILED: relative size factors of {', '.join(sf.failing)} lie outside {band}; "
            "the table is probably not DESeq2-normalized and results from rounding it cannot be trusted. "
            + self.explanation
        )

    @property
    def verdict(self) -> str:
        """The verdict on the table for what the default ``--method auto`` does with it."""
        return self.story(self.default_method)

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


@dataclass
class AnalysisResult:
    """Everything a run produces.

    Attributes
    ----------
    results
        Result table per output stem (``results_...``), sorted by padj then pvalue, NA last.
    contrasts
        Per result: factor, levels, genes up and down at ``alpha``.
    normalized
        DESeq2's normalized counts.
    transformed
        The vst or rlog assay, or ``None``.
    check
        The size-factor check and input facts.
    dispersions
        Per-gene dispersion estimates (for plots).
    diagnostics
        JSON-ready record of the run.
    model
        Handle on the fitted DESeqDataSet in R.
    coldata
        Samples x design variables (categorical, reference level first), as given to DESeq2.
    rounded_dispersions
        When the counts were recovered (and ``compare_rounded``): per-gene dispersions
        estimated from the rounded table with size factors 1, for comparison.
    """

    results: dict[str, pd.DataFrame]
    contrasts: list[dict[str, Any]]
    normalized: pd.DataFrame
    transformed: pd.DataFrame | None
    check: CheckResult
    dispersions: pd.DataFrame
    diagnostics: dict[str, Any]
    model: rbackend.FittedModel = field(repr=False)
    coldata: pd.DataFrame | None = None
    rounded_dispersions: pd.DataFrame | None = None


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
    rounded = pd.DataFrame(np.rint(values.to_numpy()), index=values.index, columns=values.columns)
    non_integer = float(np.mean(values.to_numpy() != rounded.to_numpy()))
    try:
        sf = check_size_factors(rounded, sf_tolerance)
    except ValueError:
        raise InputError(
            f"{source}: every gene is zero in at least one sample, so size factors cannot be estimated "
            "and the size-factor check cannot be run"
        ) from None
    return CheckResult(values, rounded, non_integer, sf, matched, classify_table(values))


def _parse_reduced(text: str, columns: list[str], full: Design) -> Design | None:
    """Parse the reduced formula; ``~ 1`` (intercept only) gives ``None``."""
    if re.fullmatch(r"\s*~\s*1\s*", text):
        return None
    reduced = parse_design(text, columns)
    extra = set(reduced.variables) - set(full.variables)
    if extra:
        raise InputError(f"--reduced '{text}': names {', '.join(sorted(extra))}, which the full design does not")
    return reduced


def _resolve_contrasts(opts: AnalysisOptions, design: Design, coldata: pd.DataFrame) -> list[Contrast]:
    if opts.contrasts:
        out = []
        for factor, num, den in opts.contrasts:
            if factor not in design.variables:
                raise InputError(f"--contrast {factor},{num},{den}: '{factor}' is not in the design ({design.text()})")
            levels = list(coldata[factor].cat.categories)
            for level in (num, den):
                if level not in levels:
                    raise InputError(
                        f"--contrast {factor},{num},{den}: '{level}' is not a level of '{factor}' "
                        f"(levels: {', '.join(levels)})"
                    )
            if num == den:
                raise InputError(f"--contrast {factor},{num},{den}: numerator and denominator are the same level")
            out.append(Contrast(factor, num, den))
        return out
    factor = design.variables[-1]
    levels = list(coldata[factor].cat.categories)
    return [Contrast(factor, level, levels[0]) for level in levels[1:]]


def _prepare_coldata(table: pd.DataFrame, design: Design, reference: str | None) -> pd.DataFrame:
    coldata = table[list(design.variables)].copy()
    for name in design.variables:
        levels = list(coldata[name].cat.categories)
        if len(levels) < 2:
            raise InputError(f"sample sheet: factor '{name}' has a single level ('{levels[0]}'); it cannot be tested")
    last = design.variables[-1]
    if reference is not None:
        levels = list(coldata[last].cat.categories)
        if reference not in levels:
            raise InputError(f"--reference '{reference}' is not a level of '{last}' (levels: {', '.join(levels)})")
        coldata[last] = coldata[last].cat.reorder_categories([reference] + [x for x in levels if x != reference])
    return coldata


def _sorted_results(table: pd.DataFrame) -> pd.DataFrame:
    out = table.sort_values(["padj", "pvalue"], na_position="last", kind="mergesort")
    out.index.name = "gene_id"
    return out


def _count_calls(table: pd.DataFrame, alpha: float) -> dict[str, int]:
    sig = table["padj"] < alpha
    return {
        "up": int((sig & (table["log2FoldChange"] > 0)).sum()),
        "down": int((sig & (table["log2FoldChange"] < 0)).sum()),
        "tested": int(table["padj"].notna().sum()),
    }


def run_analysis(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    options: AnalysisOptions | None = None,
    *,
    source: str = "counts",
    notes: Sequence[str] = (),
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
        plan = _plan(opts, checked)
    method, why, recovery = _choose_method(opts.method, checked, source)
    _report_check(checked, method)
    log.info("method: %s (%s)", _METHOD_NAMES[method], why)
    if opts.strict and checked.check_failed_for(method):
        raise AnalysisError(f"--strict: {checked.story(method)}")

    choice = _size_factor_choice(method, recovery)
    log.info("size factors: %s", choice.why)
    counts_in = recovery.counts if recovery is not None else checked.rounded
    size_factors = choice.values if choice.source != "fixed at 1" else np.ones(counts_in.shape[1])
    with stage(f"fitting {counts_in.shape[0]} genes x {counts_in.shape[1]} samples"):
        model = _fit(plan, opts, counts_in, size_factors)
    with stage("extracting results"):
        tables = _test(plan, opts, model, opts.shrink)
        results = {stem: _sorted_results(table) for stem, table in tables.items()}
        summaries = [{**meta, **_count_calls(results[stem], opts.alpha)} for stem, meta in plan.outputs.items()]
        normalized = rbackend.normalized_counts(model)
        transformed = rbackend.transformed_counts(model, opts.transform) if opts.transform != "none" else None
        disp = rbackend.dispersions(model)
    for s in summaries:
        log.info("%s: %d up, %d down at padj < %g", s["file"], s["up"], s["down"], opts.alpha)
    diagnostics = _diagnostics(opts, checked, plan.design, summaries, source, method)
    diagnostics["input"]["reading_notes"] = list(notes)
    diagnostics["method"] = _method_record(opts.method, method, why, recovery, choice, rbackend.size_factors(model))
    if recovery is not None:
        checked.size_factors.table["recovered_size_factor"] = recovery.scales
    if opts.rounding_sensitivity and method == "round":
        diagnostics["rounding_sensitivity"] = _rounding_sensitivity(plan, opts, checked.counts, results)
    elif opts.rounding_sensitivity:
        log.info("rounding sensitivity skipped: the counts were recovered exactly, nothing was rounded")
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
    return AnalysisResult(
        results, summaries, normalized, transformed, checked, disp, diagnostics, model, plan.coldata, rounded_disp
    )


#: How the stderr line and the report name each method.
_METHOD_NAMES = {"round": "round", "recover": "recover", "raw": "raw counts"}


def _choose_method(requested: str, checked: CheckResult, source: str) -> tuple[str, str, RecoveryResult | None]:
    """Pick round, recover or raw (standard DESeq2), refusing tables that are not counts at all."""
    cls = checked.classification
    assert cls is not None
    if cls.kind == "log_counts" or cls.detail in _NOT_COUNTS:
        raise InputError(
            f"{source}: this table is {cls.detail}, not counts; {cls.recommendation} "
            "(run 'deseq2-normalized check' for the evidence)"
        )
    recovery = cls.recovery
    if requested == "round":
        return "round", "requested: rounded table, size factors 1", None
    if requested == "recover":
        if cls.kind == "raw_counts":
            raise InputError(
                f"{source}: --method recover: every value is a whole number, nothing to recover; "
                "the default --method auto analyses such a table with standard DESeq2"
            )
        if recovery is None or not recovery.usable:
            detail = recovery.summary() if recovery is not None else cls.detail
            raise InputError(f"{source}: --method recover: raw counts cannot be recovered: {detail}")
        return "recover", f"every sample recovered: {recovery.summary()}", recovery
    if cls.recoverable and recovery is not None:
        return "recover", f"auto: {recovery.summary()}", recovery
    if cls.kind == "raw_counts":
        return (
            "raw",
            "auto: every value is a whole number, so the table holds raw counts (or counts written as whole "
            "numbers): standard DESeq2 on them, size factors estimated by DESeq2",
            None,
        )
    reason = recovery.summary() if recovery is not None else cls.detail
    return "round", f"auto: raw counts cannot be recovered ({reason}), so the table was rounded", None


def _size_factor_choice(method: str, recovery: RecoveryResult | None) -> SizeFactorChoice:
    if method == "recover":
        assert recovery is not None
        return choose_size_factors(recovery)
    if method == "raw":
        return SizeFactorChoice(
            "estimated", "estimated by DESeq2 (median-of-ratios) on the raw counts: standard DESeq2", None
        )
    return SizeFactorChoice(
        "fixed at 1", "every size factor set to 1: the table is already normalized (the rounding workaround)", None
    )


def _method_record(
    requested: str,
    used: str,
    why: str,
    recovery: RecoveryResult | None,
    choice: SizeFactorChoice,
    size_factors: pd.Series,
) -> dict[str, Any]:
    description = {
        "round": "normalized table rounded to integers; every DESeq2 size factor set to 1",
        "recover": "raw integer counts recovered from the normalized table; DESeq2 on them",
        "raw": "the table holds raw counts: standard DESeq2, size factors estimated by DESeq2",
    }[used]
    record: dict[str, Any] = {
        "name": used,
        "requested": requested,
        "description": description,
        "why": why,
        "size_factors": {
            "source": choice.source,
            "why": choice.why,
            "values": {str(k): float(v) for k, v in size_factors.items()},
        },
    }
    if recovery is not None:
        record["recovery"] = recovery.to_dict()
    return record


@dataclass(frozen=True)
class _Plan:
    """Everything resolved in Python before any data reaches R."""

    design: Design
    reduced: Design | None
    coldata: pd.DataFrame
    contrasts: list[Contrast]
    aliases: dict[str, str]

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        """Result stem to its description, in output order."""
        if not self.contrasts:
            return {"results_lrt": {"file": "results_lrt.tsv", "test": "LRT", "reduced": self.reduced_text}}
        return {
            c.stem: {
                "file": f"{c.stem}.tsv",
                "test": "Wald",
                "factor": c.factor,
                "numerator": c.numerator,
                "denominator": c.denominator,
            }
            for c in self.contrasts
        }

    @property
    def reduced_text(self) -> str:
        return self.reduced.text() if self.reduced else "~ 1"


def _plan(opts: AnalysisOptions, checked: CheckResult) -> _Plan:
    assert checked.samples is not None
    columns = list(checked.samples.columns)
    design = parse_design(opts.design, columns) if opts.design else default_design(columns)
    reduced = _parse_reduced(opts.reduced, columns, design) if opts.reduced else None
    coldata = _prepare_coldata(checked.samples, design, opts.reference)
    contrasts = [] if opts.test == "lrt" else _resolve_contrasts(opts, design, coldata)
    if opts.shrink in ("ashr", "apeglm") and not rbackend.has_r_package(opts.shrink):
        raise InputError(f"--shrink {opts.shrink} needs the R package '{opts.shrink}', which is not installed")
    return _Plan(design, reduced, coldata, contrasts, r_aliases(list(design.variables)))


def _fit(
    plan: _Plan, opts: AnalysisOptions, counts: pd.DataFrame, size_factors: np.ndarray | None
) -> rbackend.FittedModel:
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
        threads=opts.threads,
    )


def _test(plan: _Plan, opts: AnalysisOptions, model: rbackend.FittedModel, shrink: str) -> dict[str, pd.DataFrame]:
    """Result table per output stem, in the model's gene order."""
    contrasts: list[tuple[str, tuple[str, str, str] | None]] = [
        (c.stem, (plan.aliases[c.factor], c.numerator, c.denominator)) for c in plan.contrasts
    ] or [("results_lrt", None)]
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
        for stem, contrast in contrasts
    }


def _rounding_sensitivity(
    plan: _Plan, opts: AnalysisOptions, values: pd.DataFrame, results: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """Rerun DESeq2 on stochastic roundings; add ``rounding_agreement`` to each results table."""
    k = opts.rounding_sensitivity
    directional = opts.test == "wald"
    main = {stem: rounding.calls(table, opts.alpha, directional) for stem, table in results.items()}
    reruns: dict[str, list[pd.Series]] = {stem: [] for stem in results}
    roundings = rounding.stochastic_roundings(values.to_numpy(), k, opts.seed)
    for i, matrix in enumerate(roundings, start=1):
        with stage(f"rounding sensitivity: refit {i} of {k}"):
            counts = pd.DataFrame(matrix, index=values.index, columns=values.columns)
            tables = _test(plan, opts, _fit(plan, opts, counts, np.ones(counts.shape[1])), "none")
            for stem, table in tables.items():
                reruns[stem].append(rounding.calls(table, opts.alpha, directional))
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


def software_versions() -> dict[str, str]:
    """Versions of this package, Python, numpy, pandas, R, DESeq2 and rpy2."""
    from deseq2_normalized import __version__

    out = {"deseq2-normalized": __version__, "python": platform.python_version()}
    out.update({"numpy": np.__version__, "pandas": pd.__version__})
    out.update(rbackend.versions())
    return out


def _diagnostics(
    opts: AnalysisOptions,
    checked: CheckResult,
    design: Design,
    summaries: list[dict[str, Any]],
    source: str,
    method: str,
) -> dict[str, Any]:
    return {
        "input": {
            "counts": source,
            **{k: v for k, v in checked.to_dict().items() if k in ("genes", "samples")},
            "non_integer_fraction": checked.non_integer_fraction,
        },
        "size_factor_check": checked.size_factors.to_dict(),
        "verdict": checked.story(method),
        "classification": checked.classification.to_dict() if checked.classification else None,
        "design": design.text(),
        "test": opts.test,
        "options": {
            "fit_type": opts.fit_type,
            "alpha": opts.alpha,
            "lfc_threshold": opts.lfc_threshold,
            "independent_filtering": opts.independent_filtering,
            "cooks_cutoff": opts.cooks_cutoff,
            "shrink": opts.shrink,
            "transform": opts.transform,
            "threads": opts.threads,
            "reference": opts.reference,
            "strict": opts.strict,
        },
        "contrasts": summaries,
        "versions": software_versions(),
    }
