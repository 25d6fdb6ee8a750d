"""Our results against a reference table DESeq2 wrote in R (``tests/r/raw_deseq2.R``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def assert_agrees(
    ours: pd.DataFrame,
    reference: Path,
    columns: Sequence[str] = ("log2FoldChange", "pvalue", "padj"),
    rtol: float = 1e-8,
) -> pd.DataFrame:
    """Assert the same genes, NA pattern and values (to ``rtol``) in ``columns``; ours in the reference's gene order."""
    ref = pd.read_csv(reference, sep="\t", index_col=0)
    assert sorted(ours.index) == sorted(ref.index)
    ours = ours.loc[ref.index]
    for col in columns:
        a, b = ours[col].to_numpy(), ref[col].to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NA pattern of {col}")
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol, err_msg=col)
    return ours
