"""The maths behind the sample plots: PCA, sample distances, average-linkage clustering.

Each is checked against an independent reference: R's ``prcomp`` (as DESeq2's ``plotPCA``
uses it), numpy's eigendecomposition, pairwise norms and a brute-force UPGMA.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.samplespace import Merge, average_linkage, leaf_order, pca, sample_distances


def random_values(genes: int, samples: int, seed: int) -> pd.DataFrame:
    """Genes x samples with gene-specific spread: distinct variances, no ties at the top-n cut."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(genes, samples)) * rng.uniform(0.1, 3.0, size=(genes, 1))
    return pd.DataFrame(x, index=[f"g{i}" for i in range(genes)], columns=[f"s{j}" for j in range(samples)])


# --- PCA ------------------------------------------------------------------------------------


@pytest.mark.r
def test_pca_matches_r_prcomp(normalized_path, tmp_path):
    """Top 500 genes by variance, centred prcomp, % variance: as DESeq2's plotPCA.

    On log2(normalized counts + 1) of the example, the values a run with ``--transform none``
    draws.
    """
    counts = pd.read_csv(normalized_path, sep="\t", index_col=0)
    np.log2(counts + 1).to_csv(tmp_path / "values.tsv", sep="\t")
    values = pd.read_csv(tmp_path / "values.tsv", sep="\t", index_col=0)
    scores, explained = pca(values)
    script = tmp_path / "pca.R"
    script.write_text(
        "x <- as.matrix(read.delim(commandArgs(TRUE)[1], row.names = 1, check.names = FALSE))\n"
        "rv <- apply(x, 1, var)\n"
        "p <- prcomp(t(x[order(rv, decreasing = TRUE)[1:500], ]))\n"
        "v <- p$sdev^2 / sum(p$sdev^2)\n"
        "write.table(cbind(p$x[, 1:2], var1 = v[1], var2 = v[2]), commandArgs(TRUE)[2], sep = '\\t')\n"
    )
    subprocess.run(
        ["Rscript", str(script), str(tmp_path / "values.tsv"), str(tmp_path / "pca.tsv")],
        check=True,
        capture_output=True,
    )
    r = pd.read_csv(tmp_path / "pca.tsv", sep="\t")
    np.testing.assert_allclose(explained[:2], r[["var1", "var2"]].iloc[0].to_numpy(), rtol=1e-8)
    for pc in ("PC1", "PC2"):  # the sign of a component is arbitrary
        np.testing.assert_allclose(np.abs(scores[pc].to_numpy()), np.abs(r[pc].to_numpy()), rtol=1e-6)


@pytest.mark.parametrize(("genes", "samples", "ntop", "seed"), [(300, 7, 100, 1), (50, 12, 500, 2), (40, 3, 5, 3)])
def test_pca_matches_the_eigendecomposition_of_the_top_genes(genes, samples, ntop, seed):
    """Scores and explained variance from the covariance matrix of the ``ntop`` most variable genes."""
    values = random_values(genes, samples, seed)
    scores, explained = pca(values, ntop=ntop)

    top = values.var(axis=1).nlargest(ntop).index
    centred = (values.loc[top].T - values.loc[top].T.mean()).to_numpy()
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(eigenvalues)[::-1]
    reference = centred @ eigenvectors[:, order]
    # After centring, n samples span n - 1 dimensions: the components beyond are noise.
    k = min(samples - 1, len(top))
    assert list(scores.index) == list(values.columns)
    assert list(scores.columns[:k]) == [f"PC{i + 1}" for i in range(k)]
    np.testing.assert_allclose(explained[:k], eigenvalues[order][:k] / eigenvalues.sum(), rtol=1e-8)
    assert explained.sum() == pytest.approx(1.0)
    for i in range(k):  # the sign of a component is arbitrary
        np.testing.assert_allclose(np.abs(scores.iloc[:, i]), np.abs(reference[:, i]), rtol=1e-6, atol=1e-9)


def test_pca_of_values_without_variance_explains_nothing():
    values = pd.DataFrame(np.ones((20, 4)), columns=list("abcd"))
    scores, explained = pca(values)
    assert np.all(explained == 0)
    np.testing.assert_allclose(scores.to_numpy(), 0, atol=1e-12)


# --- distances ------------------------------------------------------------------------------


def test_sample_distances_are_pairwise_euclidean_norms():
    values = random_values(200, 6, 4)
    dist = sample_distances(values)
    x = values.to_numpy()
    expected = [[np.linalg.norm(x[:, i] - x[:, j]) for j in range(6)] for i in range(6)]
    np.testing.assert_allclose(dist.to_numpy(), expected, rtol=1e-10, atol=1e-10)
    assert list(dist.index) == list(dist.columns) == list(values.columns)
    assert np.all(np.diag(dist.to_numpy()) == 0)


# --- average linkage ------------------------------------------------------------------------


def upgma_by_brute_force(distances: np.ndarray) -> list[Merge]:
    """UPGMA from its definition: merge the two clusters with the smallest mean leaf-to-leaf distance."""
    n = len(distances)
    clusters = {i: [i] for i in range(n)}
    merges: list[Merge] = []
    for step in range(n - 1):
        a, b = min(
            itertools.combinations(sorted(clusters), 2),
            key=lambda ab: np.mean([distances[p, q] for p in clusters[ab[0]] for q in clusters[ab[1]]]),
        )
        height = float(np.mean([distances[p, q] for p in clusters[a] for q in clusters[b]]))
        clusters[n + step] = clusters.pop(a) + clusters.pop(b)
        merges.append((a, b, height, len(clusters[n + step])))
    return merges


@pytest.mark.parametrize("seed", range(5))
def test_average_linkage_matches_brute_force_upgma(seed):
    points = np.random.default_rng(seed).normal(size=(11, 3))
    dist = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    merges = average_linkage(dist)
    expected = upgma_by_brute_force(dist)
    assert [(frozenset((a, b)), size) for a, b, _, size in merges] == [
        (frozenset((a, b)), size) for a, b, _, size in expected
    ]
    np.testing.assert_allclose([m[2] for m in merges], [m[2] for m in expected], rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_leaf_order_keeps_every_cluster_together(seed):
    """Each merge's leaves are adjacent in the order, the first cluster's before the second's."""
    n = 11
    points = np.random.default_rng(seed).normal(size=(n, 2))
    merges = average_linkage(np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2))
    order = leaf_order(merges, n)
    assert sorted(order) == list(range(n))
    position = {leaf: i for i, leaf in enumerate(order)}
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for k, (a, b, _, _) in enumerate(merges):
        first, second = sorted(position[x] for x in members[a]), sorted(position[x] for x in members[b])
        assert first == list(range(first[0], first[0] + len(first)))
        assert second == list(range(first[-1] + 1, first[-1] + 1 + len(second)))
        members[n + k] = members.pop(a) + members.pop(b)


def test_average_linkage_order():
    points = np.array([0.0, 10.0, 1.0, 30.0, 11.0])
    dist = np.abs(points[:, None] - points[None, :])
    merges = average_linkage(dist)
    assert [(a, b) for a, b, _, _ in merges[:2]] == [(0, 2), (1, 4)]
    assert merges[2][2] == pytest.approx(10.0)  # mean of |{0,1} - {10,11}|
    assert merges[-1][3] == 5
    order = leaf_order(merges, 5)
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert {frozenset(order[:2]), frozenset(order[2:4])} == {frozenset({0, 2}), frozenset({1, 4})}


def test_no_leaves_no_order():
    assert average_linkage(np.zeros((0, 0))) == []
    assert leaf_order([], 0) == []


def test_the_maths_needs_no_matplotlib():
    """Samplespace computes; drawing (and matplotlib) stays in plots."""
    code = "import sys, deseq2_normalized.samplespace; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
