"""The options of a run: one typed field per option, each with its one default.

The command line declares its options from these fields (flag, default, type and choices)
and builds an :class:`AnalysisOptions` from its parsed arguments by field name, so adding an
option means adding a field here, its help text to the parser and the code that uses it.
Free of numpy and pandas: the command line imports it before R starts.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, fields
from typing import Any

from deseq2_normalized.choices import FitType, Method, SfType, ShrinkType, Test, Transform, allowed
from deseq2_normalized.errors import InputError


@dataclass(frozen=True)
class AnalysisOptions:
    """Options of a run; the names and defaults follow DESeq2's and the CLI's.

    Attributes
    ----------
    design
        Design formula over sample-sheet columns; default ``~ condition`` when that
        column exists, else ``~`` the last column (or the one ``factor`` builds).
    factor
        The factor of interest: a sample-sheet column by name, or by its 1-based number
        among the sheet file's columns (the sample names included). Without ``design`` the
        design is ``~ blocking... + factor``; with it, the factor must be one of its
        variables. Default: the design's last variable.
    blocking
        With ``factor``: columns to adjust for, by name or number (a value may list several,
        comma-separated); with ``test="lrt"`` the reduced design defaults to ``~ blocking...``.
    contrasts
        ``(factor, numerator, denominator)`` triples; an empty factor means the factor of
        interest. Default: every level of the factor of interest against the reference level.
    reference
        Reference level of the factor of interest (default: first in sorted order).
    pick_reference
        Without ``reference``: take the level of the factor of interest named like a control
        (``planning.CONTROL_NAMES``), and stop when none or several are.
    test
        ``"wald"`` or ``"lrt"`` (then ``reduced`` is required, unless ``factor`` gives it).
    reduced
        Reduced design for the LRT.
    fit_type
        DESeq2 ``fitType``.
    alpha, lfc_threshold, independent_filtering, cooks_cutoff
        As in DESeq2's ``results``.
    shrink
        ``lfcShrink`` type or ``"none"``.
    transform
        ``"vst"``, ``"rlog"``, ``"both"`` (vst and rlog) or ``"none"``.
    factor_columns, numeric_columns
        Sample-sheet columns forced to be factors, or numeric covariates. Without them a
        design column is numeric when every value parses as a finite number and some value
        is not a whole number (``W_1``, ``SV1``, RIN), except the factor of interest (the
        last design variable) and contrast factors, which are always factors; whole numbers
        (batch 1, 2, 3) stay factors unless named in ``numeric_columns``.
    beta_prior
        DESeq2's ``betaPrior``: a zero-centred normal prior on the Wald test's log2 fold
        changes (the DESeq2 < 1.16 default); standard designs only, not with the LRT,
        interactions or ``shrink``.
    outlier_replacement
        Replace Cook's-distance outliers of groups with at least 7 replicates and refit
        (DESeq2's default); False is ``minReplicatesForReplace = Inf``.
    sf_type
        ``estimateSizeFactors`` ``type`` wherever DESeq2 estimates the size factors (raw
        counts, recovered counts of CPM-like tables): ``"ratio"`` (median-of-ratios),
        ``"poscounts"`` or ``"iterate"``. With ``"ratio"``, a table in which every gene has a
        zero in some sample gets ``"poscounts"``, and the run says so.
    threads
        Cores to use: the rounding-sensitivity refits run in up to ``threads - 1`` forked R
        processes beside the main fit, and ``DESeq()`` gets the BiocParallel workers left.
    sf_tolerance
        Tolerance of the size-factor check.
    strict
        Stop before fitting when the table would be rounded with size factors 1 and the
        size-factor check fails. ``None`` (default): stop when ``method="auto"`` falls back to
        rounding, go on with a warning when ``method="round"`` asks for it; ``True``: stop in
        both cases; ``False``: go on with a warning in both cases.
    method
        How the normalized table becomes counts: ``"auto"`` (default: what the table's kind
        calls for, see :mod:`deseq2_normalized.classify`: recover the raw counts when every
        sample is recovered, exactly or within the stated bound; analyse a table of raw counts
        with standard DESeq2; round estimated counts and let DESeq2 estimate size factors;
        refuse tables that are not counts; round otherwise), ``"recover"`` (recover, or fail),
        ``"estimated"`` (round, size factors estimated by DESeq2: estimated counts) or
        ``"round"`` (round, size factors 1: the workaround).
    rounding_sensitivity
        Rerun DESeq2 on this many stochastic roundings of the table and report, per gene,
        how often the DE call agrees with the main run (0: off).
    seed
        Seed of the stochastic roundings.
    compare_rounded
        When the counts were recovered, also estimate the dispersions the rounding method
        would have used (rounded table, size factors 1; ``estimateDispersions`` only), for
        the report's comparison plot.
    """

    design: str | None = None
    factor: str | None = None
    blocking: tuple[str, ...] = ()
    contrasts: tuple[tuple[str, str, str], ...] = ()
    reference: str | None = None
    pick_reference: bool = False
    test: Test = "wald"
    reduced: str | None = None
    fit_type: FitType = "parametric"
    alpha: float = 0.1
    lfc_threshold: float = 0.0
    independent_filtering: bool = True
    cooks_cutoff: bool = True
    shrink: ShrinkType = "none"
    transform: Transform = "vst"
    threads: int = 1
    sf_tolerance: float = 0.1
    strict: bool | None = None
    method: Method = "auto"
    rounding_sensitivity: int = 0
    seed: int = 1
    compare_rounded: bool = True
    factor_columns: tuple[str, ...] = ()
    numeric_columns: tuple[str, ...] = ()
    beta_prior: bool = False
    outlier_replacement: bool = True
    sf_type: SfType = "ratio"

    @classmethod
    def from_namespace(cls, args: argparse.Namespace, **overrides: Any) -> AnalysisOptions:
        """The options held by parsed command-line arguments, by field name.

        Parameters
        ----------
        args
            Parsed arguments; every attribute named like a field sets that field (lists,
            as ``action="append"`` gives them, become tuples). Fields without an argument,
            or whose argument is None (not given, no default), keep their default.
        **overrides
            Fields the command line derives rather than reads, e.g. ``reference``.

        Returns
        -------
        AnalysisOptions
            The options (not yet validated: see :meth:`validate`).
        """
        given = {f.name: getattr(args, f.name, None) for f in fields(cls)}
        given = {name: tuple(v) if isinstance(v, list) else v for name, v in given.items() if v is not None}
        return cls(**{**given, **overrides})

    def validate(self) -> None:
        """Check every value before any work is done.

        Raises
        ------
        InputError
            A value outside its choices or range, or options that do not go together;
            the message names the command-line option.
        """
        for f in fields(self):
            choices = allowed(str(f.type))
            value = getattr(self, f.name)
            if choices is not None and value not in choices:
                raise InputError(f"{flag(f.name)} must be one of {', '.join(choices)}; got '{value}'")
        if not 0 < self.alpha < 1:
            raise InputError(f"--alpha must lie between 0 and 1, got {self.alpha}")
        if self.lfc_threshold < 0:
            raise InputError(f"--lfc-threshold must not be negative, got {self.lfc_threshold}")
        if self.rounding_sensitivity < 0:
            raise InputError(f"--rounding-sensitivity must not be negative, got {self.rounding_sensitivity}")
        if self.threads < 1:
            raise InputError(f"--threads must be at least 1, got {self.threads}")
        if self.blocking and self.factor is None:
            raise InputError("--blocking needs --factor: the blocking columns come before the factor of interest")
        if self.blocking and self.design is not None:
            raise InputError(
                "--blocking builds the design with --factor: with --design, write the columns into the formula"
            )
        if self.test == "lrt" and not self.reduced and self.factor is None:
            raise InputError("--test lrt needs --reduced, for example --reduced '~ 1' or '~ batch'")
        if self.test == "wald" and self.reduced:
            raise InputError("--reduced is only used with --test lrt")
        if self.test == "lrt" and self.shrink != "none":
            raise InputError("--shrink applies to Wald-test contrasts; it cannot be combined with --test lrt")
        both = set(self.factor_columns) & set(self.numeric_columns)
        if both:
            raise InputError(f"--factor-columns and --numeric-columns both name {', '.join(sorted(both))}")
        if self.beta_prior and self.test == "lrt":
            raise InputError("--beta-prior applies to Wald tests; DESeq2 refuses it with --test lrt")
        if self.beta_prior and self.shrink != "none":
            raise InputError("--beta-prior and --shrink cannot be combined: lfcShrink needs a fit without betaPrior")
        if self.test == "lrt" and self.contrasts:
            raise InputError("--contrast applies to Wald tests; an LRT tests the terms dropped in --reduced")


def flag(name: str) -> str:
    """The command-line option of field ``name``: ``fit_type`` is ``--fit-type``."""
    return "--" + name.replace("_", "-")


def default(name: str) -> Any:
    """The default of field ``name`` of :class:`AnalysisOptions`, e.g. for argparse's ``default=``.

    Raises
    ------
    KeyError
        When there is no such field, or it has no plain default.
    """
    for f in fields(AnalysisOptions):
        if f.name == name and f.default is not MISSING:
            return f.default
    raise KeyError(name)
