"""DESeq2 differential expression on a count matrix that is already DESeq2-normalized.

The public entry points are :func:`run_analysis` (the whole analysis, pandas in and out)
and :func:`check_table` (reading-free validation and the size-factor check).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from deseq2_normalized.errors import (
    AnalysisError,
    DESeq2NormalizedError,
    InputError,
    RError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from deseq2_normalized.analysis import (
        AnalysisResult,
        CheckResult,
        check_table,
        run_analysis,
    )
    from deseq2_normalized.options import AnalysisOptions

# Imported on first use: the analysis brings numpy and pandas, and the command line starts
# R before those (see deseq2_normalized.cli).
_LAZY = {
    "AnalysisOptions": "deseq2_normalized.options",
    "AnalysisResult": "deseq2_normalized.analysis",
    "CheckResult": "deseq2_normalized.analysis",
    "check_table": "deseq2_normalized.analysis",
    "run_analysis": "deseq2_normalized.analysis",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deseq2_normalized' has no attribute '{name}'")


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
