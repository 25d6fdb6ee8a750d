"""The plots of a run: which figures a run gets, their titles and captions, drawn in order.

:func:`draw_run_plots` draws every plot of an
:class:`~deseq2_normalized.results.AnalysisResult` with the drawing functions of
:mod:`deseq2_normalized.plots`; the report shows the returned :class:`Plot` records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

# The drawing functions are looked up on the module when drawing (plots.ma_plot, ...), so that
# a profiler can wrap them there (benchmarks/profile_report.py).
from deseq2_normalized import plots
from deseq2_normalized.blas import one_blas_thread

if TYPE_CHECKING:
    from deseq2_normalized.contrasts import ResultSummary
    from deseq2_normalized.results import AnalysisResult


@dataclass(frozen=True)
class Plot:
    """One drawn plot: its file name (relative to the plot folder), title and caption."""

    name: str
    title: str
    caption: str
    path: Path
    contrast: str | None = None


def contrast_title(summary: ResultSummary) -> str:
    """``factor: numerator vs denominator`` (or ``LRT against reduced design ~ ...``) for a results table."""
    if summary.contrast is None:
        return f"LRT against reduced design {summary.reduced or '~ 1'}"
    c = summary.contrast
    return f"{c.factor}: {c.numerator} vs {c.denominator}"


def draw_run_plots(result: AnalysisResult, folder: Path, pdf_path: Path | None = None) -> list[Plot]:
    """Draw every plot of a run as PNG into ``folder`` (and, optionally, all into one PDF).

    Parameters
    ----------
    result
        The run.
    folder
        Existing folder for the PNG files.
    pdf_path
        Multi-page PDF to write with one page per plot, or ``None``.

    Returns
    -------
    list of Plot
        In drawing (and PDF page) order.
    """
    with one_blas_thread(), _maybe_pdf(pdf_path) as pdf:
        return list(_draw(result, folder, pdf))


class _NoPdf:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _maybe_pdf(path: Path | None) -> Any:
    # Fixed metadata: no producer URL, no creation date (reproducible bytes).
    if path is None:
        return _NoPdf()
    return PdfPages(path, metadata={"Creator": "deseq2-normalized", "Producer": None, "CreationDate": None})


def _draw(result: AnalysisResult, folder: Path, pdf: PdfPages | None) -> Iterator[Plot]:
    check = result.check.size_factors
    yield Plot(
        "size_factors.png",
        "Size-factor check",
        "DESeq2 median-of-ratios size factors estimated on the rounded table, divided by their geometric mean. "
        "On a DESeq2-normalized table every sample lies inside the green band.",
        plots.size_factor_plot(check.table, check.tolerance, folder / "size_factors.png", pdf=pdf),
    )
    yield Plot(
        "dispersion.png",
        "Dispersion estimates",
        "Gene-wise dispersion estimates (black), the fitted trend (red) and the final shrunken estimates (blue) "
        "used in the tests, as DESeq2's plotDispEsts draws them.",
        plots.dispersion_plot(result.dispersions, folder / "dispersion.png", pdf=pdf),
    )
    if result.rounded_dispersions is not None:
        yield Plot(
            "dispersion_rounded_vs_recovered.png",
            "Dispersions: rounded table vs recovered counts",
            "Final dispersions DESeq2 estimates from the rounded table with size factors 1 (the rounding method) "
            "against those from the recovered raw counts (the analysis that was run). Points on the red line agree.",
            plots.dispersion_comparison_plot(
                result.dispersions["dispersion"],
                result.rounded_dispersions["dispersion"],
                folder / "dispersion_rounded_vs_recovered.png",
                pdf=pdf,
            ),
        )
    values, what = _sample_values(result)
    # Colours and markers for factors only: a numeric covariate has a value per sample.
    coldata = result.coldata.select_dtypes("category") if result.coldata is not None else None
    groups = coldata if coldata is not None else pd.DataFrame(index=values.columns)
    yield Plot(
        "pca.png",
        "Principal components",
        f"PCA of the {what} of the 500 most variable genes (as DESeq2's plotPCA).",
        plots.pca_plot(values, groups, folder / "pca.png", title=f"PCA of the {what}", pdf=pdf),
    )
    yield Plot(
        "sample_distances.png",
        "Sample-to-sample distances",
        f"Euclidean distances between samples on the {what}, ordered by average-linkage clustering.",
        plots.sample_distance_plot(
            values, folder / "sample_distances.png", title=f"Sample distances ({what})", pdf=pdf
        ),
    )
    alpha = float(result.options.alpha)
    for summary in result.summaries:
        stem = summary.stem
        table, title = result.results[stem], contrast_title(summary)
        # Per contrast, in this order: file suffix, title, caption and the drawing function with
        # its data; each draws to the path it is given, with the contrast's title.
        for suffix, heading, caption, draw in (
            (
                "ma",
                "MA plot",
                f"Log2 fold change against mean of normalized counts; red: padj < {alpha:g}.",
                partial(plots.ma_plot, table, alpha),
            ),
            (
                "volcano",
                "Volcano plot",
                f"Red: padj < {alpha:g}; the 10 genes with the smallest padj are named.",
                partial(plots.volcano_plot, table, alpha),
            ),
            (
                "pvalue_histogram",
                "p-value histogram",
                "A peak near 0 over a flat background is expected; grey: genes removed by independent filtering.",
                partial(plots.pvalue_histogram, table),
            ),
        ):
            name = f"{stem}_{suffix}.png"
            yield Plot(name, heading, caption, draw(folder / name, title=title, pdf=pdf), stem)


def _sample_values(result: AnalysisResult) -> tuple[pd.DataFrame, str]:
    """Transformed counts and their name; log2(normalized + 1) with ``--transform none``."""
    kind = "vst" if result.options.transform == "both" else result.options.transform
    if result.transformed is not None:
        return result.transformed, f"{kind} values"
    logged = np.log2(result.normalized.to_numpy(dtype=float) + 1)
    return pd.DataFrame(
        logged, index=result.normalized.index, columns=result.normalized.columns
    ), "log2(normalized counts + 1) (no transformation requested)"
