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
from deseq2_normalized.choices import PLOT_FORMATS
from deseq2_normalized.diagnostics import build_diagnostics
from deseq2_normalized.errors import InputError, OutputError
from deseq2_normalized.progress import stage

if TYPE_CHECKING:
    from deseq2_normalized.figures import Plot
    from deseq2_normalized.results import AnalysisResult, InputNames

log = logging.getLogger(__name__)


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
        """Staging path for output ``name``; registered for publishing.

        ``name`` may lie in a subfolder (``plots/pca.png``); the subfolder is created in the
        staging folder now and in the output folder when publishing.
        """
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or ".." in parts:
            raise ValueError(f"output name must be a relative path inside the output folder: {name!r}")
        self.names.append(name)
        staged_path = self.staging / name
        staged_path.parent.mkdir(parents=True, exist_ok=True)
        return staged_path

    def scratch(self, name: str) -> Path:
        """Staging path for a file that is used while writing but never published."""
        staged_path = self.staging / ".scratch" / name
        staged_path.parent.mkdir(parents=True, exist_ok=True)
        return staged_path

    def publish(self) -> list[Path]:
        """Move every staged file into the output folder."""
        done: list[Path] = []
        made: list[Path] = []
        kept: list[tuple[Path, Path]] = []  # files of an earlier run that a new output replaces
        try:
            for name in self.names:
                target = self.out_dir / name
                for folder in reversed(list(Path(name).parents)[:-1]):
                    if not (self.out_dir / folder).is_dir():
                        (self.out_dir / folder).mkdir()
                        made.append(self.out_dir / folder)
                if os.path.lexists(target):
                    backup = self.staging / ".previous" / name
                    backup.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, backup)
                    kept.append((backup, target))
                os.replace(self.staging / name, target)
                done.append(target)
        except BaseException:
            # All or nothing: take back the files already moved, put back the earlier files they
            # replaced, and remove the folders made for them.
            for target in done:
                target.unlink(missing_ok=True)
            for backup, target in reversed(kept):
                with contextlib.suppress(OSError):
                    os.replace(backup, target)
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
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
    try:
        outputs = StagedOutputs(out_dir)
    except OSError as exc:
        raise OutputError(f"{out_dir}: writing outputs failed ({exc.strerror or exc}); no output was kept") from None
    try:
        yield outputs
        outputs.publish()
    except OSError as exc:
        outputs.discard()
        raise OutputError(f"{out_dir}: writing outputs failed ({exc.strerror or exc}); no output was kept") from None
    except BaseException:
        outputs.discard()
        raise


def write_table(frame: pd.DataFrame, path: Path, index_label: str, float_format: str | None = None) -> None:
    """Write a tab-separated table with a header, ``NA`` for missing values.

    Integer matrices, and integer-valued float ones, are written as integers (faster and exact).
    """
    values = frame.to_numpy()
    if values.dtype.kind == "f" and np.isfinite(values).all() and np.array_equal(values, np.rint(values)):
        frame = frame.astype(np.int64)
        if _write_counts(frame, path, index_label):
            return
    elif values.dtype.kind in "iu" and _write_counts(frame, path, index_label):
        return  # an integer matrix (recovered counts): the same fast path
    elif float_format is None and _write_floats(frame, path, index_label):
        return
    frame.to_csv(path, sep="\t", na_rep="NA", index_label=index_label, float_format=float_format)


_NEEDS_QUOTES = ("\t", '"', "\n", "\r")
_ROWS_PER_BLOCK = 4096


def _plain_labels(frame: pd.DataFrame, index_label: str) -> tuple[list[str], list[str]] | None:
    """Row labels and header as ``to_csv`` writes them, or None when it would quote one."""
    labels = [str(x) for x in frame.index]
    header = [index_label, *(str(c) for c in frame.columns)]
    if any(ch in s for s in (*labels, *header) for ch in _NEEDS_QUOTES):
        return None
    return labels, header


def _write_floats(frame: pd.DataFrame, path: Path, index_label: str) -> bool:
    """Write an all-float64 table byte for byte as ``to_csv(na_rep="NA")`` would, several times faster.

    ``to_csv`` writes each float as Python's shortest round-trip ``repr`` (exact); so does
    this, without pandas' per-cell formatting machinery. Returns False, writing nothing,
    when the fast path does not apply (other dtypes, labels that ``to_csv`` would quote).
    """
    if frame.shape[1] == 0 or not all(dtype == np.float64 for dtype in frame.dtypes):
        return False
    plain = _plain_labels(frame, index_label)
    if plain is None:
        return False
    labels, header = plain
    values = frame.to_numpy()
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(header) + "\n")
        for start in range(0, values.shape[0], _ROWS_PER_BLOCK):
            block = values[start : start + _ROWS_PER_BLOCK]
            missing = np.isnan(block).any(axis=1).tolist()
            lines = []
            for label, row, has_na in zip(labels[start : start + len(block)], block.tolist(), missing, strict=True):
                cells = ["NA" if x != x else repr(x) for x in row] if has_na else map(repr, row)
                lines.append(label + "\t" + "\t".join(cells) + "\n")
            fh.write("".join(lines))
    return True


def _write_counts(frame: pd.DataFrame, path: Path, index_label: str) -> bool:
    """Write a non-negative integer matrix byte for byte as ``to_csv`` would, but vectorized.

    pandas formats the cells one by one (seconds for 60,000 x 200); here the digits of a
    block of rows are computed with numpy and the padding is masked away. Returns False,
    writing nothing, when the fast path does not apply (negative values, labels that
    ``to_csv`` would quote); the caller then falls back to ``to_csv``.
    """
    values = frame.to_numpy(dtype=np.int64)
    plain = _plain_labels(frame, index_label)
    if values.size == 0 or values.min() < 0 or plain is None:
        return False
    labels, header = plain
    top = int(values.max())
    width = len(str(top))
    if top < 2**32:
        values = values.astype(np.uint32)  # integer division is much faster on 32 bits
    with open(path, "wb") as fh:
        fh.write(("\t".join(header) + "\n").encode("utf-8"))
        for start in range(0, values.shape[0], _ROWS_PER_BLOCK):
            block = values[start : start + _ROWS_PER_BLOCK]
            rows, cols = block.shape
            # Each cell as `width` right-aligned digits and a tab (a newline after the last column).
            chars = np.empty((rows, cols, width + 1), dtype=np.uint8)
            ndigits = np.ones((rows, cols), dtype=np.int8)
            rest = block.copy()
            for k in range(width - 1, -1, -1):
                rest, digit = np.divmod(rest, 10)
                chars[:, :, k] = digit
                if k:
                    ndigits += rest > 0
            chars[:, :, :width] += 48
            chars[:, :, width] = 9
            chars[:, -1, width] = 10
            keep = np.arange(width + 1, dtype=np.int8) >= (width - ndigits)[:, :, None]
            text = chars[keep].tobytes()
            ends = np.cumsum(ndigits.sum(axis=1, dtype=np.int64) + cols).tolist()
            out = bytearray()
            begin = 0
            for label, end in zip(labels[start : start + rows], ends, strict=True):
                out += label.encode("utf-8") + b"\t"
                out += text[begin:end]
                begin = end
            fh.write(out)
    return True


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write JSON with sorted-free, indented, UTF-8 text."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


PLOT_FOLDER = "plots"


def write_outputs(
    result: AnalysisResult,
    out_dir: Path,
    *,
    save_rds: bool = False,
    plots: str = "none",
    report: bool = False,
    inputs: InputNames | None = None,
    annotation: pd.DataFrame | None = None,
    header: bool = True,
    report_form: str = "single",
) -> dict[str, list[str]]:
    """Write every output of a run into ``out_dir``, all or nothing.

    The count tables, size factors and plots are written first: rounding-sensitivity refits
    still running (see :func:`~deseq2_normalized.analysis.run_analysis`'s ``wait_for_refits``)
    go on meanwhile and are collected before the results tables, diagnostics and report.

    Parameters
    ----------
    result
        The run's result.
    out_dir
        Existing, writable folder (see :func:`prepare_out_dir`).
    save_rds
        Also save the fitted DESeqDataSet as ``model.rds``.
    plots
        ``"png"`` (one PNG per plot in ``plots/``), ``"pdf"`` (every plot in ``plots.pdf``),
        ``"both"`` or ``"none"``.
    report
        Also write the self-contained ``report.html`` (it embeds the plots whatever ``plots`` says).
    inputs
        What the inputs are called, shown in the report.
    annotation
        Gene annotation columns of the counts file (index gene IDs), written into every
        results table after DESeq2's columns (and after any other column of the run, such as
        ``rounding_agreement``) and shown in the report's top-gene tables. The normalized and
        transformed count tables stay plain matrices.
    header
        Write the results tables with their header line (False: every line is a gene).
    report_form
        ``"single"``: ``report.html``, one self-contained file; ``"files"``: ``report/report.html``
        with its plots, style sheet and script as files in the same folder (see
        :func:`deseq2_normalized.report.write_report_files`).

    Returns
    -------
    dict
        Each tabular output's file name to its column names (the index label first), also
        for a results table written without its header line.
    """
    if plots not in PLOT_FORMATS:
        raise InputError(f"--plots must be one of {', '.join(PLOT_FORMATS)}; got '{plots}'")
    columns: dict[str, list[str]] = {}

    def tabular(frame: pd.DataFrame, name: str, index_label: str) -> None:
        write_table(frame, out.path(name), index_label)
        columns[name] = [index_label, *(str(c) for c in frame.columns)]

    with staged(out_dir) as out:
        drawn = None
        try:
            # What needs no rounding-sensitivity result is written while refits may still run
            # (run_analysis(wait_for_refits=False)): the count tables, the size factors, the plots.
            tabular(result.normalized, "normalized_counts.tsv", "gene_id")
            _write_recovered_counts(result, out)
            if result.transformed is not None:
                tabular(result.transformed, "transformed_counts.tsv", "gene_id")
            if result.rlog is not None:
                tabular(result.rlog, "rlog_counts.tsv", "gene_id")
            tabular(result.check.size_factors.table, "size_factors.tsv", "sample")
            write_model_size_factors(result.method.size_factor_values, out.path(MODEL_SIZE_FACTORS))
            columns[MODEL_SIZE_FACTORS] = ["sample", "size_factor"]
            if plots != "none" or report:
                drawn = _draw_plots(result, out, plots)
        except BaseException:
            result.stop_refits()
            raise
        # The refits end here: the results tables (rounding_agreement), diagnostics and report need them.
        result = result.collect_refits()
        others = dict(columns)
        columns.clear()
        for stem, table in result.results.items():
            tabular(annotate(table, annotation), f"{stem}.tsv", "gene_id")
            if not header:
                _drop_first_line(out.staging / f"{stem}.tsv")
        columns.update(others)  # the results tables first, then the others
        write_json(build_diagnostics(result), out.path("diagnostics.json"))
        if save_rds:
            rbackend.save_rds(result.model, str(out.path("model.rds")))
        if report and drawn is not None:
            _write_report(result, drawn, out, inputs, annotation, report_form)
    return columns


#: The size factors of the fitted model in the form the IUC DESeq2 tool reads and writes.
MODEL_SIZE_FACTORS = "model_size_factors.tsv"


def write_model_size_factors(values: pd.Series, path: Path) -> None:
    """Write the size factors DESeq2 used: ``sample<TAB>size factor`` per line, no header.

    This is the form of the IUC DESeq2 Galaxy tool's size-factor output (``write.table`` with
    ``col.names = FALSE``) and of its *User-provided* size-factor input, which reads the file with
    ``read.table`` and matches the first column to its sample (dataset) names.

    Parameters
    ----------
    values
        Size factor per sample (index the sample names).
    path
        The file to write.
    """
    lines = [f"{sample}\t{float(value)!r}\n" for sample, value in values.items()]
    path.write_text("".join(lines), encoding="utf-8")


#: The Galaxy tool's output (``tool/deseq2_normalized.xml``) of each tabular file; the one results
#: table of a run is the dataset ``result`` (the tool moves it there). Elements of the ``results``
#: collection are left out: Galaxy skips its own metadata detection (columns, column types) for a
#: discovered dataset that comes with metadata from the tool.
GALAXY_OUTPUTS = {
    "size_factors.tsv": "size_factors",
    "normalized_counts.tsv": "normalized_counts",
    "transformed_counts.tsv": "transformed_counts",
    "rlog_counts.tsv": "rlog_counts",
    MODEL_SIZE_FACTORS: "model_size_factors",
}


def galaxy_metadata(columns: dict[str, list[str]]) -> dict[str, Any]:
    """Galaxy's tool-provided metadata (``galaxy.json``): the column names of each tabular output.

    Galaxy does not read column names from a plain tabular dataset's header line; set as the
    ``column_names`` metadata they show in column pickers (Filter, Volcano Plot, Join), with or
    without the header line, whatever annotation columns the input brought.

    Parameters
    ----------
    columns
        Output file name to its column names, as :func:`write_outputs` returns them.

    Returns
    -------
    dict
        Galaxy output name to ``{"metadata": {"column_names": [...]}}``.
    """
    named = {GALAXY_OUTPUTS[name]: names for name, names in columns.items() if name in GALAXY_OUTPUTS}
    results = [names for name, names in columns.items() if name.startswith("results_")]
    if len(results) == 1:
        named["result"] = results[0]
    return {output: {"metadata": {"column_names": names}} for output, names in named.items()}


def write_galaxy_metadata(columns: dict[str, list[str]], path: Path) -> None:
    """Write :func:`galaxy_metadata` of ``columns`` as JSON to ``path`` (Galaxy's ``galaxy.json``).

    Raises
    ------
    OutputError
        When the file cannot be written.
    """
    try:
        write_json(galaxy_metadata(columns), Path(path))
    except OSError as exc:
        raise OutputError(f"{path}: writing Galaxy's metadata failed ({exc.strerror or exc})") from None


def _write_recovered_counts(result: AnalysisResult, out: StagedOutputs) -> None:
    """When the run recovered the raw counts: ``recovered_counts.tsv``, as ``deseq2-normalized recover`` writes it."""
    # Imported here: recovered_counts writes with this module's write_table.
    from deseq2_normalized import recovered_counts

    recovery = result.method.recovery
    if result.method.name == "recover" and recovery is not None:
        recovered_counts.write_matrix(recovery.counts, out.path(recovered_counts.FILE_NAME))


def annotate(table: pd.DataFrame, annotation: pd.DataFrame | None) -> pd.DataFrame:
    """``table`` with the annotation columns last, matched by gene ID.

    DESeq2's columns keep their places (gene_id, baseMean, log2FoldChange, lfcSE, stat, pvalue,
    padj are columns 1-7, as the IUC DESeq2 tool writes them): Galaxy workflows address them by
    number (Filter ``c7<0.05``, Volcano Plot on columns 7, 6 and 3), so text columns in front
    would shift them without any error.

    Parameters
    ----------
    table
        A genes x columns table, index gene IDs.
    annotation
        Annotation columns (index gene IDs), or None.

    Returns
    -------
    pandas.DataFrame
        The joined table; genes without annotation get empty cells. A column name the table
        already has is not added twice.
    """
    if annotation is None or annotation.shape[1] == 0:
        return table
    extra = annotation[[c for c in annotation.columns if c not in table.columns]]
    joined = pd.concat([table, extra.reindex(table.index).fillna("")], axis=1)
    joined.index.name = table.index.name
    return joined


def _drop_first_line(path: Path) -> None:
    """Remove a written table's header line in place."""
    with open(path, "rb") as fh:
        fh.readline()
        rest = fh.read()
    path.write_bytes(rest)


def _draw_plots(result: AnalysisResult, out: StagedOutputs, plots: str) -> list[Plot]:
    """Draw every plot as PNG, and for ``--plots pdf`` or ``both`` into ``plots.pdf``.

    The PNGs go into the output's ``plots/`` for ``png`` or ``both``, else into scratch space,
    for the report.
    """
    with stage("drawing plots"):
        # Imported here, inside the stage whose time it is: matplotlib costs most of a second to
        # import, and only these outputs need it.
        from deseq2_normalized.figures import draw_run_plots

        # The PNGs are drawn even for --plots pdf or none when the report embeds them; they
        # then stay in the staging folder, which is removed after publishing.
        png_in_output = plots in ("png", "both")
        folder = out.staging / PLOT_FOLDER if png_in_output else out.scratch(PLOT_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        pdf = out.path("plots.pdf") if plots in ("pdf", "both") else None
        drawn = draw_run_plots(result, folder, pdf)
        if png_in_output:
            for plot in drawn:
                out.path(f"{PLOT_FOLDER}/{plot.name}")
    return drawn


def _write_report(
    result: AnalysisResult,
    drawn: list[Plot],
    out: StagedOutputs,
    inputs: InputNames | None,
    annotation: pd.DataFrame | None = None,
    report_form: str = "single",
) -> None:
    with stage("drawing the report"):
        from deseq2_normalized.report import write_report, write_report_files

        if report_form == "files":
            write_report_files(result, drawn, out.path, inputs=inputs, annotation=annotation)
        else:
            write_report(result, drawn, out.path("report.html"), inputs=inputs, annotation=annotation)
