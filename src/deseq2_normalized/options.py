"""The options of a run: one typed field per option, each declared once with its default and its texts.

A field of :class:`AnalysisOptions` is declared by :func:`option`, which keeps with it
everything the rest of the package shows of it: the command line's help and metavar, its
label in the Galaxy form, its key in ``diagnostics.json``'s ``options`` and its row in the
report's design table. The command line, the diagnostics, the report and the Galaxy labels
read these from :func:`fields`, so adding an option means adding a field here, the code that
uses it, and its place in the Galaxy form. The options of DESeq2's fit and of its
``results()`` reach the R backend as :class:`FitOptions` and :class:`ResultsOptions`.
Free of numpy and pandas: the command line imports it before R starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, TypeVar

from deseq2_normalized.choices import FitType, Method, SfType, ShrinkType, Test, Transform, allowed
from deseq2_normalized.errors import InputError

#: The key of a field's :class:`OptionText` in its ``metadata``.
_TEXT = "option"


@dataclass(frozen=True)
class OptionText:
    """What the package shows of an option, kept with its field (see :func:`option`).

    Attributes
    ----------
    help
        The command line's help (argparse's ``%(default)s`` shows the default); None for a
        field the command line does not declare from its field.
    metavar
        The value's name in the help (default: argparse's).
    report
        The label of its row in the report's design table; None: not shown there.
    shown
        How the report shows some values (``True``: ``"yes"``); others as text, numbers with ``:g``.
    recorded
        Recorded in ``diagnostics.json``'s ``options``, under the field's name.
    every_command
        Declared on every command (``run``, ``check``, ``recover``), not only on ``run``.
    galaxy
        The label of its field in the Galaxy tool's form (``tool/deseq2_normalized.xml``).
    """

    help: str | None = None
    metavar: str | None = None
    report: str | None = None
    shown: Mapping[Any, str] | None = None
    recorded: bool = False
    every_command: bool = False
    galaxy: str | None = None


def option(
    default: Any,
    *,
    help: str | None = None,
    metavar: str | None = None,
    report: str | None = None,
    shown: Mapping[Any, str] | None = None,
    recorded: bool = False,
    every_command: bool = False,
    galaxy: str | None = None,
) -> Any:
    """A field of :class:`AnalysisOptions` with its default and its :class:`OptionText`.

    Parameters
    ----------
    default
        The field's one default (immutable).
    help, metavar, report, shown, recorded, every_command, galaxy
        As in :class:`OptionText`.

    Returns
    -------
    dataclasses.Field
        For the class body, e.g. ``alpha: float = option(0.1, help="...", recorded=True)``.
    """
    text = OptionText(help, metavar, report, shown, recorded, every_command, galaxy)
    return field(default=default, metadata={_TEXT: text})


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
        (``design.CONTROL_NAMES``), and stop when none or several are.
    test
        ``"wald"`` or ``"lrt"`` (then ``reduced`` is required, unless ``factor`` gives it).
    reduced
        Reduced design for the LRT.
    fit_type
        DESeq2 ``fitType``.
    batch_columns
        Sample-sheet columns of unwanted variation (RUVSeq's ``W_1``, svaseq's ``SV1``, as
        ``--batch-factors`` adds them): added to the design before every other term, as the
        IUC DESeq2 tool does; a written ``design`` (and ``reduced``) must name them.
    prefilter
        Genes whose counts (as DESeq2 gets them) add up to less over all samples are left out
        before the fit, as ``dds[rowSums(counts(dds)) >= prefilter, ]``; 0: none.
    alpha, lfc_threshold, independent_filtering, cooks_cutoff
        As in DESeq2's ``results``.
    shrink
        ``lfcShrink`` type or ``"none"``.
    transform
        ``"vst"``, ``"rlog"``, ``"both"`` (vst and rlog) or ``"none"``.
    factor_columns, numeric_columns
        Sample-sheet columns forced to be factors, or numeric covariates. Without them a
        design column is numeric when every value parses as a finite number and some value
        is not a whole number (``W_1``, ``SV1``, RIN), except the factor of interest and
        contrast factors, which are always factors; whole numbers
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

    design: str | None = option(
        None,
        help="design formula over sample-sheet columns, e.g. '~ batch + condition' "
        "(default '~ condition' or '~ <last column>')",
        metavar="FORMULA",
        galaxy="Custom design formula",
    )
    # factor, blocking, contrasts and pick_reference are declared by the command line itself:
    # their values are settled against the sample sheet (planning.settle_request).
    factor: str | None = None
    blocking: tuple[str, ...] = ()
    contrasts: tuple[tuple[str, str, str], ...] = ()
    pick_reference: bool = False
    test: Test = option("wald", help="Wald test or LRT (default %(default)s)", report="test", galaxy="Test")
    reduced: str | None = option(
        None,
        help="reduced design for --test lrt, e.g. '~ 1' or '~ batch'",
        metavar="FORMULA",
        galaxy="Reduced design",
    )
    # Field order is the order of --help, of diagnostics.json's options and of the report's design rows.
    fit_type: FitType = option(
        "parametric",
        help="DESeq2 fitType (default %(default)s). glmGamPoi (needs that R package) was 1.02-1.33x faster at "
        "60,000 genes x 200 samples in four benchmark runs, and its calls differ somewhat from the default fit: "
        "consider it only for large designs where the fit's time matters (benchmarks/RESULTS.md)",
        report="fit type",
        recorded=True,
        galaxy="Dispersion fit type",
    )
    alpha: float = option(
        0.1,
        help="adjusted p-value cut-off (default %(default)g)",
        report="alpha (padj cut-off)",
        recorded=True,
        galaxy="Adjusted p-value cut-off",
    )
    lfc_threshold: float = option(
        0.0,
        help="test |log2 fold change| > this (default %(default)g)",
        report="log2 fold-change threshold",
        recorded=True,
        galaxy="Log2 fold-change threshold",
    )
    independent_filtering: bool = option(
        True,
        help="turn off independent filtering",
        recorded=True,
        galaxy="Turn off independent filtering",
    )
    cooks_cutoff: bool = option(
        True,
        help="turn off Cook's distance outlier flagging",
        recorded=True,
        galaxy="Turn off Cook's distance outlier flagging",
    )
    shrink: ShrinkType = option(
        "none",
        help="log2 fold-change shrinkage (default %(default)s)",
        report="shrinkage",
        recorded=True,
        galaxy="Log2 fold-change shrinkage",
    )
    transform: Transform = option(
        "vst",
        help="transformed counts to write (default %(default)s): transformed_counts.tsv; both: vst in "
        "transformed_counts.tsv and rlog in rlog_counts.tsv",
        report="transformation",
        shown={"both": "vst and rlog"},
        recorded=True,
        galaxy="Transformation",
    )
    beta_prior: bool = option(
        False,
        help="DESeq2 betaPrior: shrink the Wald test's log2 fold changes with a zero-centred normal prior (as DESeq2 "
        "before 1.16 did); Wald tests with standard designs only, not with --test lrt, interactions or --shrink",
        report="betaPrior",
        shown={True: "yes", False: "no"},
        recorded=True,
        galaxy="Beta prior on log2 fold changes (betaPrior)",
    )
    outlier_replacement: bool = option(
        True,
        help="turn off DESeq2's replacement of Cook's-distance outliers in groups of 7 or more replicates "
        "(minReplicatesForReplace = Inf)",
        report="outlier replacement",
        shown={True: "on (DESeq2's default)", False: "off"},
        recorded=True,
        galaxy="Turn off outlier replacement",
    )
    sf_type: SfType = option(
        "ratio",
        help="DESeq2 estimateSizeFactors type where DESeq2 estimates the size factors (raw counts; counts recovered "
        "from CPM-like tables) (default %(default)s); with ratio, a table in which every gene has a zero in some "
        "sample (microbiome, pseudobulk) gets poscounts, and the run says so",
        recorded=True,
        galaxy="Size-factor estimator",
    )
    numeric_columns: tuple[str, ...] = option(
        (),
        help="sample-sheet columns that enter the design as numbers (numeric covariates), comma-separated; "
        "by default a design column is numeric when every value is a number and some value is not a whole "
        "number (W_1, SV1, RIN), except the factor of interest and contrast factors, which are always factors. "
        "DESeq2 advises centring and scaling covariates with a large mean or spread; they are used as given",
        metavar="COLUMN[,COLUMN...]",
        # diagnostics.json records the design's numeric columns as the run settled them.
        recorded=True,
        galaxy="Numeric covariates",
    )
    factor_columns: tuple[str, ...] = option(
        (),
        help="sample-sheet columns that are factors even when every value is a number",
        metavar="COLUMN[,COLUMN...]",
        recorded=True,
        galaxy="Columns that are factors",
    )
    threads: int = option(
        1,
        help="cores to use (default %(default)s): with --rounding-sensitivity the refits run side by side, "
        "beside the main fit; otherwise DESeq() gets BiocParallel workers",
        metavar="N",
        recorded=True,
        galaxy="number of cores (set by the Galaxy server)",
    )
    reference: str | None = option(
        None,
        help="reference level of the factor of interest (default: first in sorted order, or see --pick-reference)",
        metavar="LEVEL",
        recorded=True,
        galaxy="Reference level",
    )
    # Three-valued, with a flag for each of True and False: declared by the command line itself.
    strict: bool | None = option(None, recorded=True)
    # Set by --batch-factors (the file's covariate columns, merged into the sample sheet).
    batch_columns: tuple[str, ...] = option((), recorded=True)
    prefilter: int = option(
        0,
        help="before the fit, keep only genes whose counts add up to at least N over all samples, as DESeq2's "
        "vignette pre-filters (e.g. 10); the counts are those DESeq2 gets: the recovered raw counts, or the "
        "rounded table (default %(default)s: off)",
        metavar="N",
        report="pre-filter (minimum total count)",
        shown={0: "off"},
        recorded=True,
        galaxy="Pre-filter: minimum total count",
    )
    sf_tolerance: float = option(
        0.1,
        help="size-factor check: relative size factors must lie within a factor 1+TOL of 1 (default %(default)g)",
        metavar="TOL",
        every_command=True,
        galaxy="Size-factor check tolerance",
    )
    method: Method = option(
        "auto",
        help="how the normalized table becomes counts (default %(default)s): auto (what the table's kind calls for: "
        "recover the raw counts when every sample is recovered, exactly or with every undetermined count known "
        "within a relative 1e-4; standard DESeq2 when the table holds raw counts; estimated counts rounded with "
        "size factors estimated; TPM and log tables refused; otherwise round, and stop when the size-factor "
        "check fails), recover (recover the raw counts, or stop), estimated (round, size factors estimated by "
        "DESeq2: estimated counts from salmon, kallisto, RSEM, tximport) or round (round, size factors 1: the "
        "classic workaround)",
        galaxy="How the normalized table becomes counts",
    )
    rounding_sensitivity: int = option(
        0,
        help="rerun DESeq2 on K stochastic roundings of the table and report how stable each "
        "gene's call is (adds a rounding_agreement column; default %(default)s: off)",
        metavar="K",
        galaxy="rounding sensitivity (command line only)",
    )
    seed: int = option(1, help="seed of the stochastic roundings (default %(default)s)")
    compare_rounded: bool = True

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

    @property
    def fit_options(self) -> FitOptions:
        """The options of DESeq2's fit (``DESeq()``), for the R backend."""
        return _part(FitOptions, self)

    @property
    def results_options(self) -> ResultsOptions:
        """The options of DESeq2's ``results()`` and ``lfcShrink()``, for the R backend."""
        return _part(ResultsOptions, self)

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
        if self.prefilter < 0:
            raise InputError(f"--prefilter must not be negative, got {self.prefilter}")
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


@dataclass(frozen=True)
class FitOptions:
    """The options of DESeq2's fit (``DESeq()``) that a run sets.

    The ``options`` of :func:`~deseq2_normalized.rbackend.fit`. Every field has the name, type
    and meaning of the :class:`AnalysisOptions` field it is read from
    (:attr:`AnalysisOptions.fit_options`), whose default it keeps: no defaults here.
    """

    fit_type: FitType
    beta_prior: bool
    outlier_replacement: bool


@dataclass(frozen=True)
class ResultsOptions:
    """The options of DESeq2's ``results()`` and ``lfcShrink()`` that a run sets.

    The ``options`` of :func:`~deseq2_normalized.rbackend.results`, read from
    :class:`AnalysisOptions` by field name (:attr:`AnalysisOptions.results_options`), as
    :class:`FitOptions`.
    """

    alpha: float
    lfc_threshold: float
    independent_filtering: bool
    cooks_cutoff: bool
    shrink: ShrinkType


_Part = TypeVar("_Part", FitOptions, ResultsOptions)


def _part(kind: type[_Part], options: AnalysisOptions) -> _Part:
    """The fields of ``kind`` read from ``options`` by name."""
    return kind(**{f.name: getattr(options, f.name) for f in fields(kind)})


def text(f: Field[Any]) -> OptionText:
    """The :class:`OptionText` of a field of :class:`AnalysisOptions` (empty for a field declared without it)."""
    found = f.metadata.get(_TEXT)
    return found if isinstance(found, OptionText) else OptionText()


def described(*, where: str) -> Iterator[tuple[Field[Any], OptionText]]:
    """The fields of :class:`AnalysisOptions` shown ``where``, in field order, with their texts.

    Parameters
    ----------
    where
        ``"cli"`` (declared with their help), ``"report"`` (a design-table row),
        ``"diagnostics"`` (recorded in ``diagnostics.json``'s ``options``) or ``"galaxy"``
        (a label in the Galaxy form).
    """
    attribute = {"cli": "help", "report": "report", "diagnostics": "recorded", "galaxy": "galaxy"}[where]
    for f in fields(AnalysisOptions):
        shown = text(f)
        if getattr(shown, attribute) not in (None, False):
            yield f, shown


def cli_flag(name: str) -> str:
    """The command-line flag that sets field ``name``: ``--fit-type``; ``--no-cooks-cutoff`` for a switch on by default.

    Raises
    ------
    KeyError
        When there is no such field.
    """
    return "--no-" + name.replace("_", "-") if default(name) is True else flag(name)
