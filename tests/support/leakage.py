"""Does what a role sees predict what is masked for it? A test helper, no database.

A masked figure (an AUM shown only as its band) leaks when some visible value, alone or
with one other visible value, is a function of it: ``networkValue = ½·rank(AUM) + ½·rank(
PageRank)`` with PageRank public gave every customer's exact AUM rank back. The check asks
the question generically, for any visible values: within each band, how well do the nearest
neighbours in (percentile-ranked) visible values predict a customer's position inside the
band? A value unrelated to the hidden figure predicts nothing (R² near or below 0); a
function of it (with public values) predicts it almost exactly (R² near 1).

The neighbours come from scipy's k-d tree; R² is leave-one-out (a customer never predicts
itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import rankdata

MIN_BAND = 200  # bands with fewer customers say too little to judge (noise alone gives R² ~0.2)


@dataclass(frozen=True)
class Leak:
    features: tuple[str, ...]
    band: object
    r2: float
    customers: int


def _percentile(values: np.ndarray) -> np.ndarray:
    return rankdata(values) / len(values)


def _loo_knn_r2(features: np.ndarray, target: np.ndarray, k: int) -> float:
    """Leave-one-out R² of predicting ``target`` as the mean of the k nearest others."""
    tree = cKDTree(features)
    _, neighbours = tree.query(features, k=k + 1)
    others = neighbours[:, 1:]  # the first is the point itself (distance 0)
    predicted = target[others].mean(axis=1)
    total = float(((target - target.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    return 1.0 - float(((target - predicted) ** 2).sum()) / total


def worst_leak(
    hidden: Sequence[float],
    bands: Sequence[object],
    visible: Mapping[str, Sequence[float]],
    *,
    k: int = 20,
) -> Leak:
    """The visible value (or pair of values) that best predicts ``hidden`` within its band.

    Parameters
    ----------
    hidden : the masked figure of each customer (e.g. exact AUM)
    bands : what the role sees of it (e.g. the band's lower bound); customers are compared
        only with others of their band, so the band itself explains nothing
    visible : name → one value per customer, each a number the role sees
    k : neighbours averaged

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> aum = rng.lognormal(10, 2, 3000); pagerank = rng.random(3000)
    >>> nv = 0.5 * rankdata(aum) / 3000 + 0.5 * rankdata(pagerank) / 3000
    >>> bands = np.floor(np.log10(aum))
    >>> worst_leak(aum, bands, {"pagerank": pagerank, "networkValue": nv}).r2 > 0.9
    True
    >>> worst_leak(aum, bands, {"pagerank": pagerank}).r2 < 0.2
    True
    """
    hidden_values = np.asarray(hidden, dtype=float)
    band_of = np.asarray([str(b) for b in bands])
    names = sorted(visible)
    columns = {name: np.asarray(visible[name], dtype=float) for name in names}
    subsets = [(n,) for n in names] + list(itertools.combinations(names, 2))
    worst = Leak((), None, float("-inf"), 0)
    for band in sorted(set(band_of)):
        members = np.flatnonzero(band_of == band)
        if len(members) < MIN_BAND:
            continue
        position = _percentile(hidden_values[members])  # where inside the band
        for subset in subsets:
            features = np.column_stack([_percentile(columns[n][members]) for n in subset])
            r2 = _loo_knn_r2(features, position, min(k, len(members) // 5))
            if r2 > worst.r2:
                worst = Leak(subset, band, r2, len(members))
    return worst
