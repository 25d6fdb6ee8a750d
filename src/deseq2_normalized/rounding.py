"""How much rounding the normalized table moves the DE calls.

Pure numpy: stochastic roundings of the table and the agreement of DE calls between
the main run and reruns on those roundings. DESeq2 reruns are driven by
:mod:`deseq2_normalized.sensitivity`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


def stochastic_roundings(values: np.ndarray, k: int, seed: int) -> Iterator[np.ndarray]:
    """Yield ``k`` integer versions of ``values``, each cell rounded up with probability equal to its fraction.

    Parameters
    ----------
    values
        Non-negative genes x samples values.
    k
        Number of roundings.
    seed
        Seed of the random generator (the same seed gives the same roundings).

    Yields
    ------
    numpy.ndarray
        int64 arrays of the shape of ``values``; each is unbiased: its expectation is ``values``.
    """
    rng = np.random.default_rng(seed)
    floor = np.floor(values)
    fraction = values - floor
    base = floor.astype(np.int64)
    for _ in range(k):
        yield base + (rng.random(values.shape) < fraction)


def calls(table: pd.DataFrame, alpha: float, directional: bool = True) -> pd.Series:
    """DE call per gene: +1 up, -1 down, 0 not significant (or untested) at ``alpha``.

    Parameters
    ----------
    table
        A results table with ``padj`` and ``stat`` columns.
    alpha
        Cut-off on ``padj``.
    directional
        Use the sign of the Wald statistic; an LRT call has no direction (+1 when significant).

    Returns
    -------
    pandas.Series
        int8 calls indexed like ``table``.
    """
    significant = (table["padj"] < alpha).to_numpy()
    direction = np.sign(table["stat"].to_numpy()) if directional else np.ones(len(table))
    return pd.Series(np.where(significant, direction, 0).astype(np.int8), index=table.index)


def agreement(main: pd.Series, reruns: list[pd.Series]) -> pd.Series:
    """Per gene, in how many reruns the call equals the main run's call.

    Parameters
    ----------
    main
        Calls of the main run.
    reruns
        Calls of each rerun (any gene order).

    Returns
    -------
    pandas.Series
        Counts from 0 to ``len(reruns)``, indexed like ``main``.
    """
    same: np.ndarray = np.zeros(len(main), dtype=np.int64)
    for rerun in reruns:
        same += (rerun.reindex(main.index).to_numpy() == main.to_numpy()).astype(np.int64)
    return pd.Series(same, index=main.index, name="rounding_agreement")


@dataclass(frozen=True)
class CallStability:
    """How stable one results table's DE calls are under stochastic rounding.

    Attributes
    ----------
    main_calls
        Genes called DE in the main run.
    called_in_any_run
        Genes called DE in the main run or in any rerun.
    unstable_calls
        Of those, the genes whose call is not the same in every run.
    unstable_fraction
        ``unstable_calls / called_in_any_run`` (0 when no gene was called).
    """

    main_calls: int
    called_in_any_run: int
    unstable_calls: int
    unstable_fraction: float

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready, as ``diagnostics.json`` holds it."""
        return asdict(self)


def summarize(main: pd.Series, reruns: list[pd.Series], agree: pd.Series) -> CallStability:
    """Unstable calls: genes called DE in the main run or any rerun whose call is not unanimous."""
    called_anywhere = main.to_numpy() != 0
    for rerun in reruns:
        called_anywhere |= rerun.reindex(main.index).to_numpy() != 0
    unstable = called_anywhere & (agree.to_numpy() < len(reruns))
    n_called = int(called_anywhere.sum())
    return CallStability(
        main_calls=int((main != 0).sum()),
        called_in_any_run=n_called,
        unstable_calls=int(unstable.sum()),
        unstable_fraction=float(unstable.sum() / n_called) if n_called else 0.0,
    )
