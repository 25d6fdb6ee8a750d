# The "bare R script" baseline of the benchmark: what an R user would write to apply the
# rounding recipe to a DESeq2-normalized table by hand, doing the same work as
#   deseq2-normalized run --counts C --samples S --reference A --transform T --out-dir O
# read the table, round, size factors 1, DESeq(), results(), sort by padj then pvalue,
# write the results table and counts(dds, normalized = TRUE) (and the vst/rlog assay when
# T is not "none"), all tab-separated with NA for missing values.
#
# Usage: Rscript bare_deseq2.R COUNTS SAMPLES OUT_DIR [none|vst|rlog] [parametric|glmGamPoi] [THREADS]
#
# Tables are read and written with data.table (fread/fwrite) when it is installed, as a
# performance-minded R user would; base R's read.delim/write.table otherwise.

args <- commandArgs(trailingOnly = TRUE)
counts_file <- args[[1]]
samples_file <- args[[2]]
out_dir <- args[[3]]
transform <- if (length(args) >= 4) args[[4]] else "none"
fit_type <- if (length(args) >= 5) args[[5]] else "parametric"
threads <- if (length(args) >= 6) as.integer(args[[6]]) else 1L

suppressPackageStartupMessages(library(DESeq2))
fast_io <- requireNamespace("data.table", quietly = TRUE)
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

if (fast_io) {
  tab <- data.table::fread(counts_file, sep = "\t", header = TRUE, data.table = FALSE)
  counts <- as.matrix(tab[, -1, drop = FALSE])
  rownames(counts) <- tab[[1]]
  rm(tab)
} else {
  counts <- as.matrix(read.delim(counts_file, row.names = 1, check.names = FALSE))
}
counts <- round(counts)
storage.mode(counts) <- "integer"

samples <- read.delim(samples_file, row.names = 1, colClasses = "character")
samples <- samples[colnames(counts), , drop = FALSE]
samples$condition <- factor(samples$condition)
samples$condition <- relevel(samples$condition, ref = "A")

# The same span as the tool's "fitting" stage: the DESeqDataSet from the count matrix, the size
# factors, DESeq(). Printed like the tool's progress line, so that the benchmark compares the two.
bp <- if (threads > 1) BiocParallel::MulticoreParam(workers = threads) else BiocParallel::SerialParam()
fit_start <- proc.time()[["elapsed"]]
dds <- DESeqDataSetFromMatrix(countData = counts, colData = samples, design = ~ condition)
sizeFactors(dds) <- rep(1, ncol(dds))
dds <- DESeq(dds, fitType = fit_type, parallel = threads > 1, BPPARAM = bp)
message(sprintf("bare_deseq2.R: fitting: done in %.2f s", proc.time()[["elapsed"]] - fit_start))
rm(counts)
res <- results(dds, contrast = c("condition", "B", "A"), alpha = 0.1,
               parallel = threads > 1, BPPARAM = bp)
res <- res[order(res$padj, res$pvalue, na.last = TRUE), ]

write_tsv <- function(x, path) {
  x <- data.frame(gene_id = rownames(x), as.data.frame(x), check.names = FALSE)
  if (fast_io) {
    data.table::fwrite(x, path, sep = "\t", na = "NA", quote = FALSE)
  } else {
    utils::write.table(x, path, sep = "\t", na = "NA", quote = FALSE, row.names = FALSE)
  }
}

write_tsv(res[, c("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj")],
          file.path(out_dir, "results_condition_B_vs_A.tsv"))
write_tsv(counts(dds, normalized = TRUE), file.path(out_dir, "normalized_counts.tsv"))
if (transform == "vst") {
  write_tsv(assay(vst(dds, blind = FALSE)), file.path(out_dir, "transformed_counts.tsv"))
} else if (transform == "rlog") {
  write_tsv(assay(rlog(dds, blind = FALSE)), file.path(out_dir, "transformed_counts.tsv"))
}
