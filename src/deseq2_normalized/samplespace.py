"""Sample-space maths behind the sample plots: PCA, Euclidean distances, average-linkage clustering.

numpy and pandas only (no drawing): :mod:`deseq2_normalized.plots` draws what these compute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: One merge of :func:`average_linkage`: the two cluster ids joined, their distance, the new cluster's size.
Merge = tuple[int, int, float, int]


def pca(values: pd.DataFrame, ntop: int = 500) -> tuple[pd.DataFrame, np.ndarray]:
    """Principal components of the samples as DESeq2's ``plotPCA`` computes them.

    The ``ntop`` genes with the largest row variance are kept, each gene is centred over the
    samples (not scaled) and the samples are projected on the principal axes.

    Parameters
    ----------
    values
        Genes x samples, e.g. vst or rlog values.
    ntop
        Number of most variable genes to use.

    Returns
    -------
    scores : pandas.DataFrame
        Samples x components ``PC1``, ``PC2``, ...
    explained : numpy.ndarray
        Fraction of the variance each component explains.
    """
    x = values.to_numpy(dtype=float)
    variance = x.var(axis=1, ddof=1) if x.shape[1] > 1 else np.zeros(x.shape[0])
    # Stable sort: ties keep their row order, as R's order() does.
    top = np.argsort(-variance, kind="mergesort")[: min(ntop, len(variance))]
    data = x[top].T
    data = data - data.mean(axis=0)
    u, s, _ = np.linalg.svd(data, full_matrices=False)
    total = float((s**2).sum())
    explained = s**2 / total if total > 0 else np.zeros_like(s)
    columns = [f"PC{i + 1}" for i in range(len(s))]
    return pd.DataFrame(u * s, index=values.columns, columns=columns), explained


def sample_distances(values: pd.DataFrame) -> pd.DataFrame:
    """Euclidean distances between the samples (columns) of ``values``.

    Parameters
    ----------
    values
        Genes x samples.

    Returns
    -------
    pandas.DataFrame
        Samples x samples, symmetric, zero on the diagonal.
    """
    x = values.to_numpy(dtype=float).T
    squared = (x**2).sum(axis=1)
    d2 = squared[:, None] + squared[None, :] - 2 * x @ x.T
    d = np.sqrt(np.clip(d2, 0, None))
    np.fill_diagonal(d, 0)
    return pd.DataFrame(d, index=values.columns, columns=values.columns)


def average_linkage(distances: np.ndarray) -> list[Merge]:
    """Agglomerative clustering with average linkage (UPGMA), as R's ``hclust(method="average")``.

    Parameters
    ----------
    distances
        Symmetric n x n distance matrix.

    Returns
    -------
    list of Merge
        One merge per step: the two cluster ids joined, their distance, the new cluster's
        size. Leaves are ``0..n-1``; the cluster made at step ``k`` gets id ``n + k``.
    """
    n = len(distances)
    d = np.array(distances, dtype=float)
    np.fill_diagonal(d, np.inf)
    ids = list(range(n))
    sizes = [1] * n
    merges = []
    active: np.ndarray = np.ones(n, dtype=bool)
    for step in range(n - 1):
        masked = np.where(active[:, None] & active[None, :], d, np.inf)
        i, j = divmod(int(np.argmin(masked)), n)
        i, j = min(i, j), max(i, j)
        size = sizes[i] + sizes[j]
        merges.append((ids[i], ids[j], float(d[i, j]), size))
        # The merged cluster takes slot i; its distance to each other cluster is the size-weighted mean.
        d[i, :] = (sizes[i] * d[i, :] + sizes[j] * d[j, :]) / size
        d[:, i] = d[i, :]
        d[i, i] = np.inf
        active[j] = False
        ids[i], sizes[i] = n + step, size
    return merges


def leaf_order(merges: list[Merge], n: int) -> list[int]:
    """Left-to-right leaf order of the dendrogram of :func:`average_linkage` merges.

    Parameters
    ----------
    merges
        The merges, in order.
    n
        Number of leaves.

    Returns
    -------
    list of int
        The leaves ``0..n-1``; each merge's first cluster comes before its second.
    """
    if n == 0:
        return []
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for k, (a, b, _, _) in enumerate(merges):
        members[n + k] = members.pop(a) + members.pop(b)
    return members[n + len(merges) - 1]
