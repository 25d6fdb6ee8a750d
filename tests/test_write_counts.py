"""The vectorized integer writer of outputs.write_table writes exactly what to_csv writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.outputs import write_table


def _frames() -> list[pd.DataFrame]:
    rng = np.random.default_rng(0)
    values = rng.negative_binomial(0.5, 0.001, size=(5000, 5)).astype(float)
    values[0] = 0
    values[1, :] = [9, 10, 99, 100, 2**32 - 1]
    values[2, :] = [2**32, 1e12, 1, 0, 7]
    genes = [f"g{i}" for i in range(5000)]
    return [
        pd.DataFrame(values, index=genes, columns=[f"s {j}" for j in range(5)]),
        pd.DataFrame(values[:, :1] % 1000, index=genes, columns=["only"]),
        pd.DataFrame(np.zeros((3, 2)), index=["α", "β", "γ"], columns=["x", "y"]),
        pd.DataFrame(np.ones((3, 2)), index=["a,b", "b\tc", 'q"'], columns=["x", "y"]),  # to_csv quotes these
        pd.DataFrame(-np.ones((2, 2)), index=["a", "b"], columns=["x", "y"]),  # negative: to_csv path
    ]


@pytest.mark.parametrize("case", range(5))
def test_integer_matrix_written_like_to_csv(tmp_path: Path, case: int) -> None:
    frame = _frames()[case]
    write_table(frame, tmp_path / "fast.tsv", "gene_id")
    frame.astype(np.int64).to_csv(tmp_path / "ref.tsv", sep="\t", na_rep="NA", index_label="gene_id")
    assert (tmp_path / "fast.tsv").read_bytes() == (tmp_path / "ref.tsv").read_bytes()


@pytest.mark.parametrize("case", range(5))
def test_int64_matrix_written_like_to_csv(tmp_path: Path, case: int) -> None:
    # Recovered counts are int64 frames: the same fast path (to_csv when labels need quoting or values are negative).
    frame = _frames()[case].astype(np.int64)
    write_table(frame, tmp_path / "fast.tsv", "gene_id")
    frame.to_csv(tmp_path / "ref.tsv", sep="\t", na_rep="NA", index_label="gene_id")
    assert (tmp_path / "fast.tsv").read_bytes() == (tmp_path / "ref.tsv").read_bytes()


def test_float_table_written_like_to_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e16, 1e15, 1e-5, 1e-4, 5e-324, 1.7976931348623157e308, 0.1, 3.0]
    values = np.concatenate([rng.normal(size=4000), rng.lognormal(0, 20, 4000), special, [np.nan] * 3])
    frame = pd.DataFrame(values.reshape(-1, 4), index=[f"g{i}" for i in range(len(values) // 4)], columns=list("abcd"))
    write_table(frame, tmp_path / "fast.tsv", "gene_id")
    frame.to_csv(tmp_path / "ref.tsv", sep="\t", na_rep="NA", index_label="gene_id")
    assert (tmp_path / "fast.tsv").read_bytes() == (tmp_path / "ref.tsv").read_bytes()
