"""Every DESeq2 call goes through this module: pandas in, pandas out.

The R code is the package data file ``R/deseq2_helpers.R``; :mod:`deseq2_normalized.rsession`
starts R, loads DESeq2 and sources that file into a private environment. This module calls
the helpers defined there, by name and always with named arguments. User data (counts,
names, levels) is passed to them as R vectors, never pasted into R code; design formulas
reach R only as strings rebuilt from R-safe aliases (see :mod:`deseq2_normalized.design`).
R warnings raised in a helper are logged, and R errors become
:class:`~deseq2_normalized.errors.RError` carrying R's message.

numpy and pandas are imported where they are used, so that the command line can start R
and the DESeq2 load (:func:`start_in_background`) before it imports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deseq2_normalized import rsession
from deseq2_normalized.rsession import helpers as wait_until_loaded
from deseq2_normalized.rsession import loading, start_in_background

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from deseq2_normalized.options import FitOptions, ResultsOptions

__all__ = [
    "RESULT_COLUMNS",
    "FittedModel",
    "PendingRefits",
    "collect_refits",
    "dispersions",
    "fit",
    "has_r_package",
    "loading",
    "normalized_counts",
    "results",
    "rounded_dispersions",
    "save_rds",
    "size_factors",
    "start_in_background",
    "start_refits",
    "stop_refits",
    "transformed_counts",
    "versions",
    "wait_until_loaded",
]

RESULT_COLUMNS = ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")
#: DESeq2's name of each ``test``.
_R_TESTS = {"wald": "Wald", "lrt": "LRT"}


def _call(helper: str, /, **arguments: Any) -> Any:
    """Call the R helper named ``helper`` with named arguments; log the warnings R raised in it.

    Returns
    -------
    Any
        The helper's value, a plain R object (numeric values are read through numpy's
        buffer protocol).
    """
    import rpy2.robjects as ro
    from rpy2.robjects.conversion import localconverter

    with rsession.session() as env, localconverter(ro.default_converter):
        # R calls helper(...) inside its warning handler: evaluating env[helper](...) here would not.
        out = env["capture_warnings"](helper=env[helper], **arguments)
        for message in out[1]:
            rsession.r_console_log.warning("R warning: %s", " ".join(str(message).split()))
        return out[0]


def _call_uncaptured(helper: str, /, **arguments: Any) -> Any:
    """As :func:`_call`, for small helpers whose R warnings, if any, stay R console output."""
    import rpy2.robjects as ro
    from rpy2.robjects.conversion import localconverter

    with rsession.session() as env, localconverter(ro.default_converter):
        return env[helper](**arguments)


@rsession.uses_r
def versions() -> dict[str, str]:
    """Versions of R, DESeq2 and rpy2.

    Returns
    -------
    dict
        Keys ``R``, ``DESeq2``, ``rpy2``.
    """
    import rpy2

    values = _call_uncaptured("versions")
    out = {str(k): str(v) for k, v in zip(values.names, values, strict=True)}
    out["rpy2"] = rpy2.__version__
    return out


#: R's version and DESeq2's installed version, read from its DESCRIPTION file: DESeq2 is not loaded.
_INSTALLED_VERSIONS = """c(R = paste(R.version$major, R.version$minor, sep = "."),
  DESeq2 = tryCatch(as.character(utils::packageVersion("DESeq2")), error = function(e) "not installed"))"""


def installed_versions() -> dict[str, str]:
    """Versions of R, DESeq2 and rpy2 without loading DESeq2 (what ``--version`` prints).

    Returns
    -------
    dict
        Keys ``R``, ``DESeq2`` (``"not installed"`` when R cannot find it), ``rpy2``.
    """
    import rpy2
    from rpy2.robjects.conversion import localconverter

    with rsession.base_r() as ro, localconverter(ro.default_converter):
        values = ro.r(_INSTALLED_VERSIONS)
        out = {str(k): str(v) for k, v in zip(values.names, values, strict=True)}
    out["rpy2"] = rpy2.__version__
    return out


@rsession.uses_r
def has_r_package(name: str) -> bool:
    """Whether an R package (for example ``apeglm``) can be loaded."""
    from rpy2.robjects.vectors import StrVector

    return bool(_call_uncaptured("has_r_package", name=StrVector([name]))[0])


@dataclass
class FittedModel:
    """A fitted DESeqDataSet living in R, with the facts needed to query it.

    Attributes
    ----------
    dds
        The R object (opaque to Python).
    genes, samples
        Row and column names, in order.
    threads
        Workers for BiocParallel.
    """

    dds: Any
    genes: pd.Index
    samples: pd.Index
    threads: int


@rsession.uses_r
def fit(
    counts: pd.DataFrame,
    coldata: pd.DataFrame,
    aliases: dict[str, str],
    design: str,
    size_factors: np.ndarray | None,
    *,
    test: str,
    reduced: str | None,
    options: FitOptions,
    threads: int,
    sf_type: str = "ratio",
) -> FittedModel:
    """Build a DESeqDataSet with the given size factors and run ``DESeq``.

    Parameters
    ----------
    counts
        Integer counts, genes x samples.
    coldata
        Samples x design variables: factors categorical (levels fixed in Python), numeric
        covariates float.
    aliases
        Column name to R-safe name; ``design`` and ``reduced`` are written over the aliases.
    design, reduced
        Formulas over the aliases (``reduced`` for the LRT only, ``None`` otherwise).
    size_factors
        One size factor per sample (all 1 for the rounding method); ``None`` lets DESeq2
        estimate them (``estimateSizeFactors``) from the counts.
    test
        ``"wald"`` or ``"lrt"``.
    options
        DESeq2's ``fitType``, ``betaPrior`` and the other options of the fit.
    threads
        BiocParallel workers.
    sf_type
        ``estimateSizeFactors`` ``type`` (ratio, poscounts, iterate) when DESeq2 estimates
        the size factors.

    Returns
    -------
    FittedModel
        Handle on the fitted model.
    """
    from rpy2.robjects.vectors import FloatVector, StrVector

    dds = _call(
        "fit",
        dds=_dataset(counts, coldata, aliases, design),
        reduced=StrVector([reduced or ""]),
        size_factors=FloatVector([] if size_factors is None else list(size_factors)),
        test=StrVector([_R_TESTS[test]]),
        options=_fit_options(options),
        workers=threads,
        sf_type=StrVector([sf_type]),
    )
    return FittedModel(dds=dds, genes=counts.index, samples=counts.columns, threads=threads)


def _fit_options(options: FitOptions) -> Any:
    """The R list of the fit's options (the R helper ``fit_options``), every option by its name."""
    from rpy2.robjects.vectors import StrVector

    return _call_uncaptured(
        "fit_options",
        fit_type=StrVector([options.fit_type]),
        beta_prior=options.beta_prior,
        outlier_replacement=options.outlier_replacement,
    )


def _results_options(options: ResultsOptions) -> Any:
    """The R list of the options of ``results()`` (the R helper ``results_options``), every option by its name."""
    from rpy2.robjects.vectors import StrVector

    return _call_uncaptured(
        "results_options",
        alpha=options.alpha,
        lfc_threshold=options.lfc_threshold,
        independent_filtering=options.independent_filtering,
        cooks_cutoff=options.cooks_cutoff,
        shrink=StrVector([options.shrink]),
    )


def _dataset(counts: pd.DataFrame, coldata: pd.DataFrame, aliases: dict[str, str], design: str) -> Any:
    """The DESeqDataSet of ``counts`` (an R object): the count matrix, its names and colData in R."""
    from rpy2.robjects.vectors import StrVector

    return _call(
        "dataset",
        counts=_integer_matrix(counts.to_numpy()),
        genes=StrVector([str(g) for g in counts.index]),
        samples=StrVector([str(s) for s in counts.columns]),
        coldata=_coldata(coldata, aliases),
        design=StrVector([design]),
    )


def _integer_matrix(values: np.ndarray) -> Any:
    """An R integer matrix of a genes x samples array of whole numbers."""
    import numpy as np
    import rpy2.robjects as ro
    from rpy2.rinterface import IntSexpVector

    matrix = np.asfortranarray(values, dtype=np.int32)
    flat = IntSexpVector.from_memoryview(matrix.ravel(order="F").data)
    return ro.r["matrix"](data=flat, nrow=matrix.shape[0], ncol=matrix.shape[1])


def _coldata(coldata: pd.DataFrame, aliases: dict[str, str]) -> Any:
    """The samples' design variables as R colData: one column per alias, factors with their levels."""
    import rpy2.robjects as ro
    from rpy2.robjects.vectors import StrVector

    cols = list(coldata.columns)
    return _call_uncaptured(
        "coldata",
        values=ro.ListVector.from_length(0) if not cols else _list([_column(coldata[c]) for c in cols]),
        levels=_list([StrVector([str(x) for x in _levels(coldata[c])]) for c in cols]),
        columns=StrVector([aliases[c] for c in cols]),
        samples=StrVector([str(s) for s in coldata.index]),
    )


@rsession.uses_r
def rounded_dispersions(
    counts: pd.DataFrame,
    coldata: pd.DataFrame,
    aliases: dict[str, str],
    design: str,
    *,
    fit_type: str,
) -> pd.DataFrame:
    """Dispersions DESeq2 estimates from a rounded table with every size factor 1.

    Only ``estimateDispersions`` runs (no Wald or LRT test): this is the dispersion fit
    the rounding method would have used, for comparison with a fit on recovered counts.

    Parameters
    ----------
    counts
        The rounded table, integer-valued, genes x samples.
    coldata, aliases, design
        As for :func:`fit`.
    fit_type
        DESeq2's ``fitType``.

    Returns
    -------
    pandas.DataFrame
        Index the gene IDs; columns ``baseMean``, ``dispGeneEst``, ``dispFit``,
        ``dispersion`` (the final estimates) as DESeq2 names them in ``mcols(dds)``.
    """
    from rpy2.robjects.vectors import StrVector

    out = _call(
        "rounded_dispersions",
        dds=_dataset(counts, coldata, aliases, design),
        fit_type=StrVector([fit_type]),
    )
    return _columns(out, out.names, counts.index)


def _column(values: pd.Series) -> Any:
    """A colData column for R: numbers for a numeric covariate, text for a factor."""
    import pandas as pd
    from rpy2.robjects.vectors import FloatVector, StrVector

    if isinstance(values.dtype, pd.CategoricalDtype):
        return StrVector(values.astype(str))
    return FloatVector([float(v) for v in values])


def _levels(values: pd.Series) -> list[Any]:
    """A factor's levels in order; none for a numeric covariate."""
    import pandas as pd

    return list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else []


def _list(items: list[Any]) -> Any:
    import rpy2.robjects as ro

    return ro.r["list"](*items)


@rsession.uses_r
def results(model: FittedModel, contrast: tuple[str, str, str] | None, options: ResultsOptions) -> pd.DataFrame:
    """DESeq2 ``results`` (and ``lfcShrink``) for one contrast, as a DataFrame.

    Parameters
    ----------
    model
        The fitted model.
    contrast
        ``(factor alias, numerator, denominator)``; ``None`` for DESeq2's default (LRT).
    options
        ``alpha``, ``lfc_threshold``, ``independent_filtering``, ``cooks_cutoff`` as in DESeq2's
        ``results``; ``shrink``: ``none`` or an ``lfcShrink`` type (normal, ashr, apeglm), whose
        shrunken estimates replace ``log2FoldChange`` and ``lfcSE``, tests unchanged.

    Returns
    -------
    pandas.DataFrame
        Index the gene IDs, columns :data:`RESULT_COLUMNS`, in the model's gene order.
    """
    from rpy2.robjects.vectors import StrVector

    out = _call(
        "results_table",
        dds=model.dds,
        contrast=StrVector(list(contrast) if contrast else []),
        options=_results_options(options),
        workers=model.threads,
    )
    return _columns(out, RESULT_COLUMNS, model.genes)


@dataclass
class PendingRefits:
    """Rounding-sensitivity refits under way in R (see :func:`start_refits`).

    Attributes
    ----------
    handle
        The R side's record of them (opaque to Python).
    genes
        Row names of every results table, in order.
    forks
        Forked R processes working on them beside this one until collected.
    """

    handle: Any = field(repr=False)
    genes: pd.Index
    forks: int


@rsession.uses_r
def start_refits(
    roundings: Iterable[np.ndarray],
    genes: pd.Index,
    coldata: pd.DataFrame,
    aliases: dict[str, str],
    design: str,
    *,
    contrasts: Sequence[tuple[str, str, str] | None],
    test: str,
    reduced: str | None,
    fit_options: FitOptions,
    results_options: ResultsOptions,
    threads: int,
) -> PendingRefits:
    """Start the refits of the rounding sensitivity: ``DESeq`` and ``results`` on each rounding.

    Each refit fits its rounding with every size factor 1, serially, and tests every contrast
    without shrinkage. With ``threads`` above 1, ``min(threads - 1, len(roundings))`` forked
    copies of R start on them at once and this process goes on (with the main fit); it joins
    in when :func:`collect_refits` is called, so the processes share the refits, each refit
    done once. The results do not depend on ``threads``.

    Parameters
    ----------
    roundings
        Integer genes x samples arrays, one per refit, in order (an iterator is read one
        array at a time).
    genes
        Gene IDs (the rows of every rounding).
    coldata, aliases, design
        As for :func:`fit`; the samples are ``coldata``'s index, in the roundings' column order.
    contrasts
        What :func:`results` tests, in order: ``(factor alias, numerator, denominator)``, or
        ``None`` for DESeq2's default (the LRT).
    test, reduced
        As for :func:`fit`.
    fit_options
        As ``options`` of :func:`fit`.
    results_options
        As ``options`` of :func:`results`; the refits ignore ``shrink``.
    threads
        Processes that may work on the refits (this one included).

    Returns
    -------
    PendingRefits
        Handle for :func:`collect_refits`, or :func:`stop_refits` when the analysis stops first.
    """
    from rpy2.robjects.vectors import StrVector

    # One rounding at a time becomes an R matrix: Python holds no more than one of them.
    matrices = [_integer_matrix(r) for r in roundings]
    handle = _call(
        "refits_start",
        roundings=_list(matrices),
        genes=StrVector([str(g) for g in genes]),
        samples=StrVector([str(s) for s in coldata.index]),
        coldata=_coldata(coldata, aliases),
        design=StrVector([design]),
        reduced=StrVector([reduced or ""]),
        test=StrVector([_R_TESTS[test]]),
        fit_options=_fit_options(fit_options),
        results_options=_results_options(results_options),
        contrasts=_list([StrVector(list(c) if c else []) for c in contrasts]),
        workers=threads,
    )
    return PendingRefits(handle=handle, genes=genes, forks=max(min(threads - 1, len(matrices)), 0))


@rsession.uses_r
def collect_refits(pending: PendingRefits) -> list[list[pd.DataFrame]]:
    """The results of the refits started by :func:`start_refits`: this process takes its share, then waits.

    Returns
    -------
    list of list of pandas.DataFrame
        Per rounding, in order, a table per contrast, in order; each indexed by gene ID with
        columns :data:`RESULT_COLUMNS`. R warnings of the refits are logged, wherever they ran.
    """
    out = _call("refits_collect", pending=pending.handle)
    return [[_columns(table, RESULT_COLUMNS, pending.genes) for table in refit] for refit in out]


@rsession.uses_r
def stop_refits(pending: PendingRefits) -> None:
    """Stop the forked R processes of refits that will not be collected (the analysis stopped first)."""
    _call("refits_stop", pending=pending.handle)


@rsession.uses_r
def normalized_counts(model: FittedModel) -> pd.DataFrame:
    """``counts(dds, normalized=TRUE)`` as a genes x samples DataFrame."""
    return _matrix(_call("normalized_counts", dds=model.dds), model)


@rsession.uses_r
def size_factors(model: FittedModel) -> pd.Series:
    """``sizeFactors(dds)``: the size factors DESeq2 used, one per sample."""
    import numpy as np
    import pandas as pd

    values = np.asarray(_call("size_factors", dds=model.dds), dtype=np.float64)
    return pd.Series(values, index=model.samples, name="size_factor")


@rsession.uses_r
def transformed_counts(model: FittedModel, kind: str) -> pd.DataFrame:
    """The ``vst`` or ``rlog`` assay (``blind=FALSE``) as a genes x samples DataFrame."""
    from rpy2.robjects.vectors import StrVector

    return _matrix(_call("transformed_counts", dds=model.dds, kind=StrVector([kind])), model)


@rsession.uses_r
def dispersions(model: FittedModel) -> pd.DataFrame:
    """Per-gene mean and dispersion estimates (gene-wise, fitted trend, final, outlier)."""
    out = _call("dispersion_table", dds=model.dds)
    return _columns(out, out.names, model.genes)


@rsession.uses_r
def save_rds(model: FittedModel, path: str) -> None:
    """Save the fitted DESeqDataSet with ``saveRDS``."""
    from rpy2.robjects.vectors import StrVector

    _call("save_rds", dds=model.dds, path=StrVector([path]))


def _columns(out: Any, names: Any, index: pd.Index) -> pd.DataFrame:
    """A named R list of numeric vectors as a DataFrame (read through numpy's buffer protocol)."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame({name: np.asarray(out.rx2(name), dtype=np.float64) for name in names}, index=index)


def _matrix(values: Any, model: FittedModel) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape((len(model.genes), len(model.samples)), order="F")
    return pd.DataFrame(arr, index=model.genes, columns=model.samples)
