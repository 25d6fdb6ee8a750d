#!/usr/bin/env Rscript
# Tables for the count-recovery tests, made with DESeq2 from known raw counts.
# Usage: Rscript make_recovery_tables.R RAW_COUNTS OUTDIR
# Writes, for the pasilla counts ("pasilla") and a simulation ("sim": 12 samples, size
# factors 0.2 to 5, many zeros): raw counts, size factors, and normalized tables at full
# precision (17 significant digits), 6 significant digits, 2 and 1 decimals, gene-filtered
# after normalization; plus tables that are not recoverable (TPM-like, VST, log2 at 2
# decimals, noise added) and CPM.
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
out <- args[[2]]
dir.create(out, showWarnings = FALSE, recursive = TRUE)

write_tab <- function(m, name, digits = NULL, decimals = NULL) {
  text <- if (!is.null(decimals)) {
    formatC(round(m, decimals), format = "f", digits = decimals, drop0trailing = TRUE)
  } else {
    formatC(m, digits = digits, format = "g")
  }
  text <- matrix(trimws(text), nrow = nrow(m), dimnames = dimnames(m))
  df <- data.frame(gene_id = rownames(m), text, check.names = FALSE)
  write.table(df, file.path(out, paste0(name, ".tsv")), sep = "\t", quote = FALSE, row.names = FALSE)
}

make_set <- function(raw, prefix) {
  coldata <- data.frame(row.names = colnames(raw), condition = factor(rep(c("A", "B"), length.out = ncol(raw))))
  dds <- estimateSizeFactors(DESeqDataSetFromMatrix(raw, coldata, ~ condition))
  norm <- counts(dds, normalized = TRUE)
  write_tab(raw, paste0(prefix, "_raw"), digits = 17)
  write.table(data.frame(sample = colnames(dds), size_factor = trimws(formatC(sizeFactors(dds), digits = 17, format = "g"))),
              file.path(out, paste0(prefix, "_size_factors.tsv")), sep = "\t", quote = FALSE, row.names = FALSE)
  write_tab(norm, paste0(prefix, "_full"), digits = 17)
  write_tab(norm, paste0(prefix, "_sig6"), digits = 6)
  write_tab(norm, paste0(prefix, "_dec2"), decimals = 2)
  write_tab(norm, paste0(prefix, "_dec1"), decimals = 1)
  keep <- rowSums(raw >= 10) >= 3
  write_tab(norm[keep, ], paste0(prefix, "_filtered"), digits = 15)
  write_tab(t(t(raw) / colSums(raw) * 1e6), paste0(prefix, "_cpm"), digits = 15)
  set.seed(11)
  len <- sample(500:8000, nrow(raw), replace = TRUE)
  rpk <- raw / (len / 1000)
  write_tab(t(t(rpk) / colSums(rpk) * 1e6), paste0(prefix, "_tpm"), digits = 15)
  write_tab(assay(varianceStabilizingTransformation(dds, blind = TRUE)), paste0(prefix, "_vst"), digits = 15)
  write_tab(log2(norm + 1), paste0(prefix, "_log2dec2"), decimals = 2)
  noisy <- norm * exp(rnorm(length(norm), 0, 0.02))
  write_tab(noisy, paste0(prefix, "_noise"), digits = 15)
}

pasilla <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
make_set(pasilla, "pasilla")

set.seed(42)
n_genes <- 10000
sf <- exp(seq(log(0.2), log(5), length.out = 12))
mu <- exp(rnorm(n_genes, 3, 2.2))
sim <- matrix(rnbinom(n_genes * 12, mu = outer(mu, sf), size = 5), nrow = n_genes,
              dimnames = list(sprintf("gene%05d", seq_len(n_genes)), sprintf("s%02d", 1:12)))
sim <- sim[rowSums(sim) > 0, ]
make_set(sim, "sim")
