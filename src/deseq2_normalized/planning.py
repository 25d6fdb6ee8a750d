"""Planning a run: design, reduced design, sample table and contrasts, resolved in Python.

A run's request is settled once, against the sample sheet (:func:`settle_request`): the
design (written, or built from ``factor`` and ``blocking``), the LRT's reduced design, the
factor of interest, the contrasts and the reference level. One factor of interest drives
the reference, the default contrasts, two-part contrasts and ``pick_reference``.
:func:`plan_run` then prepares the sample table the fit gets. Everything here is checked
before any data reaches R, so that a wrong level or formula is reported as an input error
naming the option.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, replace

import pandas as pd

from deseq2_normalized import interface, rbackend
from deseq2_normalized.contrasts import LRT_STEM, Contrast
from deseq2_normalized.design import CONTROL_NAMES, Design, default_design, factor_design, parse_design, r_aliases
from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.samplesheet import SampleSheet, as_sample_sheet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """One run's request, settled against the sample sheet.

    Attributes
    ----------
    design
        The full design.
    reduced
        The LRT's reduced design; None for ``~ 1`` or a Wald test.
    factor
        The factor of interest.
    options
        The options as settled: ``design`` and ``reduced`` as written or built, the
        contrasts with their factor named, the reference given or picked.
    """

    design: Design
    reduced: Design | None
    factor: str
    options: AnalysisOptions


def settle_request(opts: AnalysisOptions, samples: SampleSheet | pd.DataFrame) -> Request:
    """Settle the design, the factor of interest, the contrasts and the reference level.

    Parameters
    ----------
    opts
        Validated options.
    samples
        The sample sheet as read (a column number in ``factor`` or ``blocking`` counts its
        file's columns), or a table (its index is column 1).

    Returns
    -------
    Request
        The parsed designs, the factor of interest and the settled options.

    Raises
    ------
    InputError
        A formula, ``factor`` or ``blocking`` column that does not fit the sheet, or a
        ``pick_reference`` that finds no control-named level (or several).
    """
    sheet = as_sample_sheet(samples)
    columns = sheet.columns
    design_text, reduced_text, interest = opts.design, opts.reduced, None
    if opts.factor is not None:
        built = factor_design(sheet.header, columns, opts.factor, opts.blocking, sheet.source)
        interest = built.factor
        if design_text is None:
            design_text = built.design.text()
            if opts.test == "lrt" and not reduced_text:
                reduced_text = built.reduced_text()
    batch = list(opts.batch_columns)
    own = [c for c in columns if c not in batch]
    design = parse_design(design_text, columns) if design_text else default_design(own)
    if batch and opts.design is None:
        # As the IUC DESeq2 tool does: the batch covariates first, then the design.
        design = Design(terms=(*((b,) for b in batch if b not in design.variables), *design.terms))
        design_text = design.text()
        if reduced_text and opts.reduced is None:
            reduced_text = _with_batch(batch, reduced_text, columns)
    if batch and opts.design is not None:
        _require_batch("--design", opts.design, design, batch)
    if interest is not None and interest not in design.variables:
        raise InputError(f"--factor: column '{interest}' is not a variable of the design '{design_text}'")
    if not design.variables:
        raise InputError("the design has no variable to compare")
    interest = interest or design.variables[-1]
    reduced = _parse_reduced(reduced_text, columns, design) if reduced_text else None
    if batch and opts.reduced:
        _require_batch("--reduced", opts.reduced, reduced, batch)
    contrasts = tuple((name or interest, num, den) for name, num, den in opts.contrasts)
    reference = opts.reference
    if reference is None and opts.pick_reference:
        reference = pick_reference(interest, sheet.table)
    settled = replace(opts, design=design_text, reduced=reduced_text, contrasts=contrasts, reference=reference)
    return Request(design, reduced, interest, settled)


def _require_batch(option: str, text: str, design: Design | None, batch: list[str]) -> None:
    """Refuse a written formula that leaves out a batch covariate (``None``: ``~ 1``)."""
    absent = [b for b in batch if design is None or b not in design.variables]
    if absent:
        raise InputError(
            f"{interface.option(option)} '{text}' leaves out the batch factor(s) {', '.join(absent)} of "
            f"{interface.option('--batch-factors')}: name them in the formula"
        )


def _with_batch(batch: list[str], text: str, columns: list[str]) -> str:
    """A reduced design with the batch covariates first (``~ 1`` becomes ``~ W_1 + W_2``)."""
    terms = () if re.fullmatch(r"\s*~\s*1\s*", text) else parse_design(text, columns).terms
    return Design(terms=(*((b,) for b in batch), *terms)).text()


def pick_reference(factor: str, samples: pd.DataFrame) -> str:
    """The level of ``factor`` named like a control (``pick_reference``).

    Parameters
    ----------
    factor
        The factor of interest.
    samples
        The sample sheet's table (samples x columns).

    Returns
    -------
    str
        The level, logged with the reason it was picked.

    Raises
    ------
    InputError
        When no level has a control's name, or several different ones do.
    """
    levels = sorted({str(x) for x in samples[factor]})
    found = [level for name in CONTROL_NAMES for level in levels if level.lower() == name]
    reference_option = interface.option("--reference")
    if not found:
        raise InputError(
            f"no reference level given for '{factor}' and none of its levels ({', '.join(levels)}) is named like a "
            f"control ({', '.join(CONTROL_NAMES[:8])}, ...): set {reference_option}"
        )
    if len(set(found)) > 1:
        raise InputError(
            f"no reference level given for '{factor}' and several levels are named like a control "
            f"({', '.join(dict.fromkeys(found))}): set {reference_option}"
        )
    log.info(
        "reference level of '%s': '%s' (picked as a control's name; set %s to choose another)",
        factor,
        found[0],
        reference_option,
    )
    return found[0]


@dataclass(frozen=True)
class Plan:
    """Everything resolved in Python before any data reaches R.

    Attributes
    ----------
    request
        The settled request: the designs, the factor of interest, the settled options.
    coldata
        Samples x design variables: factors categorical (reference level first), numeric
        covariates float64.
    contrasts
        The Wald contrasts (empty for the LRT).
    aliases
        Design variable to its syntactic R name.
    """

    request: Request
    coldata: pd.DataFrame
    contrasts: list[Contrast]
    aliases: dict[str, str]

    @property
    def design(self) -> Design:
        """The full design."""
        return self.request.design

    @property
    def reduced(self) -> Design | None:
        """The LRT's reduced design; None for ``~ 1`` or a Wald test."""
        return self.request.reduced

    @property
    def factor(self) -> str:
        """The factor of interest."""
        return self.request.factor

    @property
    def reduced_text(self) -> str:
        """The reduced design as written, ``~ 1`` when it has no variable."""
        return self.reduced.text() if self.reduced else "~ 1"

    @property
    def tests(self) -> list[tuple[str, tuple[str, str, str] | None]]:
        """Per results table, in output order: its stem and the contrast R tests (None: the LRT)."""
        return [(c.stem, (self.aliases[c.factor], c.numerator, c.denominator)) for c in self.contrasts] or [
            (LRT_STEM, None)
        ]


def plan_run(opts: AnalysisOptions, samples: pd.DataFrame, request: Request | None = None) -> Plan:
    """Prepare the sample table the fit gets and resolve the contrasts of a run.

    Parameters
    ----------
    opts
        Validated options.
    samples
        The matched sample table (index sample names, categorical columns).
    request
        The request settled against the sample sheet as read (:func:`settle_request`);
        default: settled here against ``samples``.

    Returns
    -------
    Plan
        The run's plan.

    Raises
    ------
    InputError
        A formula, level or contrast that does not fit the sample sheet, or a shrinkage
        whose R package is missing.
    """
    request = request or settle_request(opts, samples)
    design, factor, opts = request.design, request.factor, request.options
    numeric = _numeric_columns(opts, samples, design, factor)
    if opts.beta_prior and any(len(term) > 1 for term in design.terms):
        raise InputError(
            f"--beta-prior: DESeq2 allows it for standard designs only, not interactions ({design.text()})"
        )
    coldata = _prepare_coldata(samples, design, factor, opts.reference, numeric)
    check_replicates(coldata, design, factor)
    contrasts = [] if opts.test == "lrt" else _resolve_contrasts(opts, design, factor, coldata)
    if opts.shrink in ("ashr", "apeglm") and not rbackend.has_r_package(opts.shrink):
        raise InputError(f"--shrink {opts.shrink} needs the R package '{opts.shrink}', which is not installed")
    return Plan(request, coldata, contrasts, r_aliases(list(design.variables)))


def coefficients(coldata: pd.DataFrame, design: Design) -> int:
    """Columns of the design's model matrix: the intercept, then per term the product of its variables' columns.

    A factor has one column per level but its first (treatment contrasts); a numeric covariate has one.
    """
    total = 1
    for term in design.terms:
        columns = 1
        for name in term:
            values = coldata[name]
            columns *= len(values.cat.categories) - 1 if isinstance(values.dtype, pd.CategoricalDtype) else 1
        total += columns
    return total


def check_replicates(coldata: pd.DataFrame, design: Design, factor: str | None = None) -> None:
    """Refuse, before R starts, a design with as many coefficients as samples: DESeq2 needs replicates.

    Parameters
    ----------
    coldata
        Samples x design variables (categorical columns for factors).
    design
        The design.
    factor
        The factor of interest (default: the design's last variable).

    Raises
    ------
    InputError
        When the samples do not outnumber the coefficients; names the factor whose levels
        have a single sample each (a table of group means, one column per condition).
    """
    samples, needed = len(coldata), coefficients(coldata, design)
    if samples > needed:
        return
    factor = factor or design.variables[-1]
    single = bool((coldata[factor].value_counts() <= 1).all())
    raise InputError(
        f"sample sheet: {samples} samples for the {needed} coefficients of the design {design.text()}: DESeq2 needs "
        "more samples than coefficients, that is replicates of some level"
        + (
            f"; every level of '{factor}' has a single sample: if the table holds group means (one column per "
            "condition), it cannot be tested; go back to the per-sample table"
            if single
            else ""
        )
    )


def _parse_reduced(text: str, columns: list[str], full: Design) -> Design | None:
    """Parse the reduced formula; ``~ 1`` (intercept only) gives ``None``."""
    if re.fullmatch(r"\s*~\s*1\s*", text):
        return None
    reduced = parse_design(text, columns)
    extra = set(reduced.variables) - set(full.variables)
    if extra:
        raise InputError(f"--reduced '{text}': names {', '.join(sorted(extra))}, which the full design does not")
    return reduced


def _resolve_contrasts(opts: AnalysisOptions, design: Design, factor: str, coldata: pd.DataFrame) -> list[Contrast]:
    if opts.contrasts:
        out = []
        for factor, num, den in opts.contrasts:
            if factor not in design.variables:
                raise InputError(f"--contrast {factor},{num},{den}: '{factor}' is not in the design ({design.text()})")
            levels = list(coldata[factor].cat.categories)
            for level in (num, den):
                if level not in levels:
                    raise InputError(
                        f"--contrast {factor},{num},{den}: '{level}' is not a level of '{factor}' "
                        f"(levels: {', '.join(levels)})"
                    )
            if num == den:
                raise InputError(f"--contrast {factor},{num},{den}: numerator and denominator are the same level")
            out.append(Contrast(factor, num, den))
        return out
    levels = list(coldata[factor].cat.categories)
    return [Contrast(factor, level, levels[0]) for level in levels[1:]]


def _as_number(text: str) -> float | None:
    """The finite number ``text`` spells, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _numeric_columns(opts: AnalysisOptions, samples: pd.DataFrame, design: Design, factor: str) -> list[str]:
    """The design variables that enter the model as numbers (see ``AnalysisOptions``'s rule)."""
    columns = [str(c) for c in samples.columns]
    for option, names in (("--factor-columns", opts.factor_columns), ("--numeric-columns", opts.numeric_columns)):
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise InputError(f"{option}: no sample-sheet column {', '.join(repr(n) for n in unknown)}")
    factors = {factor, *(c[0] for c in opts.contrasts)}
    out = []
    for name in design.variables:
        values = [_as_number(str(v)) for v in samples[name].astype(str)]
        parsed = all(v is not None for v in values)
        if name in opts.numeric_columns:
            if name in factors:
                raise InputError(
                    f"--numeric-columns: '{name}' is the factor of interest (the design's last variable or a "
                    "contrast's factor); it must be a factor"
                )
            if not parsed:
                bad = next(str(v) for v, x in zip(samples[name].astype(str), values, strict=True) if x is None)
                raise InputError(f"--numeric-columns: column '{name}' holds '{bad}', not a number")
            out.append(name)
        elif parsed and name not in factors and name not in opts.factor_columns:
            if all(v is not None and v.is_integer() for v in values):
                continue  # whole numbers, as batch 1, 2, 3: a factor unless --numeric-columns names it
            out.append(name)
    return out


def _prepare_coldata(
    table: pd.DataFrame, design: Design, factor: str, reference: str | None, numeric: list[str] | None = None
) -> pd.DataFrame:
    coldata = table[list(design.variables)].copy()
    for name in design.variables:
        if name in (numeric or []):
            coldata[name] = pd.to_numeric(coldata[name].astype(str)).astype("float64")
            if coldata[name].nunique() < 2:
                raise InputError(f"sample sheet: numeric covariate '{name}' has a single value; it cannot be fitted")
            log.info("design: '%s' is a numeric covariate (--factor-columns %s makes it a factor)", name, name)
            continue
        levels = list(coldata[name].cat.categories)
        if len(levels) < 2:
            raise InputError(f"sample sheet: factor '{name}' has a single level ('{levels[0]}'); it cannot be tested")
    if reference is not None:
        levels = list(coldata[factor].cat.categories)
        if reference not in levels:
            raise InputError(f"--reference '{reference}' is not a level of '{factor}' (levels: {', '.join(levels)})")
        coldata[factor] = coldata[factor].cat.reorder_categories([reference] + [x for x in levels if x != reference])
    return coldata
