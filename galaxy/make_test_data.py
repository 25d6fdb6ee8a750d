"""Make the small galaxy_* test files of the Galaxy tool from the pasilla test data.

Run from the repository root: ``python galaxy/make_test_data.py``. Deterministic; see
test-data/galaxy_SOURCE.md for what each file is.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "test-data"
STEP = 6  # keep every 6th gene: about 2,400 of 14,599 (VST needs 1,000 with mean > 5)
# Genes that must be present: strongly changed by the pasilla knock-down (used in assertions).
KEEP = {"FBgn0039155", "FBgn0025111", "FBgn0029167", "FBgn0003360", "FBgn0035085"}


def _read(name: str) -> list[list[str]]:
    with open(DATA / name, newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def _write(name: str, rows: list[list[str]], delimiter: str = "\t") -> None:
    with open(DATA / name, "w", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)


def _subset(rows: list[list[str]]) -> list[list[str]]:
    header, body = rows[0], rows[1:]
    return [header] + [r for i, r in enumerate(body) if i % STEP == 0 or r[0] in KEEP]


def _not_normalized(rows: list[list[str]]) -> list[list[str]]:
    """A table that is neither DESeq2-normalized, nor raw counts, nor recoverable.

    Each cell gets up to 2% multiplicative noise (so no exact raw counts can be recovered),
    and the values of sample treated2 below its 90th percentile are tripled: its size factor
    (a median) moves by about 3 and the check fails, while its column sum (dominated by the
    largest values) hardly moves, so the table is not estimated counts of unequal depth either.
    """
    noise = random.Random(16)
    out = [rows[0]]
    tripled = rows[0].index("treated2")
    column = sorted(float(row[tripled]) for row in rows[1:])
    high = column[int(0.9 * len(column))]
    for row in rows[1:]:
        cells = [row[0]]
        for j, cell in enumerate(row[1:], start=1):
            value = float(cell) * (1 + noise.uniform(-0.02, 0.02))
            value *= 3 if j == tripled and float(cell) < high else 1
            cells.append(f"{value:.3f}")
        out.append(cells)
    return out


def _estimated(rows: list[list[str]]) -> list[list[str]]:
    """Estimated counts as an EM quantifier writes them: a random fraction (2 decimals) on every non-zero count."""
    fraction = random.Random(20)
    out = [rows[0]]
    for row in rows[1:]:
        values = [float(c) for c in row[1:]]
        out.append([row[0]] + [f"{max(v + fraction.uniform(-0.5, 0.5), 0.01):.2f}" if v else "0" for v in values])
    return out


def _tpm(rows: list[list[str]]) -> list[list[str]]:
    """TPM of the counts with gene lengths drawn between 500 and 8,000 bases (2 decimals)."""
    lengths = random.Random(21)
    body = [(row[0], [float(c) for c in row[1:]], lengths.randint(500, 8000)) for row in rows[1:]]
    totals = [sum(values[j] / length for _, values, length in body) for j in range(len(rows[0]) - 1)]
    out = [rows[0]]
    for gene, values, length in body:
        out.append([gene] + [f"{v / length / totals[j] * 1e6:.2f}" for j, v in enumerate(values)])
    return out


def main() -> None:
    """Write the galaxy_* files into test-data/ from the pasilla tables.

    A gene subset of the normalized matrix (as TSV and CSV, and with two annotation columns) and
    of the raw counts; a not-normalized copy of the normalized subset (noisy, treated2's lower 90%
    tripled); estimated counts and TPM made from the raw-count subset; the sample sheet as
    CSV; and a sample sheet (TSV) with a three-level ``dose`` factor (treated samples split into
    high and low, untreated ones ``none``).
    """
    normalized = _subset(_read("pasilla_normalized.tsv"))
    _write("galaxy_normalized.tsv", normalized)
    _write("galaxy_normalized.csv", normalized, delimiter=",")
    _write("galaxy_raw_counts.tsv", _subset(_read("pasilla_counts.tsv")))
    _write("galaxy_not_normalized.tsv", _not_normalized(normalized))
    raw = _subset(_read("pasilla_counts.tsv"))
    _write("galaxy_estimated.tsv", _estimated(raw))
    _write("galaxy_tpm.tsv", _tpm(raw))
    # A GEO-style table: gene symbol and description text columns between the gene IDs and the samples.
    annotated = [[normalized[0][0], "symbol", "description", *normalized[0][1:]]]
    for i, row in enumerate(normalized[1:], start=1):
        annotated.append([row[0], f"sym{i}", f"gene {i}, made up", *row[1:]])
    _write("galaxy_annotated.tsv", annotated)
    samples = _read("pasilla_samples.tsv")
    _write("galaxy_samples.csv", samples, delimiter=",")
    # A three-level factor for the several-contrasts test: treated samples split in two doses.
    dose = {"treated1": "high", "treated2": "low", "treated3": "high"}
    three = [["sample", "dose", "type"]]
    for name, condition, kind in samples[1:]:
        three.append([name, dose.get(name, "none") if condition == "treated" else "none", kind])
    _write("galaxy_samples_3levels.tsv", three)


if __name__ == "__main__":
    main()
