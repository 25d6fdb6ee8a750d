"""The plots of a run: which figures a run gets, their titles and captions, drawn in order.

:func:`draw_run_plots` draws every plot of an
:class:`~deseq2_normalized.analysis.AnalysisResult` with the drawing functions of
:mod:`deseq2_normalized.plots`; the report shows the returned :class:`Plot` records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from deseq2_normalized.plots import (
    dispersion_comparison_plot,
    dispersion_plot,
    ma_plot,
    one_blas_thread,
    pca_plot,
    pvalue_histogram,
    sample_distance_plot,
    size_factor_plot,
    volcano_plot,
)

if TYPE_CHECKING:
    from deseq2_normalized.analysis import AnalysisResult


@dataclass(frozen=True)
class Plot:
    """One drawn plot: its file name (relative to the plot folder), title and caption."""

    name: str
    title: str
    caption: str
    path: Path
    contrast: str | None = None


def contrast_title(meta: dict[str, Any]) -> str:
    """``factor: numerator vs denominator`` (or ``LRT, reduced ~ ...``) for a results summary."""
    if meta.get("test") == "LRT":
        return f"LRT against reduced design {meta.get('reduced', '~ 1')}"
    return f"{meta['factor']}: {meta['numerator']} vs {meta['denominator']}"


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


def _draw(result: AnalysisResult, folder: Path, pdf: PdfPages | None) -> Any:
    check = result.check.size_factors
    yield Plot(
        "size_factors.png",
        "Size-factor check",
        "DESeq2 median-of-ratios size factors estimated on the rounded table, divided by their geometric mean. "
        "On a DESeq2-normalized table every sample lies inside the green band.",
        size_factor_plot(check.table, check.tolerance, folder / "size_factors.png", pdf=pdf),
    )
    yield Plot(
        "dispersion.png",
        "Dispersion estimates",
        "Gene-wise dispersion estimates (black), the fitted trend (red) and the final shrunken estimates (blue) "
        "used in the tests, as DESeq2's plotDispEsts draws them.",
        dispersion_plot(result.dispersions, folder / "dispersion.png", pdf=pdf),
    )
    if result.rounded_dispersions is not None:
        yield Plot(
            "dispersion_rounded_vs_recovered.png",
            "Dispersions: rounded table vs recovered counts",
            "Final dispersions DESeq2 estimates from the rounded table with size factors 1 (the rounding method) "
            "against those from the recovered raw counts (the analysis that was run). Points on the red line agree.",
            dispersion_comparison_plot(
                result.dispersions["dispersion"],
                result.rounded_dispersions["dispersion"],
                folder / "dispersion_rounded_vs_recovered.png",
                pdf=pdf,
            ),
        )
    values, what = _sample_values(result)
    groups = result.coldata if result.coldata is not None else pd.DataFrame(index=values.columns)
    yield Plot(
        "pca.png",
        "Principal components",
        f"PCA of the {what} of the 500 most variable genes (as DESeq2's plotPCA).",
        pca_plot(values, groups, folder / "pca.png", title=f"PCA of the {what}", pdf=pdf),
    )
    yield Plot(
        "sample_distances.png",
        "Sample-to-sample distances",
        f"Euclidean distances between samples on the {what}, ordered by average-linkage clustering.",
        sample_distance_plot(values, folder / "sample_distances.png", title=f"Sample distances ({what})", pdf=pdf),
    )
    alpha = float(result.diagnostics["options"]["alpha"])
    for meta in result.contrasts:
        stem = meta["file"].removesuffix(".tsv")
        table, title = result.results[stem], contrast_title(meta)
        yield Plot(
            f"{stem}_ma.png",
            "MA plot",
            f"Log2 fold change against mean of normalized counts; red: padj < {alpha:g}.",
            ma_plot(table, alpha, folder / f"{stem}_ma.png", title=title, pdf=pdf),
            stem,
        )
        yield Plot(
            f"{stem}_volcano.png",
            "Volcano plot",
            f"Red: padj < {alpha:g}; the 10 genes with the smallest padj are named.",
            volcano_plot(table, alpha, folder / f"{stem}_volcano.png", title=title, pdf=pdf),
            stem,
        )
        yield Plot(
            f"{stem}_pvalue_histogram.png",
            "p-value histogram",
            "A peak near 0 over a flat background is expected; grey: genes removed by independent filtering.",
            pvalue_histogram(table, folder / f"{stem}_pvalue_histogram.png", title=title, pdf=pdf),
            stem,
        )


def _sample_values(result: AnalysisResult) -> tuple[pd.DataFrame, str]:
    """Transformed counts and their name; log2(normalized + 1) with ``--transform none``."""
    kind = result.diagnostics["options"]["transform"]
    if result.transformed is not None:
        return result.transformed, f"{kind} values"
    logged = np.log2(result.normalized.to_numpy(dtype=float) + 1)
    return pd.DataFrame(
        logged, index=result.normalized.index, columns=result.normalized.columns
    ), "log2(normalized counts + 1) (no transformation requested)"
