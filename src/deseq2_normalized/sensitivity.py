"""Rounding sensitivity: DESeq2 refitted on stochastic roundings of the table, and how stable the calls are.

The refits start beside the main fit (in forked R processes when there are threads for
them) and are collected once the main run's results exist: each results table then gets
its ``rounding_agreement`` column and a :class:`~deseq2_normalized.rounding.CallStability`.
The roundings and the agreement are pure numpy (:mod:`deseq2_normalized.rounding`); R is
reached through :mod:`deseq2_normalized.rbackend`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from deseq2_normalized import rbackend, rounding
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import Plan
from deseq2_normalized.progress import stage
from deseq2_normalized.rounding import CallStability

log = logging.getLogger(__name__)

#: What the ``rounding_agreement`` column of a results table holds.
AGREEMENT_COLUMN = "rounding_agreement: in how many roundings the gene's call (up, down, none) equals the main run's"


@dataclass(frozen=True)
class RoundingSensitivity:
    """The stochastic roundings' summary, per results file.

    Attributes
    ----------
    roundings
        How many stochastic roundings were refitted.
    seed
        Seed of the roundings.
    alpha
        Cut-off on ``padj`` of a DE call.
    contrasts
        Per results file (``results_....tsv``), in output order, how stable its calls are.
    """

    roundings: int
    seed: int
    alpha: float
    contrasts: dict[str, CallStability]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as ``diagnostics.json`` holds it."""
        return {
            "roundings": self.roundings,
            "seed": self.seed,
            "alpha": self.alpha,
            "column": AGREEMENT_COLUMN,
            "contrasts": {name: summary.to_dict() for name, summary in self.contrasts.items()},
        }


@dataclass
class PendingRefits:
    """Refits under way: a resource handle, collected or stopped once (later calls do nothing).

    Attributes
    ----------
    plan, opts
        The run's plan and options (what the refits test, and how).
    refits
        The R side's handle.
    """

    plan: Plan
    opts: AnalysisOptions
    refits: rbackend.PendingRefits = field(repr=False)
    _open: bool = field(default=True, repr=False)

    @property
    def forks(self) -> int:
        """Forked R processes working on the refits beside this one until they are collected."""
        return self.refits.forks

    def collect(self, results: dict[str, pd.DataFrame]) -> tuple[RoundingSensitivity, dict[str, pd.DataFrame]]:
        """Wait for the refits; their summary, and new results tables with the ``rounding_agreement`` column.

        Raises
        ------
        RuntimeError
            When the refits were already collected or stopped.
        """
        if not self._open:
            raise RuntimeError("the rounding-sensitivity refits were already collected or stopped")
        self._open = False
        return _summarize(self.plan, self.opts, self.refits, results)

    def stop(self) -> None:
        """Stop the forked R processes of refits that will not be collected; nothing once collected or stopped."""
        if self._open:
            self._open = False
            rbackend.stop_refits(self.refits)


def start(plan: Plan, opts: AnalysisOptions, values: pd.DataFrame) -> PendingRefits:
    """Start the refits: DESeq2 on ``opts.rounding_sensitivity`` stochastic roundings of ``values``."""
    k = opts.rounding_sensitivity
    refits = rbackend.start_refits(
        rounding.stochastic_roundings(values.to_numpy(), k, opts.seed),
        values.index,
        plan.coldata,
        plan.aliases,
        plan.design.r_formula(plan.aliases),
        contrasts=[contrast for _, contrast in plan.tests],
        test=opts.test,
        reduced=(plan.reduced.r_formula(plan.aliases) if plan.reduced else "~ 1") if opts.test == "lrt" else None,
        fit_options=opts.fit_options,
        results_options=opts.results_options,
        threads=opts.threads,
    )
    if refits.forks:
        log.info(
            "rounding sensitivity: %d refits started in %d forked R process%s beside the main fit",
            k,
            refits.forks,
            "es" if refits.forks > 1 else "",
        )
    return PendingRefits(plan, opts, refits)


def _summarize(
    plan: Plan, opts: AnalysisOptions, refits: rbackend.PendingRefits, results: dict[str, pd.DataFrame]
) -> tuple[RoundingSensitivity, dict[str, pd.DataFrame]]:
    """Collect the refits; the summary, and each results table with its ``rounding_agreement`` column."""
    k = opts.rounding_sensitivity
    directional = opts.test == "wald"
    main = {stem: rounding.calls(table, opts.alpha, directional) for stem, table in results.items()}
    with stage(f"rounding sensitivity: {k} refits"):
        tables = rbackend.collect_refits(refits)
    # Each refit has a table per test, in the order of plan.tests.
    reruns = {stem: [rounding.calls(refit[i], opts.alpha, directional) for refit in tables]
              for i, (stem, _) in enumerate(plan.tests)}  # fmt: skip
    per_contrast = {}
    with_agreement = {}
    for stem, table in results.items():
        agree = rounding.agreement(main[stem], reruns[stem])
        with_agreement[stem] = table.assign(rounding_agreement=agree)
        summary = rounding.summarize(main[stem], reruns[stem], agree)
        per_contrast[f"{stem}.tsv"] = summary
        log.warning(
            "rounding sensitivity, %s: %d of %d genes called DE in some run (%.1f%%) changed their call "
            "in at least one of %d stochastic roundings",
            stem,
            summary.unstable_calls,
            summary.called_in_any_run,
            100 * summary.unstable_fraction,
            k,
        )
    return RoundingSensitivity(k, opts.seed, opts.alpha, per_contrast), with_agreement
