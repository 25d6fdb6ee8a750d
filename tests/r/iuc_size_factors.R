#!/usr/bin/env Rscript
# Reads a size-factor file as the IUC DESeq2 Galaxy tool's deseq2.R reads its user-provided size
# factors (tools-iuc tools/deseq2/deseq2.R, --esf FILE): read.table, first column matched to the
# sample table's row names with merge(by.x = 0, by.y = 1). Writes the values in the sample order.
# Usage: Rscript iuc_size_factors.R SIZE_FACTOR_FILE SAMPLES OUT
args <- commandArgs(trailingOnly = TRUE)
samples <- read.delim(args[[2]], check.names = FALSE, stringsAsFactors = FALSE)
sample_table <- data.frame(row.names = samples$sample, condition = samples$condition)
sf_table <- read.table(args[[1]])
merged_table <- merge(sample_table, sf_table, by.x = 0, by.y = 1, sort = FALSE)
stopifnot(nrow(merged_table) == nrow(sample_table), ncol(sf_table) == 2)
values <- as.numeric(merged_table[[ncol(merged_table)]])
write.table(data.frame(sample = merged_table$Row.names, size_factor = formatC(values, digits = 17, format = "g")),
            args[[3]], sep = "\t", quote = FALSE, row.names = FALSE)
