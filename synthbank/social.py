"""Planted communities and the social graph (FAMILY, SPOUSE, FRIEND, COLLEAGUE, ...).

Model: every customer belongs to exactly one community (sizes heavy-tailed, 20..2000). Ties
are (a) a random recursive tree inside each community, so nobody is isolated and every
community is connected, (b) spouse pairs, (c) Chung–Lu edges inside the community with
Pareto weights (heavy-tailed degrees) and (d) Chung–Lu edges across communities; (a)–(c) make
up ~88% of the ties, which is what lets Louvain recover the communities. A few influencers get
weights far above everyone else's, so they are the hubs. Tie kinds follow context: colleagues
at the same employer, classmates at the same school, BUSINESS when a company is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank.communities import Communities
from synthbank.emitted import TIE_KINDS
from synthbank.people import People
from synthbank.scenarios import Ecosystem
from synthbank.util import (
    I64,
    REF_DAY,
    YEAR_DAYS,
    Bool,
    as_i64,
    days_between,
    first_occurrence,
    new_pairs,
    pick_in_groups,
    rank_in_group,
    weighted_index,
)

INSIDE_SHARE: Final = 0.88  # share of ties inside the community
DEGREE_EXPONENT: Final = 2.5  # Pareto exponent of the Chung–Lu weights
WEIGHT_CAP: Final = 15.0  # caps ordinary hubs well below the planted influencers
CUSTOMERS_PER_INFLUENCER: Final = 2_500

KIND: Final = {name: code for code, name in enumerate(TIE_KINDS)}


@dataclass(frozen=True)
class Social:
    """Social ties (one row per unordered pair) and the planted influencers."""

    src: I64
    dst: I64
    kind: I64  # index into TIE_KINDS
    strength: I64  # thousandths, 1..1000
    since: I64
    degree: I64  # per customer
    influencers: I64  # customers, highest degree first


def _tree_edges(rng: np.random.Generator, comm: Communities) -> tuple[I64, I64]:
    """A random recursive tree per community: each member links to an earlier member."""
    n = len(comm.members)
    slot = np.arange(n, dtype=np.int64)
    slot_comm = np.repeat(np.arange(len(comm.sizes)), comm.sizes)
    start = comm.starts[slot_comm]
    later = slot > start
    parent = start + (rng.random(n) * (slot - start)).astype(np.int64)
    return as_i64(comm.members[slot[later]]), as_i64(comm.members[parent[later]])


def _spouse_edges(rng: np.random.Generator, comm: Communities, people: People) -> tuple[I64, I64]:
    """Husband and wife pairs of adults in the same community; nobody has two spouses.

    Men and women of a community are each ranked by age and the i-th man is paired with the
    i-th woman, so spouses are of similar age; 60% of those pairs are married.
    """
    adult = (people.gender >= 0) & (people.age_years >= 23)
    sides = []
    for gender in (0, 1):
        who = np.flatnonzero(adult & (people.gender == gender))
        order = np.lexsort((rng.random(len(who)), people.birth[who], comm.of[who]))
        who = who[order]
        key = comm.of[who] * (len(people.gender) + 1) + rank_in_group(as_i64(comm.of[who]))
        sides.append((as_i64(who), as_i64(key)))
    (men, men_key), (women, women_key) = sides
    _, i, j = np.intersect1d(men_key, women_key, assume_unique=True, return_indices=True)
    married = rng.random(len(i)) < 0.6
    return as_i64(men[i[married]]), as_i64(women[j[married]])


def _pick_influencers(rng: np.random.Generator, comm: Communities, people: People) -> I64:
    """One person from each of the largest communities (the hubs are planted there)."""
    n = len(comm.of)
    count = min(max(3, n // CUSTOMERS_PER_INFLUENCER), len(comm.sizes))
    largest = as_i64(np.argsort(-comm.sizes, kind="stable")[:count])
    candidates = np.stack(
        [comm.members[pick_in_groups(rng, comm.starts, comm.sizes, largest)] for _ in range(8)],
        axis=1,
    )
    is_person = ~people.is_company[candidates]
    choice = np.argmax(is_person, axis=1)  # the first person among the candidates
    return as_i64(candidates[np.arange(count), choice])


def _chung_lu(
    rng: np.random.Generator, comm: Communities, weight_by_slot: np.ndarray, k: int, inside: bool
) -> tuple[I64, I64]:
    """``k`` candidate pairs with probability ~ w_i w_j, inside or across communities."""
    cumulative = np.cumsum(weight_by_slot)
    slot_comm = np.repeat(np.arange(len(comm.sizes)), comm.sizes)
    i = weighted_index(rng, cumulative, k)
    if inside:
        c = slot_comm[i]
        before = np.concatenate([[0.0], cumulative])[comm.starts[c]]
        total = cumulative[comm.starts[c] + comm.sizes[c] - 1] - before
        j = np.searchsorted(cumulative, before + rng.random(k) * total, side="right")
        j = np.clip(j, comm.starts[c], comm.starts[c] + comm.sizes[c] - 1)
    else:
        j = weighted_index(rng, cumulative, k)
        keep = slot_comm[i] != slot_comm[j]
        i, j = i[keep], j[keep]
    return as_i64(comm.members[i]), as_i64(comm.members[j])


def _pair_keys(a: I64, b: I64, n: int) -> I64:
    """Order-free key of a pair of customers."""
    return as_i64(np.minimum(a, b) * n + np.maximum(a, b))


def _fill(
    rng: np.random.Generator,
    comm: Communities,
    weight_by_slot: np.ndarray,
    taken: I64,
    need: int,
    inside: bool,
) -> tuple[I64, I64]:
    """``need`` new distinct non-loop pairs (fewer if the communities cannot hold them)."""
    n = len(comm.of)
    return new_pairs(
        rng,
        need,
        lambda rng, k: _chung_lu(rng, comm, weight_by_slot, k, inside),
        lambda a, b: _pair_keys(a, b, n),
        np.sort(taken),
        distinct_ends=True,
        rounds=6,
        batch=lambda missing: int(missing * 1.15) + 16,
    )


def _kinds(
    rng: np.random.Generator,
    a: I64,
    b: I64,
    origin: I64,
    people: People,
    eco: Ecosystem,
) -> I64:
    """Tie kinds from context (origin 0 = tree, 1 = spouse, 2 = other)."""
    m = len(a)
    random_kind = rng.choice(
        [KIND["FRIEND"], KIND["FAMILY"], KIND["COLLEAGUE"], KIND["CLASSMATE"], KIND["BUSINESS"]],
        size=m,
        p=[0.6, 0.15, 0.1, 0.1, 0.05],
    )
    tree_kind = np.where(rng.random(m) < 0.5, KIND["FAMILY"], KIND["FRIEND"])
    kind = np.where(origin == 0, tree_kind, random_kind)
    same_school = (eco.school_of[a] >= 0) & (eco.school_of[a] == eco.school_of[b])
    kind = np.where(same_school & (rng.random(m) < 0.85), KIND["CLASSMATE"], kind)
    same_employer = (eco.employer_of[a] >= 0) & (eco.employer_of[a] == eco.employer_of[b])
    kind = np.where(same_employer & (rng.random(m) < 0.85), KIND["COLLEAGUE"], kind)
    company = people.is_company[a] | people.is_company[b]
    kind = np.where(company, KIND["BUSINESS"], kind)
    kind = np.where(origin == 1, KIND["SPOUSE"], kind)
    return as_i64(kind)


def _strength(rng: np.random.Generator, kind: I64) -> I64:
    """Tie strength in thousandths: spouses and family strong, business ties weak."""
    m = len(kind)
    low = np.array([600, 850, 0, 200, 200, 100])[kind]
    high = np.array([1000, 1000, 0, 700, 800, 600])[kind]
    uniform = low + rng.random(m) * (high - low)
    friend = rng.beta(2.0, 3.0, m) * 1000
    value = np.where(kind == KIND["FRIEND"], friend, uniform)
    return as_i64(np.clip(np.round(value), 1, 1000))


def _since(rng: np.random.Generator, a: I64, b: I64, kind: I64, people: People) -> I64:
    """When a tie began: family since the younger one's birth, others from adulthood on."""
    younger = np.maximum(people.birth[a], people.birth[b])
    grown = np.array([0.0, 22.0, 16.0, 20.0, 6.0, 18.0])[kind] * YEAR_DAYS
    company = people.is_company[a] | people.is_company[b]
    low = younger + np.where(company, 0, np.round(grown)).astype(np.int64)
    low = np.where(kind == KIND["FAMILY"], low, np.maximum(low, REF_DAY - int(30 * YEAR_DAYS)))
    low = np.minimum(low, REF_DAY - 1)
    return days_between(rng, as_i64(low), np.full(len(a), REF_DAY, dtype=np.int64))


def build_social(
    rng: np.random.Generator,
    comm: Communities,
    people: People,
    eco: Ecosystem,
    ties_per_customer: float,
) -> Social:
    """The social graph with about ``ties_per_customer`` ties per customer (mean degree)."""
    n = len(comm.of)
    target = round(n * ties_per_customer / 2.0)
    tree_a, tree_b = _tree_edges(rng, comm)
    spouse_a, spouse_b = _spouse_edges(rng, comm, people)
    # Spouses first: where a tree edge joins the same couple, the pair stays a SPOUSE tie.
    base_a = np.concatenate([spouse_a, tree_a])
    base_b = np.concatenate([spouse_b, tree_b])
    origin = np.concatenate([np.ones(len(spouse_a), np.int64), np.zeros(len(tree_a), np.int64)])
    base_keys = _pair_keys(as_i64(base_a), as_i64(base_b), n)
    keep = first_occurrence(base_keys)
    base_a, base_b, origin, base_keys = base_a[keep], base_b[keep], origin[keep], base_keys[keep]

    inside_target = round(INSIDE_SHARE * target)
    need_inside = max(0, inside_target - len(base_a))
    need_across = max(0, target - max(inside_target, len(base_a)))

    weight = np.minimum(
        WEIGHT_CAP, (1.0 - rng.random(n)) ** (-1.0 / (DEGREE_EXPONENT - 1.0))
    ).astype(np.float64)
    influencers = _pick_influencers(rng, comm, people)
    # Degree per unit of weight of the Chung–Lu part, to turn target degrees into weights.
    per_weight = 2.0 * (need_inside + need_across) / max(float(weight.sum()), 1.0)
    size_of = comm.sizes[comm.of[influencers]]
    target_degree = np.minimum(150.0 + rng.random(len(influencers)) * 450.0, 0.45 * size_of)
    weight[influencers] = np.maximum(target_degree / max(per_weight, 1e-9), WEIGHT_CAP * 2)
    weight_by_slot = weight[comm.members]

    in_a, in_b = _fill(rng, comm, weight_by_slot, base_keys, need_inside, inside=True)
    taken = np.concatenate([base_keys, _pair_keys(in_a, in_b, n)])
    out_a, out_b = _fill(rng, comm, weight_by_slot, taken, need_across, inside=False)

    a = as_i64(np.concatenate([base_a, in_a, out_a]))
    b = as_i64(np.concatenate([base_b, in_b, out_b]))
    origin = as_i64(np.concatenate([origin, np.full(len(in_a) + len(out_a), 2, np.int64)]))
    kind = _kinds(rng, a, b, origin, people, eco)
    strength = _strength(rng, kind)
    since = _since(rng, a, b, kind, people)
    swap: Bool = rng.random(len(a)) < 0.5
    src = as_i64(np.where(swap, b, a))
    dst = as_i64(np.where(swap, a, b))
    # Exports are sorted by source then target, like a table dump.
    order = np.lexsort((dst, src))
    src, dst, kind, strength, since = (x[order] for x in (src, dst, kind, strength, since))
    degree = as_i64(np.bincount(src, minlength=n) + np.bincount(dst, minlength=n))
    influencers = as_i64(influencers[np.argsort(-degree[influencers], kind="stable")])
    return Social(
        src=as_i64(src),
        dst=as_i64(dst),
        kind=as_i64(kind),
        strength=as_i64(strength),
        since=as_i64(since),
        degree=degree,
        influencers=influencers,
    )
