#!/usr/bin/env Rscript
# Standard DESeq2 on raw counts with the options of issue 21 set the way DESeq2's own
# arguments set them: the analysis each option of the tool must reproduce.
# Usage: Rscript options_deseq2.R COUNTS SAMPLES DESIGN FACTOR,NUM,DEN OUT [KEY=VALUE ...]
#   numeric=COL[,COL]   sample-sheet columns given to DESeq2 as numbers (others are factors)
#   sf_type=ratio|poscounts|iterate        estimateSizeFactors(type =)
#   beta_prior=TRUE                        DESeq(betaPrior = TRUE)
#   min_replicates_for_replace=Inf         DESeq(minReplicatesForReplace = Inf)
#   transform=vst,rlog                     also write OUT/vst.tsv, OUT/rlog.tsv (blind = FALSE)
# Writes OUT/results.tsv (gene_id, log2FoldChange, pvalue, padj) and OUT/size_factors.tsv.
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
raw <- as.matrix(read.delim(args[[1]], row.names = 1, check.names = FALSE))
samples <- read.delim(args[[2]], check.names = FALSE, stringsAsFactors = FALSE, colClasses = "character")
design <- stats::as.formula(args[[3]])
contrast <- strsplit(args[[4]], ",")[[1]]
out <- args[[5]]
opts <- list(numeric = "", sf_type = "ratio", beta_prior = "FALSE", min_replicates_for_replace = "7",
             transform = "")
for (kv in args[-(1:5)]) {
  parts <- strsplit(kv, "=", fixed = TRUE)[[1]]
  opts[[parts[[1]]]] <- parts[[2]]
}
numeric <- strsplit(opts$numeric, ",")[[1]]
rownames(samples) <- samples[[1]]
coldata <- samples[colnames(raw), -1, drop = FALSE]
for (col in colnames(coldata)) {
  coldata[[col]] <- if (col %in% numeric) as.numeric(coldata[[col]]) else factor(coldata[[col]])
}
coldata[[contrast[[1]]]] <- stats::relevel(coldata[[contrast[[1]]]], ref = contrast[[3]])
dds <- DESeqDataSetFromMatrix(raw, coldata, design)
dds <- estimateSizeFactors(dds, type = opts$sf_type)
dds <- DESeq(dds, betaPrior = as.logical(opts$beta_prior),
             minReplicatesForReplace = as.numeric(opts$min_replicates_for_replace), quiet = TRUE)
res <- results(dds, contrast = contrast)
fmt <- function(x) ifelse(is.na(x), "NA", formatC(x, digits = 17, format = "g"))
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.table(data.frame(gene_id = rownames(res), log2FoldChange = fmt(res$log2FoldChange), pvalue = fmt(res$pvalue),
                       padj = fmt(res$padj)), file.path(out, "results.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
write.table(data.frame(sample = colnames(dds), size_factor = fmt(sizeFactors(dds))),
            file.path(out, "size_factors.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
write_assay <- function(tr, name) {
  m <- SummarizedExperiment::assay(tr)
  write.table(data.frame(gene_id = rownames(m), apply(m, 2, fmt), check.names = FALSE),
              file.path(out, paste0(name, ".tsv")), sep = "\t", quote = FALSE, row.names = FALSE)
}
for (kind in strsplit(opts$transform, ",")[[1]]) {
  if (kind == "rlog") write_assay(rlog(dds, blind = FALSE), "rlog")
  if (kind == "vst") write_assay(vst(dds, blind = FALSE), "vst")
}
