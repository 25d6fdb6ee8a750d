"""An :class:`AnalysisResult` built from plain pandas data, for the outputs, plots and report without R.

The table side is real: :func:`check_table` (pure pandas) validates and classifies the counts
and recovers their raw counts, :func:`plan_run` resolves design and contrast. The DESeq2 side
is stood in for: a results table per contrast from a plain Wald-like test on the normalized
counts, dispersions from a mean-variance rule, and a fitted-model handle that fails the test
when anything touches it. The writers, plots and report only read tables, so they get here
exactly what they get from a run.
"""

from __future__ import annotations

import math
import platform
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from deseq2_normalized import __version__
from deseq2_normalized.analysis import AnalysisOptions, AnalysisResult, CheckResult, MethodUsed, check_table
from deseq2_normalized.contrasts import Contrast, ResultSummary
from deseq2_normalized.planning import plan_run
from deseq2_normalized.recovery import choose_size_factors

#: What the versions section shows for R and DESeq2: no R ran.
NO_R = "none (built without R)"


class UntouchableModel:
    """Stands in for the fitted DESeqDataSet: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the fitted model was used ({name}): this path must not need R")

    def __reduce__(self) -> Any:
        raise AssertionError("the fitted model was used (pickled): this path must not need R")


def wald_like(normalized: pd.DataFrame, groups: pd.Series, contrast: Contrast) -> pd.DataFrame:
    """A DESeq2-shaped results table from a plain test on the normalized counts (no R).

    log2 fold change of the group means (+0.5), a Poisson-like standard error, two-sided
    normal p-values, Benjamini-Hochberg padj over the genes with a mean of at least 5 (the
    others NA, as after independent filtering); sorted by padj then pvalue, NA last.
    """
    num = normalized.loc[:, (groups == contrast.numerator).to_numpy()].mean(axis=1)
    den = normalized.loc[:, (groups == contrast.denominator).to_numpy()].mean(axis=1)
    base_mean = normalized.mean(axis=1)
    lfc = np.log2((num + 0.5) / (den + 0.5))
    se = np.sqrt(1 / (num + 0.5) + 1 / (den + 0.5)) / math.log(2) + 0.05
    stat = lfc / se
    pvalue = pd.Series([math.erfc(abs(z) / math.sqrt(2)) for z in stat], index=normalized.index)
    pvalue[base_mean == 0] = np.nan
    padj = pd.Series(np.nan, index=normalized.index)
    kept = pvalue[(base_mean >= 5) & pvalue.notna()].sort_values()
    ranked = kept.to_numpy() * len(kept) / np.arange(1, len(kept) + 1)
    padj[kept.index] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    table = pd.DataFrame(
        {"baseMean": base_mean, "log2FoldChange": lfc, "lfcSE": se, "stat": stat, "pvalue": pvalue, "padj": padj}
    )
    table.index.name = "gene_id"
    return table.sort_values(["padj", "pvalue"], na_position="last", kind="mergesort")


def calls(table: pd.DataFrame, alpha: float) -> ResultSummary:
    """Genes up and down at ``alpha`` and genes tested, counted from the table."""
    called = table["padj"] < alpha
    return ResultSummary(
        None,
        up=int((called & (table["log2FoldChange"] > 0)).sum()),
        down=int((called & (table["log2FoldChange"] < 0)).sum()),
        tested=int(table["padj"].notna().sum()),
    )


def dispersions(normalized: pd.DataFrame) -> pd.DataFrame:
    """Per-gene dispersions shaped as DESeq2's (gene-wise, trend, final, outlier), from a mean rule."""
    base_mean = normalized.mean(axis=1)
    variance = normalized.var(axis=1)
    mean = base_mean.where(base_mean > 0)
    gene = ((variance - mean) / mean**2).clip(lower=1e-8)
    fit = 0.01 + 1 / (mean + 1)
    final = np.exp((np.log(gene) + np.log(fit)) / 2)
    return pd.DataFrame(
        {"baseMean": base_mean, "dispGeneEst": gene, "dispFit": fit, "dispersion": final, "dispOutlier": 0.0}
    )


def build_result(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    options: AnalysisOptions,
    *,
    source: str = "counts.tsv",
    notes: tuple[str, ...] = (),
) -> AnalysisResult:
    """The result of a run on ``counts`` whose raw counts are recovered exactly, without R.

    Parameters
    ----------
    counts
        A DESeq2-normalized table (genes x samples) whose raw counts can be recovered.
    samples
        Its sample sheet (index sample names).
    options
        The run's options (``transform`` "none" or "vst": the vst is stood in for by
        log2(normalized + 1)).
    """
    options.validate()
    checked: CheckResult = check_table(counts, samples, sf_tolerance=options.sf_tolerance, source=source)
    assert checked.samples is not None and checked.classification is not None
    recovery = checked.classification.recovery
    assert recovery is not None and recovery.all_exact, "the table's raw counts must be recovered exactly"
    plan = plan_run(options, checked.samples)
    table = checked.size_factors.table.assign(recovered_size_factor=recovery.scales)
    checked = replace(checked, size_factors=replace(checked.size_factors, table=table))
    normalized = recovery.counts / recovery.scales
    results, summaries = {}, []
    for contrast in plan.contrasts:
        table = wald_like(normalized, plan.coldata[contrast.factor], contrast)
        results[contrast.stem] = table
        summaries.append(replace(calls(table, options.alpha), contrast=contrast))
    disp = dispersions(normalized)
    rounded = disp.assign(dispersion=disp["dispersion"] * 1.5)
    transformed = np.log2(normalized + 1) if options.transform != "none" else None
    method = MethodUsed(
        "recover",
        options.method,
        "every sample's raw counts recovered exactly",
        recovery,
        choose_size_factors(recovery),
        recovery.scales.rename(None),
    )
    versions = {
        "deseq2-normalized": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "R": NO_R,
        "DESeq2": NO_R,
    }
    return AnalysisResult(
        results,
        summaries,
        normalized,
        transformed,
        checked,
        disp,
        UntouchableModel(),  # type: ignore[arg-type]
        options=options,
        design=plan.design,
        method=method,
        source=source,
        notes=notes,
        versions=versions,
        coldata=plan.coldata,
        rounded_dispersions=rounded,
    )
