"""Names in a table: the check of sample and column names, and name lists in messages."""

from __future__ import annotations

from collections.abc import Sequence

from deseq2_normalized.errors import InputError

#: Column names of differential-expression results (DESeq2, edgeR, limma): errors on such a column say so.
RESULT_COLUMNS = frozenset(
    c.casefold()
    for c in (
        "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "logFC", "logCPM", "PValue", "FDR",
        "AveExpr", "P.Value", "adj.P.Val", "qvalue", "p_val_adj", "avg_log2FC",
    )
)  # fmt: skip


def check_names(names: list[str], where: str, what: str) -> None:
    """Refuse empty names and names equal up to surrounding whitespace or letter case.

    Parameters
    ----------
    names
        The names, already stripped of surrounding whitespace.
    where
        Prefix of the error message (file and part of the file).
    what
        What a name is ("sample name", "gene ID").
    """
    seen: dict[str, str] = {}
    for i, name in enumerate(names):
        if name == "":
            raise InputError(f"{where}: {what} number {i + 1} is empty")
        key = name.casefold()
        if key in seen:
            other = seen[key]
            kind = "is duplicated" if other == name else f"and '{other}' differ only by letter case"
            raise InputError(f"{where}: {what} '{name}' {kind}")
        seen[key] = name


def _quoted(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
