"""The planted partition: every customer in exactly one community, sizes heavy-tailed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank.people import CITY_WEIGHTS
from synthbank.util import I64, as_i64, group_starts, weighted_index

MIN_COMMUNITY: Final = 20
MAX_COMMUNITY: Final = 2_000
# p(size) ~ size^-1.6 on [20, 2000]. Modularity cannot resolve communities much smaller than
# sqrt(2 x edges) in a big graph (Louvain merges them into a neighbour), so the exponent keeps
# most customers in communities of 100+: measured Louvain NMI 0.98 at 5k customers, 0.95 at 300k.
COMMUNITY_EXPONENT: Final = 1.6


@dataclass(frozen=True)
class Communities:
    """The planted partition: customers grouped into communities."""

    sizes: I64
    starts: I64
    members: I64  # customers ordered by community; community c is members[starts[c]:+sizes[c]]
    of: I64  # customer -> community
    city: I64  # community -> city


def plan_communities(rng: np.random.Generator, n: int) -> Communities:
    """Community sizes from a truncated power law, members assigned at random, a city each."""
    if n <= 2 * MIN_COMMUNITY:
        sizes = np.array([n], dtype=np.int64)
    else:
        # In a small bank no community may dominate: Louvain would split a community holding
        # most of the edges (modularity's null model), so sizes are capped at a sixth of n.
        low, high = float(MIN_COMMUNITY), float(min(MAX_COMMUNITY, max(3 * MIN_COMMUNITY, n // 6)))
        one_minus = 1.0 - COMMUNITY_EXPONENT
        a, b = low**one_minus, high**one_minus
        batches: list[I64] = []
        total = 0
        while total < n:
            batch = (a - rng.random(max(16, n // 50)) * (a - b)) ** (1.0 / one_minus)
            batches.append(as_i64(np.floor(batch)))
            total += int(batches[-1].sum())
        drawn = np.concatenate(batches)
        cumulative = np.cumsum(drawn)
        whole = int(np.searchsorted(cumulative, n, side="left"))  # communities that fit fully
        sizes = drawn[:whole].copy()
        remainder = n - int(sizes.sum())
        if remainder < MIN_COMMUNITY and len(sizes):
            sizes[-1] += remainder  # too small to stand alone: joins the last community
        elif remainder > 0:
            sizes = np.append(sizes, remainder)
    members = as_i64(rng.permutation(n))
    of = np.empty(n, dtype=np.int64)
    of[members] = np.repeat(np.arange(len(sizes)), sizes)
    city = weighted_index(rng, np.cumsum(CITY_WEIGHTS), len(sizes))
    return Communities(
        sizes=as_i64(sizes), starts=group_starts(as_i64(sizes)), members=members, of=of, city=city
    )
