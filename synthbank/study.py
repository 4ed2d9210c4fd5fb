"""In-memory study banks for judging referral scores on planted adoption (issue 13).

A study bank is the generator's customers, ecosystem and social ties (the same stages as
:func:`synthbank.bank.generate_bank`, nothing written to disk, no Neo4j), plus one product whose
take-up over twelve 30-day periods before the reference date comes from the planted contagion
of :mod:`synthbank.adoption`. The product's earlier holders (about 4% of the eligible persons,
dated in the two years before the window) seed the process. The evaluation reads only dated
arrays from it: ties, participation, holdings, onboarding and the value tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank.adoption import (
    NEVER,
    AdoptionDrivers,
    AdoptionPeriods,
    bank_participation,
    bank_ties,
    simulate_adoption,
)
from synthbank.communities import plan_communities
from synthbank.people import generate_people
from synthbank.scenarios import build_ecosystem
from synthbank.social import build_social
from synthbank.util import F64, I64, REF_DAY, Bool, as_i64, days_between, stream

DEFAULT_DRIVERS: Final = AdoptionDrivers()
STUDY_WINDOW: Final = AdoptionPeriods(start=REF_DAY - 360 + 1, period_days=30, periods=12)
SEED_SHARE: Final = 0.04
# AUM bands (yuan) of the value tiers MASS, AFFLUENT, HIGH_NET_WORTH, PRIVATE
TIER_EDGES: Final = (100_000.0, 1_000_000.0, 6_000_000.0)
# The second planting: scenario membership drives adoption, ties matter much less.
SCENARIO_LED: Final = AdoptionDrivers(
    baseline=-5.0, tie_strength=0.2, holder_ties=0.05, scenario=1.6, noise=0.8
)


@dataclass(frozen=True, eq=False)
class StudyBank:
    """A bank with one planted product, as dated arrays (customer ``i`` is index ``i``)."""

    seed: int
    drivers: AdoptionDrivers
    window: AdoptionPeriods
    n: int
    tie_src: I64
    tie_dst: I64
    tie_strength: F64  # 0..1
    tie_since: I64  # day numbers (days since 1970-01-01)
    part_customer: I64
    part_scenario: I64
    part_since: I64
    onboarded: I64
    tier: I64  # 0 MASS .. 3 PRIVATE, from AUM
    eligible: Bool  # may take the product (persons)
    adopted: I64  # day the customer took the product, -1 never


def build_study_bank(
    customers: int,
    seed: int,
    drivers: AdoptionDrivers = DEFAULT_DRIVERS,
    ties_per_customer: float = 10.0,
) -> StudyBank:
    """A study bank of ``customers`` customers with the product's take-up planted.

    Parameters
    ----------
    customers : int
        Number of customers (about 10% companies, who are not eligible).
    seed : int
        Seed of every stage; the same seed gives the same bank.
    drivers : AdoptionDrivers
        Planted weights of the adoption logit.
    ties_per_customer : float
        Mean number of social ties per customer.

    Returns
    -------
    StudyBank

    Examples
    --------
    >>> bank = build_study_bank(1_000, seed=3)
    >>> bank.n, bool(bank.adopted.max() < bank.window.end)
    (1000, True)
    >>> int((bank.adopted >= bank.window.start).sum()) > 0
    True
    """
    comm = plan_communities(stream(seed, "communities"), customers)
    people, _ = generate_people(stream(seed, "people"), comm.city, comm.of)
    eco = build_ecosystem(stream(seed, "ecosystem"), comm, people)
    social = build_social(stream(seed, "social"), comm, people, eco, ties_per_customer)
    rng = stream(seed, "adoption")
    window = STUDY_WINDOW
    eligible = ~people.is_company & (people.onboarded < window.end)
    seeded = eligible & (people.onboarded < window.start) & (rng.random(customers) < SEED_SHARE)
    earliest = np.maximum(people.onboarded, window.start - 730)
    first_day = days_between(rng, as_i64(earliest), np.full(customers, window.start - 1))
    exogenous = as_i64(np.where(seeded, first_day, NEVER))
    adopted = simulate_adoption(
        rng, bank_ties(social), bank_participation(eco), exogenous, eligible, window, drivers
    )
    adopted = as_i64(np.where(adopted >= people.onboarded, adopted, NEVER))
    aum = people.aum_cents / 100.0
    return StudyBank(
        seed=seed,
        drivers=drivers,
        window=window,
        n=customers,
        tie_src=social.src,
        tie_dst=social.dst,
        tie_strength=np.asarray(social.strength / 1000.0, dtype=np.float64),
        tie_since=social.since,
        part_customer=eco.part_customer,
        part_scenario=eco.part_scenario,
        part_since=eco.part_since,
        onboarded=people.onboarded,
        tier=as_i64(np.searchsorted(np.array(TIER_EDGES), aum, side="right")),
        eligible=eligible,
        adopted=adopted,
    )


def study_banks(customers: int, seeds: tuple[int, int] = (11, 12)) -> list[StudyBank]:
    """The evaluation's three banks: two seeds under the default drivers, and one bank
    planted with :data:`SCENARIO_LED` (other weights) on a third seed.

    Examples
    --------
    >>> [(b.seed, b.drivers == SCENARIO_LED) for b in study_banks(500)]
    [(11, False), (12, False), (13, True)]
    """
    first, second = seeds
    return [
        build_study_bank(customers, first),
        build_study_bank(customers, second),
        build_study_bank(customers, second + 1, SCENARIO_LED),
    ]
