#!/usr/bin/env Rscript
# results() options applied directly in R, independently of the Python package: the rounding
# recipe (round, size factors 1, DESeq on ~ condition), then results() with its defaults and with
# lfcThreshold = 1, cooksCutoff = FALSE and independentFiltering = FALSE, one at a time.
# Usage: Rscript results_options.R NORMALIZED SAMPLES OUTDIR
# Writes one TSV per scenario (17 significant digits, NA as NA).
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
norm <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
samples <- read.delim(args[[2]], check.names = FALSE, stringsAsFactors = FALSE)
out <- args[[3]]
dir.create(out, showWarnings = FALSE, recursive = TRUE)

counts <- round(norm)
mode(counts) <- "integer"
coldata <- data.frame(row.names = samples$sample,
                      condition = factor(samples$condition, levels = c("untreated", "treated")))
coldata <- coldata[colnames(counts), , drop = FALSE]
dds <- DESeqDataSetFromMatrix(counts, coldata, ~ condition)
sizeFactors(dds) <- rep(1, ncol(dds))
dds <- DESeq(dds, quiet = TRUE)

fmt <- function(x) ifelse(is.na(x), "NA", formatC(x, digits = 17, format = "g"))
save <- function(res, name) {
  df <- data.frame(gene_id = rownames(res), log2FoldChange = fmt(res$log2FoldChange),
                   pvalue = fmt(res$pvalue), padj = fmt(res$padj))
  write.table(df, file.path(out, paste0(name, ".tsv")), sep = "\t", quote = FALSE, row.names = FALSE)
}
contrast <- c("condition", "treated", "untreated")
save(results(dds, contrast = contrast), "default")
save(results(dds, contrast = contrast, lfcThreshold = 1), "lfc_threshold")
save(results(dds, contrast = contrast, cooksCutoff = FALSE), "no_cooks_cutoff")
save(results(dds, contrast = contrast, independentFiltering = FALSE), "no_independent_filtering")
