"""The recovered raw counts as a count matrix of their own, for any count tool.

edgeR, limma-voom and DESeq2 itself start from raw integer counts. When every sample of a
normalized table is recovered (verdict *exact* or *bounded*, see
:mod:`deseq2_normalized.recovery`), its counts are written as one tab-separated matrix:
``gene_id``, then one column per sample, every gene of the table in input order. Any other
table is refused with the reason, and nothing is written.

``deseq2-normalized recover`` writes the file on its own (:func:`write_file`: a temporary
file in the same folder, renamed into place when complete); ``run`` writes the same matrix
as ``recovered_counts.tsv`` among its staged outputs (:func:`write_matrix`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from deseq2_normalized.errors import InputError, OutputError
from deseq2_normalized.outputs import write_table

if TYPE_CHECKING:
    from deseq2_normalized.classify import Classification

#: The file name of the recovered counts among ``run``'s outputs.
FILE_NAME = "recovered_counts.tsv"
#: The header of the gene-ID column.
INDEX_LABEL = "gene_id"


def recovered_counts(classification: Classification | None, source: str) -> pd.DataFrame:
    """The recovered integer counts of a classified table, or an error naming why there are none.

    Parameters
    ----------
    classification
        The table's classification (``check_table(...).classification``).
    source
        The table's name in messages.

    Returns
    -------
    pandas.DataFrame
        int64 genes x samples counts (index gene IDs), every gene of the table in its order.

    Raises
    ------
    InputError
        When some sample is neither exact nor bounded, or the table is of a kind that holds
        no recoverable counts (raw counts, a log transform, TPM, ...); the message says which.
    """
    if classification is not None and classification.recoverable and classification.recovery is not None:
        return classification.recovery.counts.astype(np.int64)
    raise InputError(refusal(classification, source))


def refusal(classification: Classification | None, source: str) -> str:
    """One line on why no counts are recovered from a table: its kind, or the samples that fail and why.

    Parameters
    ----------
    classification
        The table's classification, or None when the table was not classified.
    source
        The table's name.

    Returns
    -------
    str
        The message, starting with ``source``.
    """
    if classification is None:
        return f"{source}: the table could not be classified, so no raw counts were recovered"
    kind, detail = classification.kind, classification.detail
    if kind == "raw_counts":
        return (
            f"{source}: every value is a whole number: these look like raw counts already, nothing to recover; "
            "give this table to the count tool as it is"
        )
    if kind == "log_counts" or "log" in detail.lower() or "vst" in detail.lower():
        return (
            f"{source}: this is a log-scale table ({detail}), not counts scaled per sample, so no raw counts are "
            f"recovered from it as it is; {classification.recommendation}"
        )
    if kind == "estimated_counts":
        return (
            f"{source}: the table holds {detail}: there are no raw counts behind it to recover; give it to the "
            "count tool as it is (edgeR and limma-voom take estimated counts; DESeq2 takes them rounded, as "
            "deseq2-normalized run does)"
        )
    what = detail if kind in ("not_recoverable", "normalized_unrecoverable") else f"{kind.replace('_', ' ')}, {detail}"
    recovery = classification.recovery
    if recovery is not None and recovery.approximate:
        return (
            f"{source}: raw counts cannot be recovered exactly ({what}): not every sample is exact or bounded; "
            "'deseq2-normalized run' analyses the table with each open count at its midpoint: "
            f"{recovery.summary()}"
        )
    if recovery is not None and not recovery.usable:
        return (
            f"{source}: raw counts cannot be recovered ({what}): not every sample is exact or bounded: "
            f"{recovery.summary()}"
        )
    return f"{source}: raw counts cannot be recovered from this table ({what}); {classification.recommendation}"


def write_matrix(counts: pd.DataFrame, path: Path) -> None:
    """Write the counts as a tab-separated matrix: ``gene_id``, then one column per sample.

    Parameters
    ----------
    counts
        Integer genes x samples counts, index gene IDs.
    path
        The file to write (written in place: see :func:`write_file` for all-or-nothing).
    """
    frame = counts.astype(np.int64)
    frame.index.name = INDEX_LABEL
    write_table(frame, path, INDEX_LABEL)


def check_writable(path: Path) -> None:
    """Make sure ``path`` can be written before any work: its folder exists and takes files.

    Parameters
    ----------
    path
        The file to write.

    Raises
    ------
    InputError
        When ``path`` is a folder, or its folder is missing or not writable.
    """
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the file to write")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"{path}: folder '{folder}' does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{path}: folder '{folder}' cannot be written")


def write_file(counts: pd.DataFrame, path: Path) -> None:
    """Write the counts matrix to ``path`` all or nothing.

    The matrix is written to a hidden temporary file in the same folder and renamed onto
    ``path`` only when complete (a rename within one file system is atomic), so a failure
    leaves no partial file and an earlier ``path`` untouched.

    Parameters
    ----------
    counts
        Integer genes x samples counts, index gene IDs.
    path
        The file to write.

    Raises
    ------
    OutputError
        When writing fails (for example a full disk); nothing is left behind.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        # Created here with mode "x" (the umask applies, as for any new file; never someone else's file).
        with open(temporary, "x", encoding="utf-8"):
            pass
        write_matrix(counts, temporary)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        reason = exc.strerror or exc
        raise OutputError(f"{path}: writing the recovered counts failed ({reason}); nothing was written") from None
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
