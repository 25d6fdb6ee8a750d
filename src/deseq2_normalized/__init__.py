"""DESeq2 differential expression on a count matrix that is already DESeq2-normalized.

The public entry points are :func:`run_analysis` (the whole analysis, pandas in and out)
and :func:`check_table` (reading-free validation and the size-factor check).
"""

from __future__ import annotations

__version__ = "0.1.0"

from deseq2_normalized.analysis import (
    AnalysisOptions,
    AnalysisResult,
    CheckResult,
    check_table,
    run_analysis,
)
from deseq2_normalized.errors import (
    AnalysisError,
    DESeq2NormalizedError,
    InputError,
    RError,
)

__all__ = [
    "AnalysisError",
    "AnalysisOptions",
    "AnalysisResult",
    "CheckResult",
    "DESeq2NormalizedError",
    "InputError",
    "RError",
    "__version__",
    "check_table",
    "run_analysis",
]
