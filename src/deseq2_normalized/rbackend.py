"""Every call into R goes through this module: pandas in, pandas out.

R code lives only in the fixed ``_R_SOURCE`` below. User data (counts, names, levels) is
passed to it as R vectors, never pasted into R code; design formulas reach R only as
strings rebuilt from R-safe aliases (see :mod:`deseq2_normalized.design`). R's console is
routed into Python logging, R warnings are collected and logged, and R errors become
:class:`~deseq2_normalized.errors.RError` carrying R's message.

numpy and pandas are imported where they are used, so that the command line can start R
and the DESeq2 load (:func:`start_in_background`) before it imports them.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import functools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from deseq2_normalized.errors import AnalysisError, RError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)
rlog = logging.getLogger("deseq2_normalized.R")
_F = TypeVar("_F", bound=Callable[..., Any])

RESULT_COLUMNS = ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")

_R_SOURCE = r"""
local({
  env <- new.env()

  env$capture <- function(f, ...) {
    warnings <- character(0)
    value <- withCallingHandlers(f(...), warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
    list(value = value, warnings = warnings)
  }

  env$coldata <- function(values, levels, columns, samples) {
    cols <- mapply(function(v, l) factor(v, levels = l), values, levels, SIMPLIFY = FALSE)
    names(cols) <- columns
    df <- as.data.frame(cols, optional = TRUE, stringsAsFactors = FALSE)
    rownames(df) <- samples
    df
  }

  env$bpparam <- function(workers) {
    if (workers > 1) BiocParallel::MulticoreParam(workers = workers) else BiocParallel::SerialParam()
  }

  env$fit <- function(counts, genes, samples, coldata, design, reduced, size_factors,
                      test, fit_type, workers) {
    dimnames(counts) <- list(genes, samples)
    dds <- DESeq2::DESeqDataSetFromMatrix(countData = counts, colData = coldata,
                                          design = stats::as.formula(design))
    if (length(size_factors)) {
      DESeq2::sizeFactors(dds) <- size_factors
    } else {
      dds <- DESeq2::estimateSizeFactors(dds)
    }
    args <- list(object = dds, test = test, fitType = fit_type, quiet = FALSE,
                 parallel = workers > 1, BPPARAM = env$bpparam(workers))
    if (test == "LRT") args$reduced <- stats::as.formula(reduced)
    do.call(DESeq2::DESeq, args)
  }

  env$coef_name <- function(dds, factor, numerator, denominator) {
    wanted <- make.names(paste(factor, numerator, "vs", denominator, sep = "_"))
    hit <- DESeq2::resultsNames(dds)[make.names(DESeq2::resultsNames(dds)) == wanted]
    if (length(hit)) hit[[1]] else NA_character_
  }

  env$results <- function(dds, contrast, alpha, lfc_threshold, independent_filtering,
                          cooks_cutoff, shrink, workers) {
    args <- list(object = dds, alpha = alpha, lfcThreshold = lfc_threshold,
                 independentFiltering = independent_filtering,
                 parallel = workers > 1, BPPARAM = env$bpparam(workers))
    if (!cooks_cutoff) args$cooksCutoff <- FALSE
    if (length(contrast)) args$contrast <- contrast
    res <- do.call(DESeq2::results, args)
    if (shrink != "none") {
      fit <- dds
      sargs <- list(res = res, type = shrink, quiet = TRUE)
      if (shrink == "apeglm") {
        coef <- env$coef_name(dds, contrast[[1]], contrast[[2]], contrast[[3]])
        if (is.na(coef)) {
          # apeglm needs a model coefficient: refit with the denominator as reference.
          SummarizedExperiment::colData(fit)[[contrast[[1]]]] <-
            stats::relevel(SummarizedExperiment::colData(fit)[[contrast[[1]]]], ref = contrast[[3]])
          fit <- DESeq2::nbinomWaldTest(fit, quiet = TRUE)
          coef <- env$coef_name(fit, contrast[[1]], contrast[[2]], contrast[[3]])
        }
        sargs$coef <- coef
      } else {
        sargs$contrast <- contrast
      }
      shrunk <- do.call(DESeq2::lfcShrink, c(list(dds = fit), sargs))
      res$log2FoldChange <- shrunk$log2FoldChange
      res$lfcSE <- shrunk$lfcSE
    }
    cols <- c("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")
    out <- lapply(cols, function(n) as.numeric(res[[n]]))
    names(out) <- cols
    out
  }

  env$normalized <- function(dds) DESeq2::counts(dds, normalized = TRUE)
  env$size_factors <- function(dds) as.numeric(DESeq2::sizeFactors(dds))

  env$transform <- function(dds, kind) {
    tr <- if (kind == "rlog") {
      DESeq2::rlog(dds, blind = FALSE)
    } else if (sum(rowMeans(DESeq2::counts(dds, normalized = TRUE)) > 5) < 1000) {
      # vst() fits its trend on a subset of 1,000 genes with mean count above 5 and stops
      # when there are fewer; the full transformation is what DESeq2 recommends then.
      DESeq2::varianceStabilizingTransformation(dds, blind = FALSE)
    } else {
      DESeq2::vst(dds, blind = FALSE)
    }
    SummarizedExperiment::assay(tr)
  }

  env$dispersions <- function(dds) {
    m <- S4Vectors::mcols(dds)
    cols <- intersect(c("baseMean", "dispGeneEst", "dispFit", "dispersion", "dispOutlier"), colnames(m))
    out <- lapply(cols, function(n) as.numeric(m[[n]]))
    names(out) <- cols
    out
  }

  env$rounded_dispersions <- function(counts, genes, samples, coldata, design, fit_type) {
    # Dispersions the rounding method would use: the rounded table, every size factor 1.
    dimnames(counts) <- list(genes, samples)
    dds <- DESeq2::DESeqDataSetFromMatrix(countData = counts, colData = coldata,
                                          design = stats::as.formula(design))
    DESeq2::sizeFactors(dds) <- rep(1, ncol(dds))
    dds <- DESeq2::estimateDispersions(dds, fitType = fit_type, quiet = TRUE)
    env$dispersions(dds)
  }

  env$save <- function(dds, path) saveRDS(dds, file = path)

  env$versions <- function() {
    c(R = paste(R.version$major, R.version$minor, sep = "."),
      DESeq2 = as.character(utils::packageVersion("DESeq2")))
  }

  env$has_package <- function(name) requireNamespace(name, quietly = TRUE)

  env
})
"""


class _ConsoleToLog:
    """Collects R console chunks into lines and logs each line."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.buffer = ""

    def __call__(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                rlog.log(self.level, "%s", line.rstrip())


@contextlib.contextmanager
def _console_and_errors() -> Iterator[None]:
    """Route R's console into logging and R errors into :class:`RError`."""
    from rpy2.rinterface_lib import callbacks
    from rpy2.rinterface_lib.embedded import RRuntimeError

    saved = (callbacks.consolewrite_print, callbacks.consolewrite_warnerror)
    callbacks.consolewrite_print = _ConsoleToLog(logging.DEBUG)
    callbacks.consolewrite_warnerror = _ConsoleToLog(logging.DEBUG)
    try:
        yield
    except RRuntimeError as exc:
        raise RError(_r_error_text(exc)) from None
    finally:
        callbacks.consolewrite_print, callbacks.consolewrite_warnerror = saved


@contextlib.contextmanager
def _r_session() -> Iterator[Any]:
    """Route R's console into logging and R errors into :class:`RError`; yield the helpers."""
    with _console_and_errors():
        yield _helpers()


def _r_error_text(exc: Exception) -> str:
    text = str(exc).strip()
    # rpy2 gives "Error in f(x) : message"; keep R's message, drop the call.
    if text.startswith("Error in ") and " : " in text:
        text = text.split(" : ", 1)[1]
    elif text.startswith("Error: "):
        text = text[len("Error: ") :]
    return text


#: Whether rpy2's exit handler has been replaced by :func:`_end_r`.
_ends_like_rscript = False


def _start_r() -> Any:
    """Start the embedded R (once per process); return ``rpy2.robjects``."""
    global _ends_like_rscript
    try:
        with _library_path_from_ldpaths():
            import rpy2.robjects as ro
    except Exception as exc:  # rpy2 raises several kinds when R cannot be loaded
        raise AnalysisError(f"cannot start R through rpy2: {exc}") from None
    if not _ends_like_rscript:
        from rpy2.rinterface_lib import embedded

        atexit.unregister(embedded.endr)
        atexit.register(_end_r)
        _ends_like_rscript = True
    return ro


@contextlib.contextmanager
def _library_path_from_ldpaths() -> Iterator[None]:
    """While rpy2 is first imported, let it read R's library path with :func:`_ldpaths_library_path`.

    rpy2 runs a whole ``Rscript`` at import (0.3 s, a tenth of R's part of the start of a
    run) only to learn what R's front end adds to ``LD_LIBRARY_PATH``.
    """
    if "rpy2.rinterface_lib.openrlib" in sys.modules:  # imported already: nothing to learn
        yield
        return
    from rpy2 import situation

    own = situation.r_ld_library_path_from_subprocess
    situation.r_ld_library_path_from_subprocess = functools.partial(_ldpaths_library_path, fallback=own)
    try:
        yield
    finally:
        situation.r_ld_library_path_from_subprocess = own


def _ldpaths_library_path(r_home: str, fallback: Callable[[str], str] | None = None) -> str:
    """``LD_LIBRARY_PATH`` as R's front end sets it: ``R_HOME/etc/ldpaths``, sourced by ``sh``.

    That file is where the ``R`` and ``Rscript`` front ends take the value from; reading
    it takes milliseconds, against 0.3 s for starting an R to print it.

    Parameters
    ----------
    r_home
        R's home folder (``R RHOME``).
    fallback
        Called with ``r_home`` when the file is missing or ``sh`` fails.

    Returns
    -------
    str
        The value, or ``fallback``'s (``""`` without one).
    """
    ldpaths = os.path.join(r_home, "etc", "ldpaths")
    if os.path.isfile(ldpaths):
        # The file's path is sh's $0, never part of the script.
        script = '. "$0" && printf %s "$LD_LIBRARY_PATH"'
        env = {**os.environ, "R_HOME": r_home}
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            proc = subprocess.run(["sh", "-c", script, ldpaths], env=env, capture_output=True, text=True, timeout=60)
            if proc.returncode == 0:
                return proc.stdout
    return fallback(r_home) if fallback is not None else ""


def _end_r() -> None:
    """End R at exit as ``Rscript`` does: exit finalizers, graphics devices, R's temporary folder.

    Replaces rpy2's exit handler, which adds a full garbage collection first: over a second
    with DESeq2 loaded, for nothing, as the process is about to end.
    """
    from rpy2.rinterface_lib import embedded, openrlib

    ended = embedded.RPY_R_Status.ENDED.value
    with openrlib.rlock:
        if embedded.rpy2_embeddedR_isinitialized & ended:
            return
        openrlib.rlib.R_dot_Last()
        openrlib.rlib.Rf_endEmbeddedR(0)
        embedded.rpy2_embeddedR_isinitialized |= ended


def _load_deseq2() -> Any:
    """Load DESeq2 into the running R and define the helper environment."""
    ro = _start_r()
    ok = ro.r("x <- suppressPackageStartupMessages(requireNamespace('DESeq2', quietly = TRUE)); x")[0]
    if not ok:
        raise AnalysisError("the R package DESeq2 is not installed (Debian: apt-get install r-bioc-deseq2)")
    ro.r("suppressPackageStartupMessages(library(DESeq2))")
    return ro.r(_R_SOURCE)


@dataclass(frozen=True)
class _Loading:
    """DESeq2 being loaded by a background thread (see :func:`start_in_background`)."""

    thread: threading.Thread
    done: Future[Any]


#: The helper environment once DESeq2 is loaded.
_env: Any = None
_loading: _Loading | None = None


def _helpers() -> Any:
    """The helper environment: waits for a background load, or loads DESeq2 here (once per process)."""
    global _env, _loading
    if _env is None:
        loading, _loading = _loading, None
        _env = _load_deseq2() if loading is None else loading.done.result()
    return _env


def _uses_r(func: _F) -> _F:
    """Mark a function that calls into R: it first waits for (or does) the DESeq2 load."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _helpers()
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def start_in_background() -> None:
    """Start R and load DESeq2 in a background thread; return while DESeq2 loads.

    Loading DESeq2 is the largest fixed cost of a run (seconds, the same as under
    ``Rscript``). Started first, it overlaps with importing numpy and pandas and with
    reading and checking the input, which run meanwhile: R evaluates in C with Python's
    lock released.
    No user data reaches R here, and the first call into R waits for the load to finish,
    so only one thread ever uses R at a time. Does nothing when DESeq2 is loaded or loading,
    or when R cannot be started: the first call into R then reports why, after the input
    has been checked.
    """
    global _loading
    if _env is not None or _loading is not None:
        return
    # R itself starts in the calling thread: rpy2 sets up signal handling from there.
    try:
        _start_r()
    except AnalysisError:
        return
    done: Future[Any] = Future()
    # rpy2 keeps its conversion rules in a context variable: the thread runs in a copy of ours.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(_load_in_background, done), name="DESeq2 loader", daemon=True)
    _loading = _Loading(thread, done)
    # Registered after _end_r (by _start_r above), so it runs first: R must be idle when R ends.
    atexit.register(_stop_loading, _loading)
    thread.start()


def _load_in_background(done: Future[Any]) -> None:
    from rpy2.rinterface_lib import openrlib

    rlib = openrlib.rlib
    # While packages load, R calls R_ProcessEvents, which rpy2 answers in Python, some
    # thousands of times; each call would wait for the main thread to release Python's
    # lock. Ctrl-C is the main thread's meanwhile, so R can do without it until loaded.
    process_events, rlib.ptr_R_ProcessEvents = rlib.ptr_R_ProcessEvents, openrlib.ffi.NULL
    try:
        with _console_and_errors():
            done.set_result(_load_deseq2())
    except BaseException as exc:  # handed to the thread that waits for the result
        done.set_exception(exc)
    finally:
        rlib.ptr_R_ProcessEvents = process_events


def _stop_loading(loading: _Loading, timeout: float = 60.0) -> None:
    """Interrupt an unfinished background load and wait for it (at exit, before R ends)."""
    if not loading.thread.is_alive():
        return
    from rpy2.rinterface_lib import openrlib

    deadline = time.monotonic() + timeout
    while loading.thread.is_alive() and time.monotonic() < deadline:
        openrlib.rlib.R_interrupts_pending = 1
        loading.thread.join(0.05)
    openrlib.rlib.R_interrupts_pending = 0


def _call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call an R helper inside a numpy converter context, logging R's warnings."""
    import rpy2.robjects as ro
    from rpy2.robjects.conversion import localconverter

    # Plain R objects in and out: numeric results are read through numpy's buffer protocol.
    with _r_session() as env, localconverter(ro.default_converter):
        # R calls f(...) inside its warning handler: evaluating env[name](...) here would not.
        out = env["capture"](env[name], *args, **kwargs)
        for message in out[1]:
            rlog.warning("R warning: %s", " ".join(str(message).split()))
        return out[0]


@_uses_r
def versions() -> dict[str, str]:
    """Versions of R, DESeq2 and rpy2.

    Returns
    -------
    dict
        Keys ``R``, ``DESeq2``, ``rpy2``.
    """
    import rpy2

    with _r_session() as env:
        values = env["versions"]()
        out = {str(k): str(v) for k, v in zip(values.names, values)}
    out["rpy2"] = rpy2.__version__
    return out


@_uses_r
def has_r_package(name: str) -> bool:
    """Whether an R package (for example ``apeglm``) can be loaded."""
    from rpy2.robjects.vectors import StrVector

    with _r_session() as env:
        return bool(env["has_package"](StrVector([name]))[0])


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


@_uses_r
def fit(
    counts: pd.DataFrame,
    coldata: pd.DataFrame,
    aliases: dict[str, str],
    design: str,
    size_factors: np.ndarray | None,
    *,
    test: str = "wald",
    reduced: str | None = None,
    fit_type: str = "parametric",
    threads: int = 1,
) -> FittedModel:
    """Build a DESeqDataSet with the given size factors and run ``DESeq``.

    Parameters
    ----------
    counts
        Integer counts, genes x samples.
    coldata
        Samples x design variables, every column categorical (levels fixed in Python).
    aliases
        Column name to R-safe name; ``design`` and ``reduced`` are written over the aliases.
    design, reduced
        Formulas over the aliases (``reduced`` for the LRT only).
    size_factors
        One size factor per sample (all 1 for the rounding method); ``None`` lets DESeq2
        estimate them (``estimateSizeFactors``) from the counts.
    test
        ``"wald"`` or ``"lrt"``.
    fit_type
        DESeq2's ``fitType``: parametric, local, mean or glmGamPoi.
    threads
        BiocParallel workers.

    Returns
    -------
    FittedModel
        Handle on the fitted model.
    """
    from rpy2.robjects.vectors import FloatVector, StrVector

    dds = _call(
        "fit",
        *_r_data(counts, coldata, aliases),
        StrVector([design]),
        StrVector([reduced or ""]),
        FloatVector([] if size_factors is None else list(size_factors)),
        StrVector(["LRT" if test == "lrt" else "Wald"]),
        StrVector([fit_type]),
        threads,
    )
    return FittedModel(dds=dds, genes=counts.index, samples=counts.columns, threads=threads)


def _r_data(counts: pd.DataFrame, coldata: pd.DataFrame, aliases: dict[str, str]) -> tuple[Any, Any, Any, Any]:
    """Count matrix, gene names, sample names and colData as R objects."""
    import numpy as np
    import rpy2.robjects as ro
    from rpy2.rinterface import IntSexpVector
    from rpy2.robjects.vectors import StrVector

    matrix = np.asfortranarray(counts.to_numpy(dtype=np.int32))
    flat = IntSexpVector.from_memoryview(matrix.ravel(order="F").data)
    r_matrix = ro.r["matrix"](flat, nrow=matrix.shape[0], ncol=matrix.shape[1])
    cols = list(coldata.columns)
    with _r_session() as env:
        r_coldata = env["coldata"](
            ro.ListVector.from_length(0) if not cols else _list([StrVector(coldata[c].astype(str)) for c in cols]),
            _list([StrVector([str(x) for x in coldata[c].cat.categories]) for c in cols]),
            StrVector([aliases[c] for c in cols]),
            StrVector([str(s) for s in coldata.index]),
        )
    genes = StrVector([str(g) for g in counts.index])
    samples = StrVector([str(s) for s in counts.columns])
    return r_matrix, genes, samples, r_coldata


@_uses_r
def rounded_dispersions(
    counts: pd.DataFrame,
    coldata: pd.DataFrame,
    aliases: dict[str, str],
    design: str,
    *,
    fit_type: str = "parametric",
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

    out = _call("rounded_dispersions", *_r_data(counts, coldata, aliases), StrVector([design]), StrVector([fit_type]))
    return _columns(out, out.names, counts.index)


def _list(items: list[Any]) -> Any:
    import rpy2.robjects as ro

    return ro.r["list"](*items)


@_uses_r
def results(
    model: FittedModel,
    contrast: tuple[str, str, str] | None,
    *,
    alpha: float = 0.1,
    lfc_threshold: float = 0.0,
    independent_filtering: bool = True,
    cooks_cutoff: bool = True,
    shrink: str = "none",
) -> pd.DataFrame:
    """DESeq2 ``results`` (and ``lfcShrink``) for one contrast, as a DataFrame.

    Parameters
    ----------
    model
        The fitted model.
    contrast
        ``(factor alias, numerator, denominator)``; ``None`` for DESeq2's default (LRT).
    alpha, lfc_threshold, independent_filtering, cooks_cutoff
        As in DESeq2's ``results``.
    shrink
        ``none`` or an ``lfcShrink`` type (normal, ashr, apeglm); shrunken estimates
        replace ``log2FoldChange`` and ``lfcSE``, tests are unchanged.

    Returns
    -------
    pandas.DataFrame
        Index the gene IDs, columns :data:`RESULT_COLUMNS`, in the model's gene order.
    """
    from rpy2.robjects.vectors import StrVector

    out = _call(
        "results",
        model.dds,
        StrVector(list(contrast) if contrast else []),
        alpha,
        lfc_threshold,
        independent_filtering,
        cooks_cutoff,
        StrVector([shrink]),
        model.threads,
    )
    return _columns(out, RESULT_COLUMNS, model.genes)


@_uses_r
def normalized_counts(model: FittedModel) -> pd.DataFrame:
    """``counts(dds, normalized=TRUE)`` as a genes x samples DataFrame."""
    return _matrix(_call("normalized", model.dds), model)


@_uses_r
def size_factors(model: FittedModel) -> pd.Series:
    """``sizeFactors(dds)``: the size factors DESeq2 used, one per sample."""
    import numpy as np
    import pandas as pd

    values = np.asarray(_call("size_factors", model.dds), dtype=np.float64)
    return pd.Series(values, index=model.samples, name="size_factor")


@_uses_r
def transformed_counts(model: FittedModel, kind: str) -> pd.DataFrame:
    """The ``vst`` or ``rlog`` assay (``blind=FALSE``) as a genes x samples DataFrame."""
    from rpy2.robjects.vectors import StrVector

    return _matrix(_call("transform", model.dds, StrVector([kind])), model)


@_uses_r
def dispersions(model: FittedModel) -> pd.DataFrame:
    """Per-gene mean and dispersion estimates (gene-wise, fitted trend, final, outlier)."""
    out = _call("dispersions", model.dds)
    return _columns(out, out.names, model.genes)


@_uses_r
def save_rds(model: FittedModel, path: str) -> None:
    """Save the fitted DESeqDataSet with ``saveRDS``."""
    from rpy2.robjects.vectors import StrVector

    _call("save", model.dds, StrVector([path]))


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
