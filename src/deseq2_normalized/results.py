"""What a run produces, as typed values: the table's check, the method used and the analysis result.

Built by :mod:`deseq2_normalized.analysis` and read by the outputs, the report, the plots
and :mod:`deseq2_normalized.diagnostics`; none of them is changed once built (collecting
the rounding-sensitivity refits gives a new :class:`AnalysisResult`). The words of the
verdict are in :mod:`deseq2_normalized.verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from deseq2_normalized import rbackend, verdict
from deseq2_normalized.choices import Method
from deseq2_normalized.classify import Classification, rounded_table
from deseq2_normalized.contrasts import Contrast, ResultSummary
from deseq2_normalized.design import Design
from deseq2_normalized.errors import AnalysisError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.recovery import RecoveryResult, SizeFactorChoice
from deseq2_normalized.sensitivity import PendingRefits, RoundingSensitivity
from deseq2_normalized.sizefactors import SizeFactorCheck


@dataclass(frozen=True)
class InputNames:
    """What messages and the report call the inputs (``--counts-name``/``--samples-name``, or the paths).

    Attributes
    ----------
    counts
        The count table's name.
    sample_sheet
        The sample sheet's, when one was given.
    batch_factors
        The batch-factor file's (``--batch-factors``), when one was given.
    """

    counts: str
    sample_sheet: str | None = None
    batch_factors: str | None = None

    def roles(self) -> list[tuple[str, str]]:
        """Each given input's role and name, the counts first."""
        given = [("counts", self.counts), ("sample sheet", self.sample_sheet), ("batch factors", self.batch_factors)]
        return [(role, name) for role, name in given if name]


#: How the table became counts for DESeq2 (:attr:`MethodUsed.name`).
MethodName = Literal["round", "recover", "estimated", "raw"]

#: What the default ``--method auto`` does with a table: a method that fits, or ``"refuse"``
#: (exit 2: not counts) or ``"stop"`` (exit 1: it would be rounded over a failed size-factor check).
DefaultMethod = Literal["recover", "raw", "estimated", "round", "refuse", "stop"]


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` learns about a table without fitting anything.

    Attributes
    ----------
    counts
        The validated table (float64), less its pseudocount when one was found.
    non_integer_fraction
        Fraction of cells that are not whole numbers.
    size_factors
        The size-factor check.
    samples
        The matched sample table, when a sample sheet was given.
    classification
        What kind of table this is, with the count-recovery attempt.
    """

    counts: pd.DataFrame
    non_integer_fraction: float
    size_factors: SizeFactorCheck
    samples: pd.DataFrame | None = None
    classification: Classification | None = None

    @property
    def rounded(self) -> pd.DataFrame:
        """``counts`` rounded to integers (half to even, as R's ``round``), made when asked for.

        ``check`` never needs the whole rounded table: it is not held beside the values.
        """
        return rounded_table(self.counts)

    @property
    def explanation(self) -> str:
        """Plain words on a failed check, from the table's classification (empty when it passed)."""
        if self.size_factors.passed or self.classification is None:
            return ""
        return self.classification.explain_failed_check()

    @property
    def default_method(self) -> DefaultMethod:
        """What ``--method auto`` does with this table (see :data:`DefaultMethod`)."""
        cls = self.classification
        if cls is None:
            return "stop" if not self.size_factors.passed else "round"
        if cls.action == "round" and not self.size_factors.passed:
            return "stop"
        return cls.action

    def check_failed_for(self, method: str) -> bool:
        """Whether the size-factor check failed where it matters: only the rounding method relies on it."""
        return method in ("round", "stop") and not self.size_factors.passed

    def story(self, method: str) -> str:
        """The verdict on the table for ``method`` (see :func:`deseq2_normalized.verdict.story`)."""
        return verdict.story(self, method)

    @property
    def verdict(self) -> str:
        """The verdict on the table for what the default ``--method auto`` does with it."""
        return self.story(self.default_method)

    def stop_if_failed(self, method: str) -> None:
        """Stop when the size-factor check failed where it matters for ``method``.

        Raises
        ------
        AnalysisError
            When :meth:`check_failed_for` ``method``; the message is the verdict.
        """
        if self.check_failed_for(method):
            raise AnalysisError(self.story("stop"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "genes": int(self.counts.shape[0]),
            "samples": int(self.counts.shape[1]),
            "non_integer_fraction": self.non_integer_fraction,
            "size_factor_check": self.size_factors.to_dict(),
            "verdict": self.verdict,
            "default_method": self.default_method,
            "classification": self.classification.to_dict() if self.classification else None,
        }


@dataclass(frozen=True)
class MethodUsed:
    """How the normalized table became counts for DESeq2, and why.

    Attributes
    ----------
    name
        ``"round"``, ``"recover"``, ``"estimated"`` (estimated counts rounded, size factors
        estimated) or ``"raw"`` (standard DESeq2 on a table of raw counts).
    requested
        The ``method`` option: ``"auto"``, ``"round"``, ``"recover"`` or ``"estimated"``.
    why
        Plain words on the choice.
    recovery
        The count recovery, when the counts were recovered.
    size_factors
        Which size factors DESeq2 got, and why.
    size_factor_values
        The size factors of the fitted model, per sample.
    """

    name: MethodName
    requested: Method
    why: str
    recovery: RecoveryResult | None
    size_factors: SizeFactorChoice
    size_factor_values: pd.Series = field(repr=False)

    @property
    def description(self) -> str:
        """What the method does, in a line."""
        return {
            "round": "normalized table rounded to integers; every DESeq2 size factor set to 1",
            "estimated": "estimated counts rounded to integers; size factors estimated by DESeq2",
            "recover": "raw integer counts recovered from the normalized table; DESeq2 on them",
            "raw": "the table holds raw counts: standard DESeq2, size factors estimated by DESeq2",
        }[self.name]


@dataclass(frozen=True)
class AnalysisResult:
    """Everything a run produces.

    Attributes
    ----------
    results
        Result table per output stem (``results_...``), sorted by padj then pvalue, NA last.
    summaries
        Per results table, in output order: its contrast (None for the LRT), file name and
        genes up and down at ``alpha``.
    normalized
        DESeq2's normalized counts.
    transformed
        The vst or rlog assay, or ``None``.
    check
        The size-factor check and input facts.
    dispersions
        Per-gene dispersion estimates (for plots).
    model
        Handle on the fitted DESeqDataSet in R.
    options
        The options of the run.
    design
        The design formula.
    method
        How the table became counts, and the size factors DESeq2 used.
    source
        Name of the counts in messages and the diagnostics.
    notes
        What reading the file did (decimal commas, annotation kept, columns left out).
    versions
        Versions of the software that ran (see :func:`software_versions`).
    coldata
        Samples x design variables (categorical, reference level first), as given to DESeq2.
    rounded_dispersions
        When the counts were recovered (and ``compare_rounded``): per-gene dispersions
        estimated from the rounded table with size factors 1, for comparison.
    rounding_sensitivity
        When run: the stochastic roundings' summary per results file.
    rlog
        With ``transform="both"``: the rlog values (``transformed`` then holds the vst ones).
    pending_refits
        Rounding-sensitivity refits still running, when :func:`~deseq2_normalized.analysis.run_analysis`
        was told not to wait for them: :meth:`collect_refits` gives the result with them.
    """

    results: dict[str, pd.DataFrame]
    summaries: list[ResultSummary]
    normalized: pd.DataFrame
    transformed: pd.DataFrame | None
    check: CheckResult
    dispersions: pd.DataFrame
    model: rbackend.FittedModel = field(repr=False)
    options: AnalysisOptions
    design: Design
    method: MethodUsed
    source: str
    notes: tuple[str, ...]
    versions: dict[str, str]
    coldata: pd.DataFrame | None = None
    rounded_dispersions: pd.DataFrame | None = None
    rounding_sensitivity: RoundingSensitivity | None = None
    rlog: pd.DataFrame | None = None
    pending_refits: PendingRefits | None = field(default=None, repr=False)

    def collect_refits(self) -> AnalysisResult:
        """The result once the rounding-sensitivity refits still running have ended (itself when none are pending).

        The result returned has ``rounding_sensitivity`` and the ``rounding_agreement`` column
        in each results table; this one is left as it is.
        """
        if self.pending_refits is None:
            return self
        sensitivity, results = self.pending_refits.collect(self.results)
        return replace(self, results=results, rounding_sensitivity=sensitivity, pending_refits=None)

    def stop_refits(self) -> None:
        """Stop the rounding-sensitivity refits still running, for a run that ends without them.

        Does nothing when none are pending, or once they were collected or stopped.
        """
        if self.pending_refits is not None:
            self.pending_refits.stop()

    @property
    def contrasts(self) -> list[Contrast]:
        """The Wald contrasts tested, in output order (none for the LRT)."""
        return [s.contrast for s in self.summaries if s.contrast is not None]
