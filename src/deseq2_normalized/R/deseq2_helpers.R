# deseq2_helpers.R: the R side of deseq2-normalized, the only R code the package runs.
#
# Plain R function definitions, nothing else: sourcing this file loads no package and
# runs no analysis. Python (deseq2_normalized.rsession) loads DESeq2, then sources this
# file into a private environment, as
#
#   helpers <- new.env(parent = globalenv())
#   sys.source("deseq2_helpers.R", envir = helpers)
#
# and deseq2_normalized.rbackend calls the functions below by name, always with named
# arguments (tests/test_r_helpers.py checks the names against these signatures). User data
# (counts, gene and sample names, levels) arrive as R vectors, never as code; design
# formulas arrive as strings written over R-safe aliases.
#
# From an R prompt, `source("deseq2_helpers.R")` defines the same functions for trying
# them out; DESeq2 is called through `DESeq2::` and needs no library() call.

# Calls helper(...) and returns list(value, warnings): the messages of the warnings it
# raised, which Python logs, in place of R's deferred "Warning message:" output.
capture_warnings <- function(helper, ...) {
  warnings <- character(0)
  value <- withCallingHandlers(helper(...), warning = function(w) {
    warnings <<- c(warnings, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = warnings)
}

# colData: one factor per design variable, levels in the order Python fixed; numeric
# covariates arrive as numbers and stay numbers.
coldata <- function(values, levels, columns, samples) {
  cols <- mapply(function(v, l) if (is.numeric(v)) v else factor(v, levels = l), values, levels,
                 SIMPLIFY = FALSE)
  names(cols) <- columns
  df <- as.data.frame(cols, optional = TRUE, stringsAsFactors = FALSE)
  rownames(df) <- samples
  df
}

parallel_param <- function(workers) {
  if (workers > 1) BiocParallel::MulticoreParam(workers = workers) else BiocParallel::SerialParam()
}

# The DESeqDataSet of a count matrix (genes and samples as its dimnames) and its colData.
dataset <- function(counts, genes, samples, coldata, design) {
  dimnames(counts) <- list(genes, samples)
  DESeq2::DESeqDataSetFromMatrix(countData = counts, colData = coldata,
                                 design = stats::as.formula(design))
}

# The options of DESeq() that a run sets (Python's options.FitOptions), as one list for fit().
fit_options <- function(fit_type, beta_prior, outlier_replacement) as.list(environment())

# The options of results() and lfcShrink() (Python's options.ResultsOptions), as one list for
# results_table().
results_options <- function(alpha, lfc_threshold, independent_filtering, cooks_cutoff, shrink) {
  as.list(environment())
}

# The given size factors (estimated with type sf_type when there are none), then DESeq() with
# the fit_options() list `options`. outlier_replacement = FALSE is minReplicatesForReplace = Inf.
fit <- function(dds, reduced, size_factors, test, options, workers, sf_type) {
  if (length(size_factors)) {
    DESeq2::sizeFactors(dds) <- size_factors
  } else {
    dds <- DESeq2::estimateSizeFactors(dds, type = sf_type)
  }
  args <- list(object = dds, test = test, fitType = options$fit_type, betaPrior = options$beta_prior,
               quiet = FALSE, parallel = workers > 1, BPPARAM = parallel_param(workers))
  if (!options$outlier_replacement) args$minReplicatesForReplace <- Inf
  if (test == "LRT") args$reduced <- stats::as.formula(reduced)
  do.call(DESeq2::DESeq, args)
}

# The resultsNames() entry for factor_numerator_vs_denominator, or NA.
coef_name <- function(dds, factor, numerator, denominator) {
  wanted <- make.names(paste(factor, numerator, "vs", denominator, sep = "_"))
  hit <- DESeq2::resultsNames(dds)[make.names(DESeq2::resultsNames(dds)) == wanted]
  if (length(hit)) hit[[1]] else NA_character_
}

# results() (and lfcShrink() unless options$shrink is "none") as a named list of numeric columns;
# `options` is a results_options() list.
results_table <- function(dds, contrast, options, workers) {
  args <- list(object = dds, alpha = options$alpha, lfcThreshold = options$lfc_threshold,
               independentFiltering = options$independent_filtering,
               parallel = workers > 1, BPPARAM = parallel_param(workers))
  if (!options$cooks_cutoff) args$cooksCutoff <- FALSE
  if (length(contrast)) args$contrast <- contrast
  res <- do.call(DESeq2::results, args)
  shrink <- options$shrink
  if (shrink != "none") {
    model <- dds
    sargs <- list(res = res, type = shrink, quiet = TRUE)
    if (shrink == "apeglm") {
      coef <- coef_name(dds, contrast[[1]], contrast[[2]], contrast[[3]])
      if (is.na(coef)) {
        # apeglm needs a model coefficient: refit with the denominator as reference.
        SummarizedExperiment::colData(model)[[contrast[[1]]]] <-
          stats::relevel(SummarizedExperiment::colData(model)[[contrast[[1]]]], ref = contrast[[3]])
        model <- DESeq2::nbinomWaldTest(model, quiet = TRUE)
        coef <- coef_name(model, contrast[[1]], contrast[[2]], contrast[[3]])
      }
      sargs$coef <- coef
    } else {
      sargs$contrast <- contrast
    }
    shrunk <- do.call(DESeq2::lfcShrink, c(list(dds = model), sargs))
    res$log2FoldChange <- shrunk$log2FoldChange
    res$lfcSE <- shrunk$lfcSE
  }
  cols <- c("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")
  out <- lapply(cols, function(n) as.numeric(res[[n]]))
  names(out) <- cols
  out
}

# One rounding-sensitivity refit: DESeq() on one stochastic rounding with every size factor 1, serial
# inside (the refits themselves are what runs in parallel), then results_table() for every contrast
# (a list of contrasts; an empty one is DESeq2's default, the LRT's), without shrinkage.
refit_results <- function(counts, genes, samples, coldata, design, reduced, test, fit_options, results_options,
                          contrasts) {
  dds <- dataset(counts = counts, genes = genes, samples = samples, coldata = coldata, design = design)
  dds <- fit(dds = dds, reduced = reduced, size_factors = rep(1, ncol(dds)), test = test, options = fit_options,
             workers = 1, sf_type = "ratio")
  results_options$shrink <- "none"
  lapply(contrasts, function(contrast) {
    results_table(dds = dds, contrast = contrast, options = results_options, workers = 1)
  })
}

# The rounding-sensitivity refits over `workers` processes: up to workers - 1 forked copies of this R
# start on them at once, while this one goes on with the main analysis and joins in refits_collect(). A
# refit belongs to the process that creates its claim folder first (dir.create() is atomic), so each
# refit runs once, and whichever process is free takes the next: the work balances whatever else this
# process has to do. Every refit is serial inside, so its results do not depend on where it ran.
# `roundings` is a list of integer matrices (genes x samples); the other arguments are refit_results()'s.
refits_start <- function(roundings, genes, samples, coldata, design, reduced, test, fit_options, results_options,
                         contrasts, workers) {
  claims <- tempfile("refits")
  dir.create(claims)
  share <- function() {
    out <- list()
    for (i in seq_along(roundings)) {
      if (dir.create(file.path(claims, i), showWarnings = FALSE)) {
        out[[as.character(i)]] <- refit_results(
          counts = roundings[[i]], genes = genes, samples = samples, coldata = coldata, design = design,
          reduced = reduced, test = test, fit_options = fit_options, results_options = results_options,
          contrasts = contrasts)
      }
    }
    out
  }
  # This process has the main analysis to do first: the copies take the other workers.
  forks <- min(workers - 1, length(roundings))
  # Each forked copy keeps its R warnings with its results: refits_collect() raises them here.
  children <- lapply(seq_len(max(forks, 0)), function(i) {
    parallel::mcparallel(capture_warnings(helper = share), silent = FALSE)
  })
  list(share = share, children = children, claims = claims, n = length(roundings))
}

# The refits' results_table() lists, one per rounding in order: this process takes the refits no copy
# has claimed yet, then waits for the copies and raises their R warnings here.
refits_collect <- function(pending) {
  on.exit(unlink(pending$claims, recursive = TRUE))
  out <- tryCatch(pending$share(), error = function(e) {
    refits_stop(pending)
    stop(e)
  })
  for (theirs in parallel::mccollect(pending$children, wait = TRUE)) {
    if (is.null(theirs)) stop("a forked R process of the rounding-sensitivity refits ended without its results")
    if (inherits(theirs, "try-error")) stop(conditionMessage(attr(theirs, "condition")), call. = FALSE)
    for (w in theirs$warnings) warning(w, call. = FALSE)
    out <- c(out, theirs$value)
  }
  missing <- setdiff(as.character(seq_len(pending$n)), names(out))
  if (length(missing)) stop("rounding-sensitivity refits without results: ", paste(missing, collapse = ", "))
  unname(out[as.character(seq_len(pending$n))])
}

# Stops the forked copies of an analysis that ends before refits_collect() (an error on the way).
refits_stop <- function(pending) {
  pids <- vapply(pending$children, function(job) job$pid, integer(1))
  if (length(pids)) tools::pskill(pids, tools::SIGTERM)
  parallel::mccollect(pending$children, wait = TRUE)
  unlink(pending$claims, recursive = TRUE)
  invisible(NULL)
}

normalized_counts <- function(dds) DESeq2::counts(dds, normalized = TRUE)

size_factors <- function(dds) as.numeric(DESeq2::sizeFactors(dds))

# The vst or rlog assay, blind = FALSE.
transformed_counts <- function(dds, kind) {
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

# Per-gene mean and dispersion estimates from mcols(dds), as a named list of columns.
dispersion_table <- function(dds) {
  m <- S4Vectors::mcols(dds)
  cols <- intersect(c("baseMean", "dispGeneEst", "dispFit", "dispersion", "dispOutlier"), colnames(m))
  out <- lapply(cols, function(n) as.numeric(m[[n]]))
  names(out) <- cols
  out
}

rounded_dispersions <- function(dds, fit_type) {
  # Dispersions the rounding method would use: the rounded table, every size factor 1.
  DESeq2::sizeFactors(dds) <- rep(1, ncol(dds))
  dds <- DESeq2::estimateDispersions(dds, fitType = fit_type, quiet = TRUE)
  dispersion_table(dds)
}

save_rds <- function(dds, path) saveRDS(dds, file = path)

versions <- function() {
  c(R = paste(R.version$major, R.version$minor, sep = "."),
    DESeq2 = as.character(utils::packageVersion("DESeq2")))
}

has_r_package <- function(name) requireNamespace(name, quietly = TRUE)
