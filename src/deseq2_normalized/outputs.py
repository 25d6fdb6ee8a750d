"""Write a run's outputs all-or-nothing.

Every file is first written into a hidden staging folder inside the output folder and
only renamed into place once all of them were written, so a failed run leaves no
half-written or partial set of outputs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from deseq2_normalized import rbackend
from deseq2_normalized.errors import DESeq2NormalizedError, InputError

if TYPE_CHECKING:
    from deseq2_normalized.analysis import AnalysisResult

log = logging.getLogger(__name__)


class OutputError(DESeq2NormalizedError):
    """Outputs could not be written (disk full, I/O error); nothing was left behind."""

    exit_code = 1


def prepare_out_dir(path: str | Path) -> Path:
    """Create the output folder if needed and make sure files can be written in it.

    Parameters
    ----------
    path
        The output folder.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    InputError
        When the folder cannot be created or written to (checked before any work).
    """
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise InputError(f"{out}: output folder cannot be written ({exc.strerror})") from None
    return out


class StagedOutputs:
    """Collects output files in a staging folder, then publishes them together."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.staging = Path(tempfile.mkdtemp(prefix=".deseq2-normalized-", dir=out_dir))
        self.names: list[str] = []

    def path(self, name: str) -> Path:
        """Staging path for output ``name``; registered for publishing."""
        self.names.append(name)
        return self.staging / name

    def publish(self) -> list[Path]:
        """Move every staged file into the output folder."""
        done = []
        for name in self.names:
            target = self.out_dir / name
            os.replace(self.staging / name, target)
            done.append(target)
        self.discard()
        return done

    def discard(self) -> None:
        """Remove the staging folder and whatever it holds."""
        shutil.rmtree(self.staging, ignore_errors=True)


@contextlib.contextmanager
def staged(out_dir: Path) -> Iterator[StagedOutputs]:
    """Stage outputs; publish them when the block succeeds, discard them otherwise.

    Raises
    ------
    OutputError
        When writing fails (for example a full disk); no output is left behind.
    """
    stage = StagedOutputs(out_dir)
    try:
        yield stage
        stage.publish()
    except OSError as exc:
        stage.discard()
        raise OutputError(f"{out_dir}: writing outputs failed ({exc.strerror or exc}); no output was kept") from None
    except BaseException:
        stage.discard()
        raise


def write_table(frame: pd.DataFrame, path: Path, index_label: str, float_format: str | None = None) -> None:
    """Write a tab-separated table with a header, ``NA`` for missing values.

    Integer-valued float matrices are written as integers (faster and exact).
    """
    values = frame.to_numpy()
    if values.dtype.kind == "f" and np.isfinite(values).all() and np.array_equal(values, np.rint(values)):
        frame = frame.astype(np.int64)
    frame.to_csv(path, sep="\t", na_rep="NA", index_label=index_label, float_format=float_format)


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write JSON with sorted-free, indented, UTF-8 text."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


def write_outputs(result: AnalysisResult, out_dir: Path, *, save_rds: bool = False) -> None:
    """Write every output of a run into ``out_dir``, all or nothing.

    Parameters
    ----------
    result
        The run's result.
    out_dir
        Existing, writable folder (see :func:`prepare_out_dir`).
    save_rds
        Also save the fitted DESeqDataSet as ``model.rds``.
    """
    with staged(out_dir) as out:
        for stem, table in result.results.items():
            write_table(table, out.path(f"{stem}.tsv"), "gene_id")
        write_table(result.normalized, out.path("normalized_counts.tsv"), "gene_id")
        if result.transformed is not None:
            write_table(result.transformed, out.path("transformed_counts.tsv"), "gene_id")
        write_table(result.check.size_factors.table, out.path("size_factors.tsv"), "sample")
        write_json(result.diagnostics, out.path("diagnostics.json"))
        if save_rds:
            rbackend.save_rds(result.model, str(out.path("model.rds")))
