# What a second worker buys, stage by stage, on a benchmark matrix (round, size factors 1,
# ~ condition), without the tool around it: each stage serial and with 2 workers, the order
# alternating per repetition, wall seconds and the 1-minute load average of each measurement.
#   Rscript benchmarks/deseq_parallel.R benchmarks/data/counts_20000x12.tsv benchmarks/data/samples_20000x12.tsv [REPS [STAGES]]
# Stages (STAGES: some of their numbers, comma-separated; default all):
# 1. DESeq(), serial against BiocParallel MulticoreParam(2) inside (DESeq(parallel = TRUE));
# 2. results() of two contrasts (B vs A and A vs B: the cost of several contrasts) and vst() of the
#    fitted model, one after the other against two forked processes (parallel::mclapply);
# 3. four rounding-sensitivity refits through the tool's own helpers, refits_start() and
#    refits_collect() of src/deseq2_normalized/R/deseq2_helpers.R, with workers 1 and 2.
suppressPackageStartupMessages({
  library(DESeq2)
  library(BiocParallel)
})
source("src/deseq2_normalized/R/deseq2_helpers.R")
args <- commandArgs(trailingOnly = TRUE)
reps <- if (length(args) > 2) as.integer(args[[3]]) else 3L
chosen <- if (length(args) > 3) as.integer(strsplit(args[[4]], ",")[[1]]) else 1:3
x <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
samples <- read.delim(args[[2]], row.names = 1)[colnames(x), , drop = FALSE]
cd <- coldata(values = list(samples$condition), levels = list(sort(unique(samples$condition))),
              columns = "condition", samples = colnames(x))
counts <- round(x)
storage.mode(counts) <- "integer"
dds <- dataset(counts = counts, genes = rownames(x), samples = colnames(x), coldata = cd, design = "~ condition")
DESeq2::sizeFactors(dds) <- rep(1, ncol(dds))
fitted <- if (2 %in% chosen) DESeq2::DESeq(dds, quiet = TRUE)
set.seed(1)
roundings <- if (3 %in% chosen) lapply(1:4, function(i) {
  f <- floor(x)
  m <- f + (matrix(stats::runif(length(x)), nrow(x)) < (x - f))
  storage.mode(m) <- "integer"
  m
})

load1 <- function() as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][[1]])
post_fit <- function(what) {
  if (what == "vst") return(transformed_counts(dds = fitted, kind = "vst"))
  levels <- if (what == "B vs A") c("B", "A") else c("A", "B")
  results_table(dds = fitted, contrast = c("condition", levels), options = defaults, workers = 1)
}
defaults <- results_options(alpha = 0.1, lfc_threshold = 0, independent_filtering = TRUE, cooks_cutoff = TRUE,
                            shrink = "none")
post_fit_tasks <- c("B vs A", "A vs B", "vst")
stages <- list(
  "DESeq()" = function(w) DESeq2::DESeq(dds, quiet = TRUE, parallel = w > 1, BPPARAM = parallel_param(w)),
  "2 results() + vst()" = function(w) {
    if (w > 1) parallel::mclapply(post_fit_tasks, post_fit, mc.cores = w, mc.preschedule = FALSE)
    else lapply(post_fit_tasks, post_fit)
  },
  "4 refits" = function(w) {
    suppressMessages(refits_collect(refits_start(
      roundings = roundings, genes = rownames(x), samples = colnames(x), coldata = cd, design = "~ condition",
      reduced = "", test = "Wald",
      fit_options = fit_options(fit_type = "parametric", beta_prior = FALSE, outlier_replacement = TRUE),
      results_options = defaults, contrasts = list(c("condition", "B", "A")), workers = w)))
  }
)
stages <- stages[chosen]
rows <- list()
for (rep in seq_len(reps)) {
  for (stage in names(stages)) {
    for (w in if (rep %% 2) c(1, 2) else c(2, 1)) {
      load <- load1()
      wall <- system.time(stages[[stage]](w))[["elapsed"]]
      rows[[length(rows) + 1]] <- data.frame(stage = stage, rep = rep, workers = w, wall = wall, load = load)
      cat(sprintf("%-20s rep %d, %d worker(s): %6.2f s wall (load %.2f)\n", stage, rep, w, wall, load))
    }
  }
}
all <- do.call(rbind, rows)
cat(sprintf("\n%d x %d, medians of %d: stage, 1 worker, 2 workers, speed-up, load\n", nrow(x), ncol(x), reps))
for (stage in names(stages)) {
  one <- stats::median(all$wall[all$stage == stage & all$workers == 1])
  two <- stats::median(all$wall[all$stage == stage & all$workers == 2])
  load <- range(all$load[all$stage == stage])
  cat(sprintf("%-20s %6.2f s %6.2f s %5.2fx  load %.1f-%.1f\n", stage, one, two, one / two, load[[1]], load[[2]]))
}
