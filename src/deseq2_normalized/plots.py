"""Diagnostic and result plots of a run, drawn with matplotlib (Agg backend, never shown).

Each drawing function (the ``*_plot`` functions and :func:`pvalue_histogram`) takes its data
(pandas/numpy) first, then these parameters, documented here once for all of them:

path
    PNG to write.
title
    Keyword, in the plots of one transformation (PCA, sample distances) or one contrast
    (MA, volcano, p-value histogram): the title, naming that transformation or contrast;
    the per-contrast plots put their kind before it (``MA plot: ...``).
pdf
    Keyword: an open multi-page PDF to add the figure to as one page (default: none).

It saves the figure to ``path``, adds it to ``pdf`` when given, closes it and returns
``path`` (a :class:`pathlib.Path`).
:func:`deseq2_normalized.figures.draw_run_plots` draws every plot of a run with them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; must come before pyplot is imported anywhere

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from deseq2_normalized.samplespace import Merge, average_linkage, leaf_order, pca, sample_distances

log = logging.getLogger(__name__)

DPI = 110
GREY = "#9e9e9e"
SIGNIFICANT = "#d62728"
BLUE = "#1f77b4"
#: Sample labels are drawn next to PCA points and on heatmap axes up to this many samples.
MAX_LABELLED_SAMPLES = 40
#: Font size (points) of the names beside points: PCA samples, volcano genes.
LABEL_POINTS = 6.0
#: matplotlib's "tab10" colours.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def plain(text: object, limit: int = 40) -> str:
    """User text (gene, sample, level names) safe for a matplotlib label.

    A ``$`` would start mathtext, whose parser fails on malformed input; long names are
    shortened so that they cannot push the plot off the figure.
    """
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("$", r"\$")


def _save(fig: Figure, path: Path, pdf: PdfPages | None) -> Path:
    try:
        # No Software metadata: the PNG then holds no URL at all.
        fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
        if pdf is not None:
            # The PNG's save ran the constrained layout; the PDF page keeps it rather than running
            # it again (a third of a figure's drawing time). The layout is in figure fractions: the
            # PDF's own would move an axes edge by less than 1% of the figure, within its padding.
            fig.set_layout_engine("none")
            pdf.savefig(fig)
    finally:
        plt.close(fig)
    return path


def _figure(width: float = 6.4, height: float = 4.8) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _label_points(ax: Axes, names: list[str], xs: np.ndarray, ys: np.ndarray) -> None:
    """Names beside points (PCA samples, volcano genes); a leader line where a name had to move down."""
    for name, x, y, dy in zip(names, xs, ys, _label_offsets(ax, xs, ys, names), strict=True):
        ax.annotate(
            name,
            (x, y),
            xytext=(3, dy),
            textcoords="offset points",
            fontsize=LABEL_POINTS,
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.45"} if dy < -LABEL_POINTS else None,
        )


def _label_offsets(ax: Axes, xs: np.ndarray, ys: np.ndarray, names: list[str]) -> list[float]:
    """Vertical offsets (points) that keep point labels from covering each other.

    Each label sits just above and right of its point; when it would overlap a label placed
    before it (points at the same height, e.g. p-values that underflowed to 0), it moves down
    one line at a time. Labels are placed from the highest point down.
    """
    ax.autoscale_view()
    to_points = 72.0 / ax.figure.dpi
    anchors = ax.transData.transform(np.column_stack([xs, ys])) * to_points
    height = LABEL_POINTS * 1.3
    placed: list[tuple[float, float, float, float]] = []
    offsets = [0.0] * len(names)
    for i in sorted(range(len(names)), key=lambda k: -anchors[k][1]):
        x0, width = anchors[i][0] + 3, 0.62 * LABEL_POINTS * len(names[i])
        dy = 2.0
        y0 = anchors[i][1]
        while any(
            x0 < bx1 and bx0 < x0 + width and y0 + dy < by1 and by0 < y0 + dy + height for bx0, by0, bx1, by1 in placed
        ):
            dy -= height
        placed.append((x0, y0 + dy, x0 + width, y0 + dy + height))
        offsets[i] = dy
    return offsets


# --- the size-factor check -------------------------------------------------------------


def size_factor_plot(table: pd.DataFrame, tolerance: float, path: Path, *, pdf: PdfPages | None = None) -> Path:
    """Each sample's relative size factor against the tolerance band.

    Parameters
    ----------
    table
        The check's table: index samples, column ``relative_size_factor``.
    tolerance
        The band is ``1/(1+tolerance)`` to ``1+tolerance``.
    path, pdf
        As for every drawing function: see the module docstring.
    """
    rel = table["relative_size_factor"].to_numpy(dtype=float)
    n = len(rel)
    low, high = 1 / (1 + tolerance), 1 + tolerance
    inside = (rel >= low) & (rel <= high)
    fig, ax = _figure(max(6.4, min(16.0, 0.35 * n + 2)), 4.8)
    x = np.arange(n)
    ax.axhspan(low, high, color="#2ca02c", alpha=0.12, label=f"tolerance band {low:.3g} to {high:.3g}")
    ax.axhline(1, color="#2ca02c", linewidth=1)
    ax.vlines(x, 1, rel, color=GREY, linewidth=1)
    ax.scatter(x[inside], rel[inside], color="#2ca02c", zorder=3, label="within tolerance")
    if (~inside).any():
        ax.scatter(x[~inside], rel[~inside], color=SIGNIFICANT, zorder=3, label="outside tolerance")
    ax.set_yscale("log")
    span = max(float(np.abs(np.log(rel)).max()), np.log(high)) * 1.3
    ax.set_ylim(np.exp(-span), np.exp(span))
    # A few plain-number ticks (the band's edges and 1) instead of powers of ten.
    beyond = [t for t in np.geomspace(np.exp(-span), np.exp(span), 7)[1:-1] if t < low / 1.2 or t > high * 1.2]
    ticks = sorted([low, 1.0, high, *beyond])
    ax.set_yticks(ticks, [f"{t:.3g}" for t in ticks])
    ax.yaxis.set_minor_locator(NullLocator())
    _sample_ticks(ax, table.index, n)
    ax.set_ylabel("relative size factor (log scale)")
    ax.set_title("Size-factor check")
    ax.legend(loc="upper right", fontsize="small")
    return _save(fig, path, pdf)


def _sample_ticks(ax: Any, samples: pd.Index, n: int) -> None:
    if n <= MAX_LABELLED_SAMPLES:
        ax.set_xticks(np.arange(n), [plain(s, 24) for s in samples], rotation=45, ha="right", fontsize="small")
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{n} samples")


# --- dispersions ------------------------------------------------------------------------


def dispersion_plot(dispersions: pd.DataFrame, path: Path, *, pdf: PdfPages | None = None) -> Path:
    """Dispersion estimates against the mean of normalized counts, as DESeq2's ``plotDispEsts``.

    Parameters
    ----------
    dispersions
        Per gene: ``baseMean``, ``dispGeneEst`` (gene-wise), ``dispFit`` (fitted trend),
        ``dispersion`` (final, maximum a posteriori) and optionally ``dispOutlier``.
    path, pdf
        As for every drawing function: see the module docstring.
    """
    d = dispersions[(dispersions["baseMean"] > 0) & np.isfinite(dispersions["dispersion"])]
    fig, ax = _figure()
    gene = d["dispGeneEst"].to_numpy()
    floor = np.nanmin(d["dispersion"].to_numpy()) / 10
    # Gene-wise estimates of 0 would vanish on a log axis: DESeq2 draws them at its floor too.
    ax.scatter(
        d["baseMean"],
        np.maximum(gene, floor),
        s=3,
        color="black",
        alpha=0.5,
        lw=0,
        label="gene-wise estimate",
        rasterized=True,
    )
    outlier = d["dispOutlier"].to_numpy(dtype=bool) if "dispOutlier" in d else np.zeros(len(d), dtype=bool)
    ax.scatter(
        d["baseMean"][~outlier],
        d["dispersion"][~outlier],
        s=3,
        color=BLUE,
        alpha=0.6,
        lw=0,
        label="final estimate",
        rasterized=True,
    )
    if outlier.any():
        ax.scatter(
            d["baseMean"][outlier],
            d["dispersion"][outlier],
            s=14,
            facecolors="none",
            edgecolors=BLUE,
            linewidths=0.7,
            label="dispersion outlier (gene-wise kept)",
            rasterized=True,
        )
    trend = d[["baseMean", "dispFit"]].sort_values("baseMean")
    ax.plot(trend["baseMean"], trend["dispFit"], color=SIGNIFICANT, linewidth=1.5, label="fitted trend")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel("dispersion")
    ax.set_title("Dispersion estimates")
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    return _save(fig, path, pdf)


def dispersion_comparison_plot(
    recovered: pd.Series, rounded: pd.Series, path: Path, *, pdf: PdfPages | None = None
) -> Path:
    """Final dispersions from the rounded table against those from the recovered counts.

    Parameters
    ----------
    recovered
        Per gene, final dispersions of the fit on the recovered counts.
    rounded
        Per gene, final dispersions of a fit on the rounded table with size factors 1.
    path, pdf
        As for every drawing function: see the module docstring.
    """
    both = pd.concat({"recovered": recovered, "rounded": rounded}, axis=1).dropna()
    both = both[(both > 0).all(axis=1)]
    ratio = both["rounded"] / both["recovered"]
    fig, ax = _figure(5.6, 5.2)
    ax.scatter(both["recovered"], both["rounded"], s=3, color=BLUE, alpha=0.5, lw=0, rasterized=True)
    lims = [both.min().min() / 1.5, both.max().max() * 1.5] if len(both) else [1e-3, 10]
    ax.plot(lims, lims, color=SIGNIFICANT, linewidth=1, label="identity")
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("dispersion from the recovered counts")
    ax.set_ylabel("dispersion from the rounded table (size factors 1)")
    median = float(np.median(ratio)) if len(ratio) else float("nan")
    ax.set_title("Rounded vs recovered dispersions")
    ax.text(
        0.97,
        0.03,
        f"{len(both)} genes\nmedian ratio rounded/recovered {median:.3g}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize="small",
    )
    ax.legend(loc="upper left", fontsize="small")
    return _save(fig, path, pdf)


# --- samples: PCA and distances ----------------------------------------------------------


def pca_plot(
    values: pd.DataFrame, groups: pd.DataFrame, path: Path, *, title: str, pdf: PdfPages | None = None
) -> Path:
    """PC1 against PC2 of :func:`pca`, coloured by the last design variable.

    Parameters
    ----------
    values
        Genes x samples (transformed counts).
    groups
        Samples x design variables (categorical). Colour shows the last variable; marker
        shape the others (their combination, when there are several).
    path, title, pdf
        As for every drawing function: see the module docstring.
    """
    scores, explained = pca(values)
    fig, ax = _figure(6.8, 5.2)
    if scores.shape[1] < 2:
        ax.text(0.5, 0.5, "too few samples for a PCA", ha="center", transform=ax.transAxes)
        return _save(fig, path, pdf)
    colour_var = groups.columns[-1] if len(groups.columns) else None
    colour = groups[colour_var].astype(str) if colour_var else pd.Series("all", index=groups.index)
    others = list(groups.columns[:-1])
    shape = groups[others].astype(str).agg(" : ".join, axis=1) if others else pd.Series("", index=groups.index)
    colours = [str(x) for x in colour.loc[scores.index]]
    shapes = [str(x) for x in shape.loc[scores.index]]
    colour_levels, shape_levels = list(dict.fromkeys(colours)), list(dict.fromkeys(shapes))
    pc1, pc2 = scores["PC1"].to_numpy(), scores["PC2"].to_numpy()
    # One scatter per colour and marker (not per sample: 200 samples made 200 artists).
    for level, kind in dict.fromkeys(zip(colours, shapes, strict=True)):
        these = np.array([c == level and m == kind for c, m in zip(colours, shapes, strict=True)])
        c = _PALETTE[colour_levels.index(level) % len(_PALETTE)]
        m = _MARKERS[shape_levels.index(kind) % len(_MARKERS)]
        ax.scatter(pc1[these], pc2[these], color=c, marker=m, s=60, edgecolors="white", linewidths=0.5, zorder=3)
    if len(scores) <= MAX_LABELLED_SAMPLES:
        _label_points(ax, [plain(sample, 24) for sample in scores.index], pc1, pc2)
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", color=_PALETTE[i % len(_PALETTE)], label=plain(level, 30))
        for i, level in enumerate(colour_levels)
    ]
    if others:
        handles += [
            plt.Line2D([], [], marker=_MARKERS[i % len(_MARKERS)], linestyle="", color=GREY, label=plain(level, 30))
            for i, level in enumerate(shape_levels)
        ]
    legend_title = " / ".join(plain(v, 20) for v in [colour_var, " : ".join(others)] if v)
    ax.legend(handles=handles, title=legend_title, fontsize="small", loc="best")
    ax.set_xlabel(f"PC1: {100 * explained[0]:.0f}% variance")
    ax.set_ylabel(f"PC2: {100 * explained[1]:.0f}% variance")
    ax.set_title(plain(title, 100))
    return _save(fig, path, pdf)


def sample_distance_plot(values: pd.DataFrame, path: Path, *, title: str, pdf: PdfPages | None = None) -> Path:
    """Heatmap of Euclidean sample-to-sample distances, in dendrogram order, with the dendrogram.

    Parameters
    ----------
    values
        Genes x samples (transformed counts).
    path, title, pdf
        As for every drawing function: see the module docstring.
    """
    dist = sample_distances(values)
    n = len(dist)
    merges = average_linkage(dist.to_numpy())
    order = leaf_order(merges, n)
    ordered = dist.iloc[order, order]
    size = max(6.0, min(14.0, 0.3 * n + 4))
    fig = plt.figure(figsize=(size + 1.2, size), layout="constrained")
    grid = fig.add_gridspec(1, 3, width_ratios=[1.2, 5, 0.25])
    tree, heat, bar = fig.add_subplot(grid[0]), fig.add_subplot(grid[1]), fig.add_subplot(grid[2])
    image = heat.imshow(ordered.to_numpy(), cmap="Blues_r", aspect="auto", interpolation="nearest")
    fig.colorbar(image, cax=bar, label="Euclidean distance")
    if n <= MAX_LABELLED_SAMPLES:
        labels = [plain(s, 24) for s in ordered.index]
        heat.set_xticks(np.arange(n), labels, rotation=45, ha="right", fontsize="small")
        heat.set_yticks(np.arange(n), labels, fontsize="small")
        heat.yaxis.tick_right()
    else:
        heat.set_xticks([])
        heat.set_yticks([])
    _draw_dendrogram(tree, merges, order, n)
    fig.suptitle(plain(title, 100))
    return _save(fig, path, pdf)


def _draw_dendrogram(ax: Any, merges: list[Merge], order: list[int], n: int) -> None:
    """Dendrogram growing to the left, leaves aligned with the heatmap rows."""
    y = {leaf: float(row) for row, leaf in enumerate(order)}
    height = dict.fromkeys(range(n), 0.0)
    links = []
    for k, (a, b, dist, _) in enumerate(merges):
        links.append([(height[a], y[a]), (dist, y[a]), (dist, y[b]), (height[b], y[b])])
        y[n + k], height[n + k] = (y[a] + y[b]) / 2, dist
    # One collection of links (as many separate lines, it was one artist per merge). Cap and join
    # styles as those of a plotted line.
    ax.add_collection(LineCollection(links, colors="#555555", linewidths=0.8, capstyle="projecting", joinstyle="round"))
    ax.autoscale_view()
    ax.set_ylim(n - 0.5, -0.5)
    ax.invert_xaxis()
    ax.axis("off")


# --- per contrast -----------------------------------------------------------------------


def ma_plot(table: pd.DataFrame, alpha: float, path: Path, *, title: str, pdf: PdfPages | None = None) -> Path:
    """Log2 fold change against the mean of normalized counts; calls at ``alpha`` in colour.

    Parameters
    ----------
    table
        A results table (``baseMean``, ``log2FoldChange``, ``padj``).
    alpha
        Adjusted p-value cut-off.
    path, title, pdf
        As for every drawing function: see the module docstring.
    """
    t = table[(table["baseMean"] > 0) & table["log2FoldChange"].notna()]
    fig, ax = _figure()
    _scatter_calls(ax, t["baseMean"], t["log2FoldChange"], t["padj"], alpha)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("mean of normalized counts (log10 scale)")
    ax.set_ylabel("log2 fold change")
    ax.set_title(plain(f"MA plot: {title}", 100))
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    return _save(fig, path, pdf)


def volcano_plot(
    table: pd.DataFrame, alpha: float, path: Path, *, title: str, labels: int = 10, pdf: PdfPages | None = None
) -> Path:
    """Volcano plot: -log10 p-value against log2 fold change, the top genes by padj named.

    Parameters
    ----------
    table
        A results table (index gene IDs; ``log2FoldChange``, ``pvalue``, ``padj``).
    alpha
        Adjusted p-value cut-off for the colour.
    labels
        How many genes (smallest padj) to label with their IDs.
    path, title, pdf
        As for every drawing function: see the module docstring.
    """
    t = table[table["pvalue"].notna() & table["log2FoldChange"].notna()]
    # p-values of exactly 0 (underflow) are drawn at the smallest positive one, not at infinity.
    positive = t["pvalue"][t["pvalue"] > 0]
    smallest = float(positive.min()) if len(positive) else 1e-300
    score = -np.log10(t["pvalue"].clip(lower=smallest))
    fig, ax = _figure()
    _scatter_calls(ax, t["log2FoldChange"], score, t["padj"], alpha)
    ax.set_xlabel("log2 fold change")
    ax.set_ylabel("-log10 p-value")
    ax.set_title(plain(f"Volcano plot: {title}", 100))
    ax.margins(y=0.08)  # room for the labels of the top genes
    top = t["padj"].dropna().sort_values(kind="mergesort").index[:labels]
    names = [plain(gene, 30) for gene in top]
    _label_points(ax, names, t.loc[top, "log2FoldChange"].to_numpy(), score[top].to_numpy())
    # Below the axes: the top genes' labels fill the upper corners.
    fig.legend(loc="outside lower center", ncols=2, fontsize="small", markerscale=3, frameon=False)
    return _save(fig, path, pdf)


def _scatter_calls(ax: Axes, x: pd.Series, y: pd.Series, padj: pd.Series, alpha: float) -> None:
    """The genes of an MA or volcano plot: red where ``padj < alpha``, grey elsewhere (padj NA too).

    Both legend labels are set; the red one counts the significant genes.
    """
    sig = (padj < alpha).to_numpy()
    ax.scatter(x[~sig], y[~sig], s=3, color=GREY, alpha=0.5, lw=0, label="not significant", rasterized=True)
    label = f"padj < {alpha:g} ({int(sig.sum())})"
    ax.scatter(x[sig], y[sig], s=4, color=SIGNIFICANT, alpha=0.7, lw=0, label=label, rasterized=True)


def pvalue_histogram(table: pd.DataFrame, path: Path, *, title: str, pdf: PdfPages | None = None) -> Path:
    """Histogram of the p-values, split into genes kept and removed by independent filtering.

    Parameters
    ----------
    table
        A results table (``pvalue``, ``padj``).
    path, title, pdf
        As for every drawing function: see the module docstring.
    """
    t = table[table["pvalue"].notna()]
    kept = t["padj"].notna()
    fig, ax = _figure()
    bins = np.linspace(0, 1, 21)
    ax.hist(
        [t["pvalue"][kept], t["pvalue"][~kept]],
        bins=bins,
        stacked=True,
        color=[BLUE, "#c7c7c7"],
        label=["tested (padj computed)", "filtered out (padj NA)"],
        edgecolor="white",
        linewidth=0.5,
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("p-value")
    ax.set_ylabel("genes")
    ax.set_title(plain(f"p-value histogram: {title}", 100))
    ax.legend(loc="upper right", fontsize="small")
    return _save(fig, path, pdf)
