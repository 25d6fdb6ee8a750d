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

    Each cell gets up to 2% multiplicative noise (so no exact raw counts can be recovered)
    and sample treated2 is then doubled (so its size factor is about 2 and the check fails).
    """
    noise = random.Random(16)
    out = [rows[0]]
    doubled = rows[0].index("treated2")
    for row in rows[1:]:
        cells = [row[0]]
        for j, cell in enumerate(row[1:], start=1):
            value = float(cell) * (1 + noise.uniform(-0.02, 0.02)) * (2 if j == doubled else 1)
            cells.append(f"{value:.3f}")
        out.append(cells)
    return out


def main() -> None:
    """Write the galaxy_* files into test-data/ from the pasilla tables.

    A gene subset of the normalized matrix (as TSV and CSV, and with two annotation columns) and
    of the raw counts; a
    not-normalized copy of the normalized subset (noisy, treated2 doubled); the sample sheet as
    CSV; and a sample sheet (TSV) with a three-level ``dose`` factor (treated samples split into
    high and low, untreated ones ``none``).
    """
    normalized = _subset(_read("pasilla_normalized.tsv"))
    _write("galaxy_normalized.tsv", normalized)
    _write("galaxy_normalized.csv", normalized, delimiter=",")
    _write("galaxy_raw_counts.tsv", _subset(_read("pasilla_counts.tsv")))
    _write("galaxy_not_normalized.tsv", _not_normalized(normalized))
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
