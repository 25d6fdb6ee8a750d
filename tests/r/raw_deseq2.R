#!/usr/bin/env Rscript
# Standard DESeq2 on raw counts (size factors estimated): the analysis that count
# recovery must reproduce. Usage: Rscript raw_deseq2.R RAW SAMPLES OUT [PREFILTER [BATCH]]
# PREFILTER: keep genes whose counts add up to at least this, as the DESeq2 vignette does.
# BATCH: a batch-factor file (identifier, condition, W_1, ...): its W columns come first in the design.
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
raw <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
samples <- read.delim(args[[2]], check.names = FALSE, stringsAsFactors = FALSE)
coldata <- data.frame(row.names = samples$sample, condition = factor(samples$condition, levels = c("untreated", "treated")),
                      type = factor(samples$type))[colnames(raw), ]
design <- ~ type + condition
if (length(args) >= 5) {
  batch <- read.delim(args[[5]], check.names = FALSE, stringsAsFactors = FALSE)
  covariates <- setdiff(colnames(batch)[-1], "condition")
  for (name in covariates) coldata[[name]] <- batch[[name]][match(rownames(coldata), batch[[1]])]
  design <- as.formula(paste("~", paste(c(covariates, "type", "condition"), collapse = " + ")))
}
dds <- DESeqDataSetFromMatrix(raw, coldata, design)
if (length(args) >= 4) {
  dds <- dds[rowSums(counts(dds)) >= as.numeric(args[[4]]), ]
}
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("condition", "treated", "untreated"))
fmt <- function(x) ifelse(is.na(x), "NA", formatC(x, digits = 17, format = "g"))
write.table(data.frame(gene_id = rownames(res), log2FoldChange = fmt(res$log2FoldChange), pvalue = fmt(res$pvalue),
                       padj = fmt(res$padj)), args[[3]], sep = "\t", quote = FALSE, row.names = FALSE)
