#!/usr/bin/env python3
"""Recovery rates by written precision: the evidence table of docs/recovery.md.

Simulates raw negative-binomial counts (many zeros), normalizes them with DESeq2's
median-of-ratios size factors (the estimator is tested against DESeq2 itself) or as CPM /
TMM-like CPM, optionally keeps only expressed genes or a subset of samples, writes the table
as text at each precision, parses it back as the tool does and recovers the counts. Reports,
per table form, the share of samples per verdict, the share of counts recovered exactly, and
the number of wrong claims (an exact sample with a wrong count, or a bounded one outside its
stated bound; it must be 0).

Usage: python scripts/recovery_rates.py [--reps 3] [--genes 20000] [--samples 12]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from deseq2_normalized.recovery import recover_counts
from deseq2_normalized.sizefactors import median_of_ratios

FORMATS = {
    "full precision (17 digits)": lambda x: f"{x:.17g}",
    "15 significant digits (R write.table)": lambda x: f"{x:.15g}",
    "6 significant digits": lambda x: f"{x:.6g}",
    "2 decimals": lambda x: f"{x:.2f}",
    "1 decimal": lambda x: f"{x:.1f}",
}


def _deseq2(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return raw, raw / median_of_ratios(raw)


def _top(n: int):
    def form(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        norm = raw / median_of_ratios(raw)
        keep = np.argsort(-norm.mean(axis=1), kind="stable")[:n]
        return raw[keep], norm[keep]

    return form


def _above_in_every_sample(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = raw / median_of_ratios(raw)
    keep = (norm >= 10).all(axis=1)
    return raw[keep], norm[keep]


def _half_the_samples(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = raw / median_of_ratios(raw)
    return raw[:, ::2], norm[:, ::2]


def _cpm(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return raw, raw / raw.sum(axis=0) * 1e6


def _tmm_like_cpm(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factors = np.exp(np.random.default_rng(raw.shape[1]).uniform(np.log(0.8), np.log(1.25), raw.shape[1]))
    return raw, raw / (raw.sum(axis=0) * factors) * 1e6


#: Table forms beyond the plain DESeq2 table: name, form (raw -> expected raw, values), format.
FORMS = [(name, _deseq2, fmt) for name, fmt in FORMATS.items()] + [
    ("top 5,000 genes by mean, 15 significant digits", _top(5000), FORMATS["15 significant digits (R write.table)"]),
    ("top 1,000 genes by mean, 2 decimals", _top(1000), FORMATS["2 decimals"]),
    ("genes >= 10 in every sample, 2 decimals", _above_in_every_sample, FORMATS["2 decimals"]),
    ("every other sample, 15 significant digits", _half_the_samples, FORMATS["15 significant digits (R write.table)"]),
    ("CPM, 2 decimals", _cpm, FORMATS["2 decimals"]),
    ("TMM-like CPM, full precision", _tmm_like_cpm, FORMATS["full precision (17 digits)"]),
    ("TMM-like CPM, 2 decimals", _tmm_like_cpm, FORMATS["2 decimals"]),
]


def simulate(genes: int, samples: int, seed: int) -> np.ndarray:
    """Raw counts with size factors spread from 0.2 to 5 and many zeros."""
    rng = np.random.default_rng(seed)
    sf = np.exp(rng.uniform(np.log(0.2), np.log(5), samples))
    mu = np.exp(rng.normal(3, 2.2, genes))
    counts = np.asarray(rng.negative_binomial(5, 5 / (5 + np.outer(mu, sf))))
    return counts[counts.sum(axis=1) > 0]


def written(values: np.ndarray, fmt) -> np.ndarray:
    """The values as read back after writing each one as text with ``fmt`` (a number to a string)."""
    text = np.vectorize(fmt, otypes=[str])(values)
    return text.astype(np.float64)


def main(argv: list[str] | None = None) -> int:
    """Print the recovery-rate table (Markdown) to stdout; progress, one line per table form, to stderr.

    For each table form, ``--reps`` simulated tables (seeds 100, 101, ...) are written, read back
    and recovered with :func:`~deseq2_normalized.recovery.recover_counts`. The exit code is
    always 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--samples", type=int, default=12)
    args = parser.parse_args(argv)
    rows = []
    for name, form, fmt in FORMS:
        verdicts: dict[str, int] = {"exact": 0, "bounded": 0, "approximate": 0, "not_recoverable": 0}
        correct = total = wrong = 0
        seconds = 0.0
        for rep in range(args.reps):
            raw, values = form(simulate(args.genes, args.samples, seed=100 + rep))
            table = pd.DataFrame(written(values, fmt))
            start = time.perf_counter()
            result = recover_counts(table)
            seconds += time.perf_counter() - start
            got = result.counts.to_numpy()
            for j, record in enumerate(result.samples):
                verdicts[record.verdict] += 1
                # An exact count must be right; a bounded one within its stated relative bound.
                slack = record.max_relative_uncertainty * got[:, j] if record.verdict == "bounded" else 0
                if record.usable and not np.all(np.abs(got[:, j] - raw[:, j]) <= slack):
                    wrong += 1
            correct += int((got == raw).sum())
            total += raw.size
        n = sum(verdicts.values())
        rows.append(
            {
                "table": name,
                **{k.replace("_", " "): f"{100 * v / n:.1f}%" for k, v in verdicts.items()},
                "counts correct": f"{100 * correct / total:.4f}%",
                "wrong claims": wrong,
                "s per table": f"{seconds / args.reps:.2f}",
            }
        )
        print(f"done: {name}", file=sys.stderr)
    frame = pd.DataFrame(rows)
    header = "| " + " | ".join(frame.columns) + " |"
    print(header)
    print("|" + "---|" * len(frame.columns))
    for _, row in frame.iterrows():
        print("| " + " | ".join(str(v) for v in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
