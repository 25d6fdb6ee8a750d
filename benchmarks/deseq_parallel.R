# Where the time of DESeq() goes, serial against BiocParallel with 2 workers, on a benchmark
# matrix (round, size factors 1, ~ condition), without the tool around it.
#   Rscript benchmarks/deseq_parallel.R benchmarks/data/counts_60000x48.tsv benchmarks/data/samples_60000x48.tsv
suppressPackageStartupMessages({
  library(DESeq2)
  library(BiocParallel)
})
args <- commandArgs(trailingOnly = TRUE)
counts <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
samples <- read.delim(args[[2]], row.names = 1)
samples$condition <- factor(samples$condition)
dds <- DESeqDataSetFromMatrix(round(counts), samples[colnames(counts), , drop = FALSE], ~ condition)
sizeFactors(dds) <- rep(1, ncol(dds))
timed <- function(label, expr) {
  t <- system.time(value <- expr)
  cat(sprintf("%-28s %6.1f s wall %6.1f s CPU (this process)\n", label, t[["elapsed"]],
              t[["user.self"]] + t[["sys.self"]]))
  invisible(value)
}
step <- timed("estimateDispersionsGeneEst", estimateDispersionsGeneEst(dds))
step <- timed("estimateDispersionsFit", estimateDispersionsFit(step))
step <- timed("estimateDispersionsMAP", estimateDispersionsMAP(step))
step <- timed("nbinomWaldTest", nbinomWaldTest(step))
timed("DESeq, serial", DESeq(dds, quiet = TRUE))
timed("DESeq, 2 workers", DESeq(dds, quiet = TRUE, parallel = TRUE, BPPARAM = MulticoreParam(2)))
