"""The JSON-ready record of a run (``diagnostics.json``), built from its typed result.

Built once, when the outputs are written; the plots and the report read the result's
typed fields instead.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from deseq2_normalized import rbackend
from deseq2_normalized.classify import APPROXIMATE_RECOVERY, approximation_note
from deseq2_normalized.options import described

if TYPE_CHECKING:
    from deseq2_normalized.contrasts import ResultSummary
    from deseq2_normalized.results import AnalysisResult, MethodUsed


def software_versions() -> dict[str, str]:
    """Versions of this package, Python, numpy, pandas, R, DESeq2 and rpy2."""
    from deseq2_normalized import __version__

    out = {"deseq2-normalized": __version__, "python": platform.python_version()}
    out.update({"numpy": np.__version__, "pandas": pd.__version__})
    out.update(rbackend.versions())
    return out


def build_diagnostics(result: AnalysisResult) -> dict[str, Any]:
    """The record of a run as ``diagnostics.json`` holds it.

    Parameters
    ----------
    result
        The run.

    Returns
    -------
    dict
        JSON-ready: inputs, the size-factor check and its verdict, the table's
        classification, design, test, options, one entry per results table, software
        versions, the method used and, when run, the rounding sensitivity.
    """
    checked, opts = result.check, result.options
    record: dict[str, Any] = {
        "input": {
            "counts": result.source,
            "genes": int(checked.counts.shape[0]),
            "genes_fitted": int(result.normalized.shape[0]),
            "samples": int(checked.counts.shape[1]),
            "non_integer_fraction": checked.non_integer_fraction,
            "reading_notes": list(result.notes),
        },
        "size_factor_check": checked.size_factors.to_dict(),
        "verdict": checked.story(result.method.name),
        "classification": checked.classification.to_dict() if checked.classification else None,
        "design": result.design.text(),
        "test": opts.test,
        "options": options_record(result),
        "contrasts": [_summary_record(s) for s in result.summaries],
        "versions": dict(result.versions),
        "method": _method_record(result.method),
    }
    if result.rounding_sensitivity is not None:
        record["rounding_sensitivity"] = result.rounding_sensitivity.to_dict()
    return record


def options_record(result: AnalysisResult) -> dict[str, Any]:
    """``diagnostics.json``'s ``options``: every option declared ``recorded=True``, in field order.

    Each option is recorded under its field's name (:func:`~deseq2_normalized.options.option`),
    lists as JSON lists; ``numeric_columns`` is what the run settled, the design's numeric
    covariates, whether named or inferred from the sample sheet.
    """
    settled = {"numeric_columns": numeric_covariates(result)}
    return {
        f.name: settled.get(f.name, _plain(getattr(result.options, f.name)))
        for f, _shown in described(where="diagnostics")
    }


def numeric_covariates(result: AnalysisResult) -> list[str]:
    """The design's columns that entered the fit as numbers, in column order (none without a colData)."""
    if result.coldata is None:
        return []
    factors = set(result.coldata.select_dtypes("category").columns)
    return [str(c) for c in result.coldata.columns if c not in factors]


def _plain(value: Any) -> Any:
    """An option's value as JSON holds it: a tuple as a list."""
    return list(value) if isinstance(value, tuple) else value


def _summary_record(summary: ResultSummary) -> dict[str, Any]:
    head: dict[str, Any] = {"file": summary.file, "test": summary.test}
    if summary.contrast is None:
        head["reduced"] = summary.reduced
    else:
        c = summary.contrast
        head.update(factor=c.factor, numerator=c.numerator, denominator=c.denominator)
    return {**head, "up": summary.up, "down": summary.down, "tested": summary.tested}


def _method_record(method: MethodUsed) -> dict[str, Any]:
    approximate_recovery = method.name == "recover" and method.recovery is not None and method.recovery.approximate
    record: dict[str, Any] = {
        "name": method.name,
        "requested": method.requested,
        "description": method.description,
        "why": method.why,
        # The rounding workaround and counts left open by the digits only approximate the original analysis.
        "approximate": method.name == "round" or approximate_recovery,
        "approximation": approximation_note(method.requested)
        if method.name == "round"
        else APPROXIMATE_RECOVERY
        if approximate_recovery
        else None,
        "size_factors": {
            "source": method.size_factors.source,
            "why": method.size_factors.why,
            "values": {str(k): float(v) for k, v in method.size_factor_values.items()},
        },
    }
    if method.recovery is not None:
        record["recovery"] = method.recovery.to_dict()
    return record
