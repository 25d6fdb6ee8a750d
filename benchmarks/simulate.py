"""Simulate DESeq2-normalized count matrices for the benchmarks.

Negative-binomial counts with a realistic mean distribution (many weakly expressed
genes, a long tail of highly expressed ones), DESeq2's dispersion-mean trend with
gene-to-gene scatter, a library-size spread between samples and 10% differentially
expressed genes between two conditions. The raw counts are divided by DESeq2's
median-of-ratios size factors and written like R's ``write.table`` of
``counts(dds, normalized=TRUE)``: 15 significant digits, tab-separated.

Usage::

    python benchmarks/simulate.py --genes 20000 --samples 12 --seed 1 --out DIR

writes ``DIR/counts_20000x12.tsv`` and ``DIR/samples_20000x12.tsv``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

log = logging.getLogger("simulate")

#: Named sizes used by the benchmark: genes, samples, seed.
SIZES = {
    "tiny": (500, 4, 5),
    "small": (20_000, 12, 1),
    "medium": (60_000, 48, 2),
    "large": (60_000, 200, 3),
}


def simulate_raw(genes: int, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw NB counts, the library-size factors used, and the condition of each sample.

    Parameters
    ----------
    genes, samples
        Shape of the matrix.
    seed
        Seed of numpy's default generator.

    Returns
    -------
    counts : numpy.ndarray
        int64, genes x samples.
    library : numpy.ndarray
        The library-size multiplier of each sample (geometric mean 1).
    condition : list of str
        ``A`` or ``B`` per sample (first half A).
    """
    rng = np.random.default_rng(seed)
    # Gene means: a mixture of barely expressed genes and a log-normal bulk.
    base = np.where(rng.random(genes) < 0.3, rng.lognormal(-1.0, 1.0, genes), rng.lognormal(4.0, 1.8, genes))
    # Dispersion trend a0 + a1 / mean (DESeq2's parametric form) with log-normal scatter.
    disp = (0.05 + 2.0 / np.maximum(base, 1e-3)) * rng.lognormal(0.0, 0.5, genes)
    disp = np.minimum(disp, 20.0)
    lfc = np.where(rng.random(genes) < 0.1, rng.normal(0.0, 1.0, genes), 0.0)
    condition = ["A" if j < samples // 2 else "B" for j in range(samples)]
    library = np.exp(rng.normal(0.0, 0.35, samples))
    library /= np.exp(np.mean(np.log(library)))
    effect = np.array([0.0 if c == "A" else 1.0 for c in condition])
    mu = base[:, None] * np.exp2(lfc[:, None] * effect[None, :]) * library[None, :]
    # NB(mean mu, dispersion d) as a gamma-Poisson mixture.
    shape = 1.0 / disp[:, None]
    lam = rng.gamma(np.broadcast_to(shape, mu.shape), mu / shape)
    counts = np.asarray(rng.poisson(lam), dtype=np.int64)
    return counts, library, condition


def median_of_ratios(counts: np.ndarray) -> np.ndarray:
    """DESeq2's ``estimateSizeFactorsForMatrix`` (median-of-ratios) on a raw count matrix."""
    with np.errstate(divide="ignore"):
        logs = np.log(counts.astype(np.float64))
    log_geo = logs.mean(axis=1)
    usable = np.isfinite(log_geo)
    return np.exp(np.median(logs[usable] - log_geo[usable, None], axis=0))


def write_r_table(path: Path, values: np.ndarray, genes: list[str], samples: list[str]) -> None:
    r"""Write like R's ``write.table(x, sep="\t", quote=FALSE, col.names=NA)``: 15 significant digits."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(["", *samples]) + "\n")
        fmt = "\t".join(["%s"] + ["%.15g"] * len(samples)) + "\n"
        chunk = 2000
        for start in range(0, len(genes), chunk):
            rows = values[start : start + chunk]
            fh.write(
                "".join(fmt % (g, *row) for g, row in zip(genes[start : start + chunk], rows.tolist(), strict=True))
            )


def simulate(genes: int, samples: int, seed: int, out: Path) -> tuple[Path, Path]:
    """Simulate one normalized matrix and its sample sheet into ``out``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    counts_path = out / f"counts_{genes}x{samples}.tsv"
    samples_path = out / f"samples_{genes}x{samples}.tsv"
    raw, _library, condition = simulate_raw(genes, samples, seed)
    sf = median_of_ratios(raw)
    normalized = raw / sf[None, :]
    gene_ids = [f"GENE{i:06d}" for i in range(1, genes + 1)]
    sample_ids = [f"S{j:03d}" for j in range(1, samples + 1)]
    tmp = counts_path.with_suffix(".tmp")
    write_r_table(tmp, normalized, gene_ids, sample_ids)
    tmp.replace(counts_path)
    samples_path.write_text(
        "sample\tcondition\n" + "".join(f"{s}\t{c}\n" for s, c in zip(sample_ids, condition, strict=True)),
        encoding="utf-8",
    )
    log.info(
        "simulated %d x %d (seed %d): size factors %.2f-%.2f, %.0f%% zeros -> %s",
        genes,
        samples,
        seed,
        sf.min(),
        sf.max(),
        100 * np.mean(raw == 0),
        counts_path,
    )
    return counts_path, samples_path


def main(argv: list[str] | None = None) -> int:
    """Command line: simulate one matrix."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="simulate: %(message)s", stream=sys.stderr)
    simulate(args.genes, args.samples, args.seed, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
