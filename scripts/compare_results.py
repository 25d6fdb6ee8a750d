#!/usr/bin/env python3
"""Compare two deseq2-normalized output folders table by table, numerically.

    compare_results.py DIR_A DIR_B [--rtol 1e-5]

Every results_*.tsv and size_factors.tsv must exist in both folders with the same columns and the
same row names (first column: gene or sample); rows are matched by name, because a results table
is sorted by p-value and values equal up to rounding may swap places. Text cells must be equal,
numeric cells equal within ``atol + rtol * |b|`` (default atol 1e-6, rtol 1e-5), with missing
values (NA) in the same places. Used by ``make container-test`` to check a run inside the container
image against one outside it: the two R installations may use different BLAS libraries (the
image's numpy brings OpenBLAS), which changes DESeq2's fitted values in the seventh digit or so.
Prints one line per table to stderr; exits 1 when any table differs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

log = logging.getLogger("compare")


def compare_table(a: Path, b: Path, rtol: float, atol: float) -> tuple[list[str], float]:
    """Compare two tab-separated tables, rows matched by the first column's names.

    Returns
    -------
    tuple[list[str], float]
        The differences (empty when the tables agree) and the largest absolute difference of a
        numeric cell.
    """
    left = pd.read_csv(a, sep="\t", dtype=str, keep_default_na=False)
    right = pd.read_csv(b, sep="\t", dtype=str, keep_default_na=False)
    if list(left.columns) != list(right.columns):
        return [f"columns differ: {list(left.columns)} against {list(right.columns)}"], 0.0
    key = left.columns[0]
    if left.shape != right.shape or set(left[key]) != set(right[key]) or left[key].duplicated().any():
        return [f"rows differ: {len(left)} against {len(right)} rows, or other (or repeated) {key} values"], 0.0
    right = right.set_index(key).loc[left[key]].reset_index()
    problems = []
    largest = 0.0
    for column in left.columns:
        # A column in, a column out (for Python 3.9, pandas-stubs picks to_numeric's scalar overload).
        x = cast(pd.Series, pd.to_numeric(left[column].replace("NA", "nan"), errors="coerce"))
        y = cast(pd.Series, pd.to_numeric(right[column].replace("NA", "nan"), errors="coerce"))
        text_x = x.isna() & ~left[column].isin(["NA", "nan", "NaN", ""])
        if text_x.any():
            if not left[column].equals(right[column]):
                bad = int((left[column] != right[column]).sum())
                problems.append(f"column {column!r}: {bad} text cells differ")
            continue
        if not np.array_equal(x.isna().to_numpy(), y.isna().to_numpy()):
            problems.append(f"column {column!r}: missing values in different rows")
            continue
        difference = np.abs(x.to_numpy(float) - y.to_numpy(float))
        if (~np.isnan(difference)).any():
            largest = max(largest, float(np.nanmax(difference)))
        close = np.isclose(x.to_numpy(float), y.to_numpy(float), rtol=rtol, atol=atol, equal_nan=True)
        if not close.all():
            worst = int(np.nanargmax(difference))
            problems.append(
                f"column {column!r}: {int((~close).sum())} values differ beyond atol {atol} + rtol {rtol} "
                f"(e.g. {left[key].iloc[worst]}: {left[column].iloc[worst]} against {right[column].iloc[worst]})"
            )
    return problems, largest


def main(argv: list[str] | None = None) -> int:
    """Compare the results_*.tsv and size_factors.tsv tables of two output folders.

    Exit code 0 when every table agrees, 1 when the folders hold different tables or any
    table differs.
    """
    logging.basicConfig(level=logging.INFO, format="compare: %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--atol", type=float, default=1e-6)
    args = parser.parse_args(argv)
    names = [*sorted(p.name for p in args.a.glob("results_*.tsv")), "size_factors.tsv"]
    others = [*sorted(p.name for p in args.b.glob("results_*.tsv")), "size_factors.tsv"]
    if names != others or len(names) < 2:
        log.error("the folders hold different results tables: %s against %s", names, others)
        return 1
    failed = False
    for name in names:
        if not (args.a / name).exists() or not (args.b / name).exists():
            log.error("%s: missing in one folder", name)
            failed = True
            continue
        problems, largest = compare_table(args.a / name, args.b / name, args.rtol, args.atol)
        rows = sum(1 for _ in (args.a / name).open()) - 1
        if problems:
            failed = True
            for problem in problems:
                log.error("%s: %s", name, problem)
        else:
            log.info(
                "%s: %d rows equal (largest difference %.3g; atol %g, rtol %g)",
                name,
                rows,
                largest,
                args.atol,
                args.rtol,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
