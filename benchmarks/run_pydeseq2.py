"""The PyDESeq2 side of the benchmark: the rounding recipe done with PyDESeq2.

Reads the normalized table, rounds it (half to even, as R), fixes every size factor to 1,
runs ``DeseqDataSet.deseq2()`` (``refit_cooks=True``, ``min_replicates=7`` as DESeq2) and
``DeseqStats`` for condition B vs A at ``alpha=0.1`` (DESeq2's default; PyDESeq2's is 0.05),
then writes the results sorted by padj then pvalue and the normalized counts, like
``deseq2-normalized run --transform none``. With ``--transform vst`` it also writes
PyDESeq2's vst (``use_design=True``, the counterpart of DESeq2's ``blind=FALSE``).

Usage::

    python run_pydeseq2.py COUNTS SAMPLES OUT_DIR [--transform none|vst] [--cpus 1]

Runs in its own virtual environment (``benchmarks/.venv-bench``, see requirements.txt).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="PyDESeq2 with size factors fixed to 1")
    parser.add_argument("counts", type=Path)
    parser.add_argument("samples", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--transform", choices=("none", "vst"), default="none")
    parser.add_argument("--cpus", type=int, default=1, help="PyDESeq2 n_cpus (default 1, as serial DESeq2)")
    args = parser.parse_args(argv)

    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    table = pd.read_csv(args.counts, sep="\t", index_col=0)
    counts = pd.DataFrame(np.rint(table.to_numpy()).astype(np.int64).T, index=table.columns, columns=table.index)
    del table
    samples = pd.read_csv(args.samples, sep="\t", index_col=0, dtype=str).loc[counts.index]

    inference = DefaultInference(n_cpus=args.cpus)
    dds = DeseqDataSet(
        counts=counts,
        metadata=samples,
        design="~condition",
        refit_cooks=True,
        inference=inference,
        quiet=True,
    )

    def fixed_size_factors(*_args: object, **_kwargs: object) -> None:
        # The table is already normalized: every size factor is 1.
        dds.obs["size_factors"] = np.ones(dds.n_obs)
        dds.layers["normed_counts"] = np.asarray(dds.X, dtype=np.float64)
        dds.var["_normed_means"] = dds.layers["normed_counts"].mean(axis=0)

    dds.fit_size_factors = fixed_size_factors
    dds.deseq2()
    stats = DeseqStats(dds, contrast=["condition", "B", "A"], alpha=0.1, inference=inference, quiet=True)
    stats.summary()
    res = stats.results_df[["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]]
    res = res.sort_values(["padj", "pvalue"], na_position="last", kind="mergesort")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    res.to_csv(args.out_dir / "results_condition_B_vs_A.tsv", sep="\t", na_rep="NA", index_label="gene_id")
    normalized = pd.DataFrame(dds.layers["normed_counts"].T, index=dds.var_names, columns=dds.obs_names)
    normalized.astype(np.int64).to_csv(args.out_dir / "normalized_counts.tsv", sep="\t", index_label="gene_id")
    if args.transform == "vst":
        dds.vst(use_design=True)
        vst = pd.DataFrame(dds.layers["vst_counts"].T, index=dds.var_names, columns=dds.obs_names)
        vst.to_csv(args.out_dir / "transformed_counts.tsv", sep="\t", index_label="gene_id")
    return 0


if __name__ == "__main__":
    sys.exit(main())
