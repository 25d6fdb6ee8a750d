"""Whether the tools' results agree with those of the bare R script.

Each tool's results table and normalized counts are compared with the bare R script's: the same
DESeq2 run must agree to :data:`EXACT_RTOL`, PyDESeq2 (a re-implementation) is measured against
:data:`PYDESEQ2_RTOL`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

RESULT_FILE = "results_condition_B_vs_A.tsv"
#: R vs this tool: the same DESeq2 run, so the results must agree to this relative error.
EXACT_RTOL = 1e-8
#: PyDESeq2's own test suite compares its results with DESeq2's at 2% relative error.
PYDESEQ2_RTOL = 0.02
COMPARED = ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")


def read_results(path: Path) -> pd.DataFrame:
    """A results table indexed by gene."""
    return pd.read_csv(path, sep="\t", index_col=0, na_values=["NA"]).sort_index()


def compare(reference: pd.DataFrame, other: pd.DataFrame, rtol: float) -> dict[str, object]:
    """Relative differences of ``other`` against ``reference`` column by column.

    Parameters
    ----------
    reference, other
        Results tables indexed by gene.
    rtol
        The relative tolerance a column must keep to pass.

    Returns
    -------
    dict
        The NA-pattern agreement, the largest relative difference per column (where both are
        finite), the share of genes within ``rtol``, whether all columns pass, and the genes
        called at padj < 0.1 by each and by both.
    """
    out: dict[str, object] = {"genes": len(reference), "same_genes": bool(reference.index.equals(other.index))}
    if not out["same_genes"]:
        out["passed"] = False
        return out
    worst: dict[str, float] = {}
    within: dict[str, float] = {}
    na_same = True
    for col in COMPARED:
        a = reference[col].to_numpy(dtype=float)
        b = other[col].to_numpy(dtype=float)
        na_same &= bool(np.array_equal(np.isnan(a), np.isnan(b)))
        both = ~np.isnan(a) & ~np.isnan(b)
        rel = np.abs(a[both] - b[both]) / np.maximum(np.abs(a[both]), 1e-300)
        rel[(a[both] == 0) & (b[both] == 0)] = 0.0
        worst[col] = float(rel.max()) if rel.size else 0.0
        within[col] = float(np.mean(rel <= rtol)) if rel.size else 1.0
    out.update(na_pattern_same=na_same, max_rel_diff=worst, share_within=within, rtol=rtol)
    out["passed"] = na_same and all(v <= rtol for v in worst.values())
    sig_a = reference["padj"] < 0.1
    sig_b = other["padj"] < 0.1
    out["calls_padj_0.1"] = {
        "reference": int(sig_a.sum()),
        "other": int(sig_b.sum()),
        "both": int((sig_a & sig_b).sum()),
    }
    return out


def compare_counts(a: Path, b: Path) -> bool:
    """Whether two normalized-count tables hold the same numbers."""
    x = pd.read_csv(a, sep="\t", index_col=0).sort_index()
    y = pd.read_csv(b, sep="\t", index_col=0).sort_index()
    return bool(x.index.equals(y.index) and np.allclose(x.to_numpy(float), y.to_numpy(float), rtol=1e-12, atol=0))


def _last_result(folder: Path, tool: str) -> Path | None:
    """The folder of ``tool``'s last repetition that wrote a results table, if any."""
    base = folder / tool.replace(" ", "_")
    reps = sorted((p.parent for p in base.glob("*/" + RESULT_FILE)), key=lambda p: int(p.name))
    return reps[-1] if reps else None


def check_size(folder: Path) -> dict[str, object]:
    """Compare the last run's results of each tool with the bare R script's.

    Parameters
    ----------
    folder
        The scratch folder of one size, a folder per tool and in it one per repetition.

    Returns
    -------
    dict
        A :func:`compare` record (with ``normalized_counts_equal``) per tool that has results,
        under ``"TOOL vs bare Rscript"``; empty when the bare R script has none.
    """
    out: dict[str, object] = {}
    r_dir = _last_result(folder, "bare Rscript")
    if r_dir is None:
        return out
    reference = read_results(r_dir / RESULT_FILE)
    ours = _last_result(folder, "deseq2-normalized")
    if ours is not None:
        cmp = compare(reference, read_results(ours / RESULT_FILE), EXACT_RTOL)
        cmp["normalized_counts_equal"] = compare_counts(r_dir / "normalized_counts.tsv", ours / "normalized_counts.tsv")
        cmp["passed"] = bool(cmp["passed"]) and cmp["normalized_counts_equal"]
        out["deseq2-normalized vs bare Rscript"] = cmp
    py = _last_result(folder, "PyDESeq2")
    if py is not None:
        cmp = compare(reference, read_results(py / RESULT_FILE), PYDESEQ2_RTOL)
        cmp["normalized_counts_equal"] = compare_counts(r_dir / "normalized_counts.tsv", py / "normalized_counts.tsv")
        cmp["strict"] = False  # reported, not a failure of the benchmark: PyDESeq2 is a re-implementation
        out["PyDESeq2 vs bare Rscript"] = cmp
    return out


def compare_glmgampoi(folder: Path) -> dict[str, object]:
    """How far glmGamPoi's results are from the default fit's (this tool, both)."""
    default = sorted((folder / "deseq2-normalized").glob("*/" + RESULT_FILE))
    gam = sorted((folder / "fit-type_glmGamPoi").glob("*/" + RESULT_FILE))
    if not default or not gam:
        return {}
    cmp = compare(read_results(default[-1]), read_results(gam[-1]), PYDESEQ2_RTOL)
    cmp["strict"] = False
    return cmp


def compare_outputs(one: Path, other: Path) -> dict[str, object]:
    """Whether two runs of this tool wrote the same tables, byte for byte.

    Parameters
    ----------
    one, other
        The output folders of two runs that differ only in ``--threads``.

    Returns
    -------
    dict
        ``tables``: the tab-separated files compared (those of either run), ``differing``: those
        missing from a run or not byte-identical, ``passed``: none differ.
    """
    names = sorted({p.name for p in one.glob("*.tsv")} | {p.name for p in other.glob("*.tsv")})
    differing = [
        n
        for n in names
        if not ((one / n).exists() and (other / n).exists()) or (one / n).read_bytes() != (other / n).read_bytes()
    ]
    return {"tables": names, "differing": differing, "passed": bool(names) and not differing}


def compare_threads(folder: Path, labels: tuple[str, str]) -> dict[str, object]:
    """:func:`compare_outputs` of the last repetition of two labelled extras (their folders under ``folder``)."""
    dirs = [sorted((folder / label).glob("*/" + RESULT_FILE)) for label in labels]
    if not all(dirs):
        return {}
    return compare_outputs(dirs[0][-1].parent, dirs[1][-1].parent)
