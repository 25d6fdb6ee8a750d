#!/usr/bin/env Rscript
# The workaround recipe applied directly in R, independently of the Python package:
# round the normalized matrix, set every size factor to 1, DESeq, results.
# Usage: Rscript reference_recipe.R NORMALIZED SAMPLES OUTDIR
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
                      condition = factor(samples$condition, levels = c("untreated", "treated")),
                      type = factor(samples$type))
coldata <- coldata[colnames(counts), ]
# Three levels: treated, untreated_paired, untreated_single.
coldata$group <- factor(ifelse(coldata$condition == "treated", "treated",
                               paste0("untreated_", sub("_.*", "", coldata$type))))

fit <- function(design, ...) {
  dds <- DESeqDataSetFromMatrix(counts, coldata, design)
  sizeFactors(dds) <- rep(1, ncol(dds))
  DESeq(dds, quiet = TRUE, ...)
}

fmt <- function(x) ifelse(is.na(x), "NA", formatC(x, digits = 17, format = "g"))

save <- function(res, name) {
  df <- data.frame(gene_id = rownames(res), log2FoldChange = fmt(res$log2FoldChange),
                   pvalue = fmt(res$pvalue), padj = fmt(res$padj))
  write.table(df, file.path(out, paste0(name, ".tsv")), sep = "\t", quote = FALSE, row.names = FALSE)
}

dds <- fit(~ condition)
save(results(dds, contrast = c("condition", "treated", "untreated")), "one_factor")
save(lfcShrink(dds, contrast = c("condition", "treated", "untreated"),
               res = results(dds, contrast = c("condition", "treated", "untreated")),
               type = "normal", quiet = TRUE), "shrink_normal")

dds2 <- fit(~ type + condition)
save(results(dds2, contrast = c("condition", "treated", "untreated")), "two_factor")

dds3 <- fit(~ group)
save(results(dds3, contrast = c("group", "untreated_paired", "treated")), "group_untreated_paired_vs_treated")
save(results(dds3, contrast = c("group", "untreated_single", "treated")), "group_untreated_single_vs_treated")

dds4 <- fit(~ type + condition, test = "LRT", reduced = ~ type)
save(results(dds4), "lrt")
