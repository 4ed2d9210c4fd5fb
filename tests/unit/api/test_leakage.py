"""The leak check of ``tests/support/leakage.py`` finds what it must and only that (no database)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from scipy.stats import rankdata

from api.security.masking import AMOUNT_BAND_EDGES, amount_band
from tests.support.leakage import worst_leak

N = 10_000


def _bank(seed: int) -> tuple[np.ndarray, np.ndarray, list[object]]:
    rng = np.random.default_rng(seed)
    aum = rng.lognormal(13, 2.5, N)  # a few dozen yuan to hundreds of millions
    pagerank = rng.gamma(1.0, 1e-4, N)
    bands: list[object] = [amount_band(Decimal(f"{a:.2f}"))[0] for a in aum]
    return aum, pagerank, bands


def test_a_blend_of_the_hidden_rank_and_a_public_score_is_a_leak() -> None:
    aum, pagerank, bands = _bank(3)
    network_value = 0.5 * rankdata(aum) / N + 0.5 * rankdata(pagerank) / N
    leak = worst_leak(aum, bands, {"pagerank": pagerank, "networkValue": network_value})
    assert leak.r2 > 0.9
    assert "networkValue" in leak.features


def test_scores_unrelated_to_the_hidden_figure_are_not() -> None:
    aum, pagerank, bands = _bank(4)
    rng = np.random.default_rng(5)
    leak = worst_leak(aum, bands, {"pagerank": pagerank, "degree": rng.poisson(8, N)})
    assert leak.r2 < 0.2, leak


def test_a_threshold_inside_a_band_is_a_leak_and_one_on_an_edge_is_not() -> None:
    aum, pagerank, bands = _bank(6)
    inside = (aum >= 7_000_000).astype(float)  # a tier boundary inside the 6M-10M band
    assert worst_leak(aum, bands, {"pagerank": pagerank, "tier": inside}).r2 > 0.3
    on_edge = (aum >= 6_000_000).astype(float)  # the default PRIVATE threshold: a band edge
    assert 6_000_000 in AMOUNT_BAND_EDGES
    assert worst_leak(aum, bands, {"pagerank": pagerank, "tier": on_edge}).r2 < 0.2
