#!/usr/bin/env Rscript
# Derive the test-data files from the pasilla raw counts with R's DESeq2.
# Usage: Rscript scripts/make_test_data.R [test-data-dir]
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[[1]] else "test-data"

raw <- as.matrix(read.delim(file.path(dir, "pasilla_counts.tsv"), row.names = 1, check.names = FALSE))
ann <- read.csv(file.path(dir, "pasilla_sample_annotation.csv"), check.names = FALSE)
samples <- data.frame(
  sample = sub("fb$", "", ann$file),
  condition = ann$condition,
  type = gsub("-", "_", ann$type)
)
samples <- samples[match(colnames(raw), samples$sample), ]
stopifnot(identical(samples$sample, colnames(raw)))
write.table(samples, file.path(dir, "pasilla_samples.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

dds <- DESeqDataSetFromMatrix(raw, samples, ~ condition)
dds <- estimateSizeFactors(dds)
norm <- counts(dds, normalized = TRUE)
# write.table writes doubles at 15 significant digits, as collaborators' tables usually are.
out <- data.frame(gene_id = rownames(norm), norm, check.names = FALSE)
write.table(out, file.path(dir, "pasilla_normalized.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
sf <- data.frame(sample = colnames(dds), size_factor = sizeFactors(dds))
write.table(sf, file.path(dir, "pasilla_size_factors.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
