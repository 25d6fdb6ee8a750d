#!/usr/bin/env Rscript
# DESeq2 on known raw counts: the truth a recovered analysis is compared with.
# Usage: Rscript deseq2_reference.R RAW SAMPLES OUT [SIZE_FACTORS]
# RAW may hold estimated (non-integer) counts: they are rounded with R's round().
# SAMPLES: a 'sample' column, then the design variables (design: '~ ' + them in order); the last
# one is tested, level 'untreated' (or 'A') as the reference. SIZE_FACTORS (sample, size_factor):
# set them instead of estimating (the original analysis of a table filtered after normalization).
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
raw <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
# Estimated counts (salmon, kallisto, RSEM) without their quantification files: DESeq2's documentation
# rounds them (DESeqDataSetFromMatrix(round(x))); whole numbers are unchanged.
raw <- round(raw)
samples <- read.delim(args[[2]], check.names = FALSE, stringsAsFactors = TRUE)
rownames(samples) <- samples$sample
vars <- setdiff(colnames(samples), "sample")
coldata <- samples[colnames(raw), vars, drop = FALSE]
last <- vars[[length(vars)]]
ref <- intersect(c("untreated", "A"), levels(coldata[[last]]))[[1]]
coldata[[last]] <- relevel(droplevels(coldata[[last]]), ref)
dds <- DESeqDataSetFromMatrix(raw, coldata, as.formula(paste("~", paste(vars, collapse = " + "))))
if (length(args) >= 4) {
  sf <- read.delim(args[[4]], row.names = 1)
  sizeFactors(dds) <- sf[colnames(raw), "size_factor"]
}
dds <- DESeq(dds, quiet = TRUE)
num <- setdiff(levels(coldata[[last]]), ref)[[1]]
res <- results(dds, contrast = c(last, num, ref))
fmt <- function(x) ifelse(is.na(x), "NA", formatC(x, digits = 17, format = "g"))
write.table(data.frame(gene_id = rownames(res), log2FoldChange = fmt(res$log2FoldChange), pvalue = fmt(res$pvalue),
                       padj = fmt(res$padj)), args[[3]], sep = "\t", quote = FALSE, row.names = FALSE)
