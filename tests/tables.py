"""The count tables the tests build: simulated counts, and tables derived from known raw counts.

One function per kind of table. Each is deterministic (its seed is an argument with the value
the tests rely on): several tests assert exact values, so a change of seed, of the order of
the random draws or of a formula here changes what they see.

The other sources of test tables (CONTRIBUTING.md, *Where the test tables come from*):

- ``test-data/``: the bundled pasilla files (``scripts/make_test_data.R``; ``test-data/SOURCE.md``)
  and the Galaxy tool's files (``galaxy/make_test_data.py``; ``test-data/galaxy_SOURCE.md``);
- ``tests/built_result.py``: a run's result built without R;
- ``tests/r/``: the references R writes on the spot;
- ``benchmarks/simulate.py``: the benchmarks' matrices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from deseq2_normalized.reader import read_counts

#: Two samples per condition: a1 and a2 are condition A, b1 and b2 condition B.
SAMPLES = ["a1", "a2", "b1", "b2"]

#: Names that carry markup, for the report's escaping (a gene, a sample, a level of ``type``).
HOSTILE_GENE = "<script>alert(1)</script>"
HOSTILE_SAMPLE = '<img src=x onerror="alert(2)">'
HOSTILE_LEVEL = "single&read<b>"


# --- simulated counts ---------------------------------------------------------------------------


def nb_counts(
    genes: int, samples: int, seed: int, *, log_mean: tuple[float, float] = (1.0, 7.0), plus_one: bool = True
) -> np.ndarray:
    """Negative-binomial counts (size 5) with gene means log-uniform over ``exp(log_mean)``.

    The small tables of the command-line, fault and input tests: quick to fit, no gene all zero.

    Parameters
    ----------
    genes, samples
        Rows and columns.
    seed
        The seed of ``numpy.random.default_rng``.
    log_mean
        The range of the natural log of the gene means.
    plus_one
        Add 1 to every count (then no count is zero).

    Returns
    -------
    numpy.ndarray
        int64 counts, genes x samples.
    """
    rng = np.random.default_rng(seed)
    mean = np.exp(rng.uniform(*log_mean, genes))
    values = rng.negative_binomial(5, 5 / (5 + mean[:, None]), size=(genes, samples))
    return values + 1 if plus_one else values


def two_condition_counts(
    rng: np.random.Generator, genes: int, per_group: int, typical: float, folds: Sequence[float], dispersion: float
) -> np.ndarray:
    """Negative-binomial counts of ``per_group`` untreated then ``per_group`` treated samples.

    Gene means log-normal around ``typical`` (sd 1 on the log scale); 20% of the genes change by
    one of ``folds`` in the treated samples; one ``dispersion`` for all genes. ``rng`` is drawn
    from and may be drawn from further (outliers added afterwards, for example).

    Returns
    -------
    numpy.ndarray
        int64 counts, genes x (2 * per_group), in the sample order of :func:`untreated_treated`.
    """
    mu = rng.lognormal(np.log(typical), 1.0, size=genes)
    fold = np.where(rng.random(genes) < 0.2, rng.choice(folds, size=genes), 1.0)
    means = np.column_stack(
        [np.repeat(mu[:, None], per_group, axis=1), np.repeat((mu * fold)[:, None], per_group, axis=1)]
    )
    size = 1 / dispersion
    return rng.negative_binomial(size, size / (size + means))


def untreated_treated(per_group: int) -> pd.DataFrame:
    """The sample sheet of :func:`two_condition_counts`: u1, u2, ... untreated, t1, t2, ... treated."""
    names = [f"u{i}" for i in range(1, per_group + 1)] + [f"t{i}" for i in range(1, per_group + 1)]
    condition = ["untreated"] * per_group + ["treated"] * per_group
    return pd.DataFrame({"condition": condition}, index=pd.Index(names, name="sample"))


def _alternating_conditions(
    rng: np.random.Generator, mu: np.ndarray, sf: np.ndarray, genes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts with means ``mu`` x ``sf``, samples s1, s2, ... alternately untreated and treated.

    10% of the genes change (log2 fold change normal, sd 1.5); dispersion 0.05. The sheet has
    ``sample``, ``type`` (a a b b ...) and ``condition``; genes with no count are left out.
    """
    samples = len(sf)
    lfc = np.where(rng.random(len(mu)) < 0.1, rng.normal(0, 1.5, len(mu)), 0.0)
    condition = np.array(["untreated", "treated"] * (samples // 2))
    means = mu[:, None] * sf[None, :] * np.where(condition == "treated", 2.0 ** lfc[:, None], 1.0)
    dispersion = 0.05
    counts = rng.negative_binomial(1 / dispersion, 1 / (1 + means * dispersion))
    names = [f"s{j + 1}" for j in range(samples)]
    raw = pd.DataFrame(counts, index=genes, columns=names)
    sheet = pd.DataFrame({"sample": names, "type": ["a", "a", "b", "b"] * (samples // 4), "condition": condition})
    return raw[(raw > 0).any(axis=1)], sheet


def large_counts(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """8 samples, 6,000 genes, library sizes like a deep human data set (counts up to tens of millions).

    Size factors 0.6 to 1.8 in sample order; 12 genes with means of 2 to 20 million, whose
    counts need more than six significant digits.

    Returns
    -------
    raw : pandas.DataFrame
        The raw counts (genes ``ENSG...`` x samples s1 to s8).
    sheet : pandas.DataFrame
        ``sample``, ``type``, ``condition`` (untreated and treated alternately).
    """
    rng = np.random.default_rng(seed)
    genes, samples = 6000, 8
    sf = np.exp(np.linspace(np.log(0.6), np.log(1.8), samples))
    mu = np.exp(rng.normal(5.5, 2.6, genes))
    mu[:12] = rng.uniform(2e6, 2e7, 12)
    return _alternating_conditions(rng, mu, sf, [f"ENSG{i:011d}" for i in range(genes)])


def spread_counts(seed: int, low: float, high: float, genes: int = 3000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """8 samples with size factors from ``low`` to ``high`` in shuffled order, genes ``g00000``, ...

    Returns the raw counts and the sheet, as :func:`large_counts`.
    """
    rng = np.random.default_rng(seed)
    samples = 8
    sf = np.exp(np.linspace(np.log(low), np.log(high), samples))[rng.permutation(samples)]
    mu = np.exp(rng.normal(4.5, 2.2, genes))
    return _alternating_conditions(rng, mu, sf, [f"g{i:05d}" for i in range(genes)])


# --- tables derived from raw counts ---------------------------------------------------------------


def estimated_counts(raw: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """Raw counts with a random fractional part on every non-zero count, as an EM quantifier writes them."""
    rng = np.random.default_rng(seed)
    fraction = rng.uniform(-0.5, 0.5, raw.shape)
    return raw + np.where(raw.to_numpy() > 0, np.maximum(fraction, 0.001 - raw.to_numpy()), 0.0)


def tpm(raw: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """TPM of the counts with simulated gene lengths (500 to 8,000 bases)."""
    length = np.random.default_rng(seed).integers(500, 8000, len(raw))
    rpk = raw.div(length / 1000, axis=0)
    return rpk / rpk.sum() * 1e6


def significant(values: pd.DataFrame, digits: int) -> pd.DataFrame:
    """Every value rounded to ``digits`` significant digits, as a table written at that precision reads back."""
    return values.map(lambda x: float(f"{x:.{digits}g}"))


def normalized_per_batch(raw: pd.DataFrame, batches: Sequence[Sequence[str]]) -> pd.DataFrame:
    """DESeq2-normalized batch by batch (each batch's own median-of-ratios), the batches side by side.

    A table assembled from separately normalized parts: every sample has a unit, but the
    samples of different batches are not on one scale.
    """
    from deseq2_normalized.sizefactors import median_of_ratios

    parts = [raw[list(b)] / median_of_ratios(raw[list(b)].to_numpy()) for b in batches]
    return pd.concat(parts, axis=1)[raw.columns]


def log_table(normalized_path: Path, path: Path) -> Path:
    """log2(x + 1) of the normalized table at ``normalized_path``, written to ``path``: a log-scale table."""
    np.log2(read_counts(normalized_path) + 1).to_csv(path, sep="\t")
    return path


def with_a_zero_per_gene(values: np.ndarray) -> np.ndarray:
    """A copy of the counts with one zero in every gene (sample ``i % samples`` of gene ``i``): poscounts' case."""
    values = values.copy()
    values[np.arange(len(values)), np.arange(len(values)) % values.shape[1]] = 0
    return values


def tmm_like_factors(raw: pd.DataFrame) -> np.ndarray:
    """edgeR-style TMM factors (trimmed mean of log ratios against the first sample), geometric mean 1."""
    x = raw.to_numpy(dtype=float)
    keep = (x > 0).all(axis=1)
    props = x[keep] / x.sum(axis=0)
    factors = []
    for j in range(x.shape[1]):
        m = np.log2(props[:, j] / props[:, 0])
        lo, hi = map(float, np.quantile(m, [0.3, 0.7]))
        factors.append(2 ** m[(m >= lo) & (m <= hi)].mean())
    f = np.array(factors)
    return f / np.exp(np.log(f).mean())


def cpm(raw: pd.DataFrame, *, tmm: bool = False) -> pd.DataFrame:
    """Counts per million of the library sizes, scaled by :func:`tmm_like_factors` when ``tmm``."""
    library = raw.sum() * (tmm_like_factors(raw) if tmm else 1.0)
    return raw / library * 1e6


def unexplained_table(normalized_path: Path, path: Path) -> Path:
    """The normalized table with sample treated1's lower 90% of values tripled, with noise; written to ``path``.

    Not recoverable, not raw counts; its size factor moves (the median) while its column sum
    hardly does, so it is not estimated counts either: nothing explains it.
    """
    values = read_counts(normalized_path)
    column = values["treated1"]
    noise = np.exp(np.random.default_rng(1).normal(0, 0.05, len(values)))
    values["treated1"] = column * np.where(column < column.quantile(0.9), 3.0, 1.0) * noise
    values.to_csv(path, sep="\t")
    return path


def hostile_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """1,501 pasilla genes, the strongest renamed to :data:`HOSTILE_GENE`, treated1 to :data:`HOSTILE_SAMPLE`."""
    frame = frame.loc[[*frame.index[:1500], "FBgn0039155"]]
    return frame.rename(index={"FBgn0039155": HOSTILE_GENE}, columns={"treated1": HOSTILE_SAMPLE})


def hostile_sheet(sheet: pd.DataFrame) -> pd.DataFrame:
    """The pasilla sample sheet of :func:`hostile_counts`: its level single_read is :data:`HOSTILE_LEVEL`."""
    sheet = sheet.rename(index={"treated1": HOSTILE_SAMPLE})
    sheet["type"] = sheet["type"].replace("single_read", HOSTILE_LEVEL)
    return sheet


def annotation_of(genes: pd.Index) -> pd.DataFrame:
    """Made-up GEO-style annotation: symbols, descriptions with commas, dots and quotes, biotypes."""
    n = len(genes)
    return pd.DataFrame(
        {
            "symbol": [f"sym{i}" for i in range(n)],
            "description": [f'kinase, putative "{i}" (v1.{i % 7})' for i in range(n)],
            "biotype": ["protein_coding" if i % 5 else "lncRNA" for i in range(n)],
        },
        index=pd.Index(genes, name="gene_id"),
    )


def annotated(counts: pd.DataFrame) -> pd.DataFrame:
    """The counts after their :func:`annotation_of` columns, as GEO tables have them."""
    return pd.concat([annotation_of(counts.index), counts], axis=1)


def supplementary(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts beside DESeq2-like statistics and annotation, as supplementary tables have them."""
    table = counts.copy()
    mean = counts.mean(axis=1)
    table["baseMean"] = mean
    table["log2FoldChange"] = np.log2((counts.iloc[:, 4:].mean(axis=1) + 1) / (counts.iloc[:, :4].mean(axis=1) + 1))
    table["padj"] = np.where(mean > 10, np.minimum(1.0, 1 / (mean + 1)), np.nan)
    return annotated(table)


# --- writing -------------------------------------------------------------------------------------


def write_formatted(values: pd.DataFrame, path: Path, fmt: str) -> pd.DataFrame:
    """Write a table as text in ``fmt`` (e.g. ``.2f``) and read it back as a user's file would be."""
    text = values.map(lambda x: format(x, fmt))
    text.to_csv(path, sep="\t", index_label="gene_id")
    return read_counts(path)


def counts_rows(
    values: np.ndarray, samples: Sequence[str] = SAMPLES, genes: Sequence[str] | None = None
) -> list[list[str]]:
    """A counts table as rows of text: the header (``gene`` and the samples), then one row per gene.

    Genes are ``g0``, ``g1``, ... unless named.
    """
    genes = genes or [f"g{i}" for i in range(len(values))]
    return [["gene", *samples]] + [[g, *map(str, row)] for g, row in zip(genes, values.tolist(), strict=True)]


def counts_text(values: np.ndarray, samples: Sequence[str] = SAMPLES, genes: Sequence[str] | None = None) -> str:
    """:func:`counts_rows` tab-separated, one line each."""
    return "".join("\t".join(row) + "\n" for row in counts_rows(values, samples, genes))


def write_counts(
    path: Path, values: np.ndarray, samples: Sequence[str] = SAMPLES, genes: Sequence[str] | None = None
) -> Path:
    """Write :func:`counts_text` to ``path`` (UTF-8) and return ``path``."""
    path.write_text(counts_text(values, samples, genes), encoding="utf-8")
    return path


def sheet_text(levels: Mapping[str, str] | None = None, samples: Sequence[str] = SAMPLES) -> str:
    """A sample sheet (``sample``, ``condition``) as text.

    ``levels`` maps each sample to its condition; by default each of ``samples`` has its name's
    first letter in upper case (a1, a2: A; b1, b2: B).
    """
    levels = levels or {s: s[0].upper() for s in samples}
    return "sample\tcondition\n" + "".join(f"{s}\t{c}\n" for s, c in levels.items())
