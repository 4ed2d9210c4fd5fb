"""Planted adoption: product take-up as a contagion process with known drivers (issue 13).

Time runs in discrete periods. At the start of each period every eligible customer who does
not yet hold the product takes it up during the period with probability

    logistic(baseline + tie_strength * (sum of the strengths of their ties to holders)
             + holder_ties * (number of their ties to holders)
             + scenario * (1 if they share a scenario with a holder, else 0)
             + noise * N(0, 1))

where "holder", "tie" and "scenario participation" are read as of the period's start (a tie,
participation or holding dated on or after it does not count yet). The adoption day is drawn
uniformly inside the period, so a customer who adopts in period k is a holder from period
k + 1 on. The drivers are planted here and only here: this module knows nothing of the
scoring code in ``algorithms/``, so a model that recovers them is not grading its own work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank import vocab
from synthbank.marketing import Holdings
from synthbank.people import People
from synthbank.scenarios import Ecosystem
from synthbank.social import Social
from synthbank.util import F64, I64, REF_DAY, Bool, as_i64

NEVER: Final = -1  # adoption day of a customer who never adopts


@dataclass(frozen=True)
class AdoptionDrivers:
    """Weights of the planted adoption logit (see the module docstring).

    Examples
    --------
    >>> AdoptionDrivers().baseline < 0 < AdoptionDrivers().tie_strength
    True
    """

    baseline: float = -5.6  # logit of a customer with no holder anywhere near
    tie_strength: float = 0.9  # per unit of tie strength (0..1) to current holders, summed
    holder_ties: float = 0.25  # per tie to a current holder
    scenario: float = 0.9  # shares a scenario with a current holder
    noise: float = 0.6  # standard deviation of a per-customer, per-period logit shock


@dataclass(frozen=True)
class AdoptionPeriods:
    """The simulated window: ``periods`` periods of ``period_days`` days from ``start``."""

    start: int  # day number (days since 1970-01-01) of the first period's first day
    period_days: int = 30
    periods: int = 12

    @property
    def end(self) -> int:
        """The day after the last period."""
        return self.start + self.period_days * self.periods

    def boundaries(self) -> I64:
        """First day of every period, and the day after the last one."""
        return as_i64(self.start + self.period_days * np.arange(self.periods + 1))


@dataclass(frozen=True)
class TieArrays:
    """Undirected ties (one row per pair) with strength in [0, 1] and start day."""

    src: I64
    dst: I64
    strength: F64
    since: I64


@dataclass(frozen=True)
class ParticipationArrays:
    """Customer-scenario participation rows with their start day."""

    customer: I64
    scenario: I64
    since: I64


def _logistic(x: F64) -> F64:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def exposure(
    n: int,
    ties: TieArrays,
    participation: ParticipationArrays,
    holder: Bool,
    day: int,
) -> tuple[F64, F64, Bool]:
    """What each customer sees on ``day``: (sum of strengths to holders, holder ties, shares a
    scenario with a holder); only ties and participation dated before ``day`` count.

    Examples
    --------
    >>> ties = TieArrays(as_i64([0, 1]), as_i64([1, 2]), np.array([0.5, 0.25]), as_i64([0, 9]))
    >>> part = ParticipationArrays(as_i64([0, 2]), as_i64([0, 0]), as_i64([0, 0]))
    >>> strength, count, scenario = exposure(3, ties, part, np.array([True, False, False]), 5)
    >>> strength.tolist(), count.tolist(), scenario.tolist()
    ([0.0, 0.5, 0.0], [0.0, 1.0, 0.0], [False, False, True])
    """
    live = ties.since < day
    src, dst, weight = ties.src[live], ties.dst[live], ties.strength[live]
    to_holder_dst = holder[dst].astype(np.float64)
    to_holder_src = holder[src].astype(np.float64)
    strength = np.bincount(src, weights=weight * to_holder_dst, minlength=n)
    strength += np.bincount(dst, weights=weight * to_holder_src, minlength=n)
    count = np.bincount(src, weights=to_holder_dst, minlength=n)
    count += np.bincount(dst, weights=to_holder_src, minlength=n)
    in_force = participation.since < day
    customer, scenario = participation.customer[in_force], participation.scenario[in_force]
    scenarios = int(participation.scenario.max()) + 1 if len(participation.scenario) else 0
    holders_in = np.bincount(
        scenario, weights=holder[customer].astype(np.float64), minlength=scenarios
    )
    # a holder's own membership does not count for them (they do not adopt anyway)
    others = holders_in[scenario] - holder[customer]
    shares = np.zeros(n, dtype=np.bool_)
    shares[customer[others > 0]] = True
    return np.asarray(strength), np.asarray(count), shares


def simulate_adoption(
    rng: np.random.Generator,
    ties: TieArrays,
    participation: ParticipationArrays,
    exogenous: I64,
    eligible: Bool,
    window: AdoptionPeriods,
    drivers: AdoptionDrivers = AdoptionDrivers(),
) -> I64:
    """Adoption day of every customer under the planted contagion (-1: never adopts).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same days.
    ties, participation : TieArrays, ParticipationArrays
        The social ties and scenario participation, dated.
    exogenous : array of int
        Per customer, a day on which they hold the product for reasons outside the process
        (earlier holders, converted referrals), or -1. They are holders from that day on.
    eligible : array of bool
        Who may adopt at all.
    window : AdoptionPeriods
        The simulated periods.
    drivers : AdoptionDrivers
        The planted weights.

    Returns
    -------
    array of int
        ``exogenous`` where set; otherwise the simulated adoption day inside the window, or -1.

    Examples
    --------
    >>> ties = TieArrays(as_i64([0, 1]), as_i64([1, 2]), np.ones(2), as_i64([0, 0]))
    >>> no_part = ParticipationArrays(as_i64([]), as_i64([]), as_i64([]))
    >>> sure = AdoptionDrivers(baseline=-30.0, tie_strength=60.0, holder_ties=0.0,
    ...                        scenario=0.0, noise=0.0)
    >>> days = simulate_adoption(np.random.default_rng(0), ties, no_part, as_i64([0, -1, -1]),
    ...                          np.ones(3, dtype=bool), AdoptionPeriods(10, 5, 3), sure)
    >>> days[0], 10 <= days[1] < 15, 15 <= days[2] < 20
    (np.int64(0), np.True_, np.True_)
    """
    n = len(exogenous)
    since = exogenous.copy()
    for start in window.boundaries()[:-1].tolist():
        holder = (since >= 0) & (since < start)
        strength, count, shares = exposure(n, ties, participation, holder, start)
        logit = (
            drivers.baseline
            + drivers.tie_strength * strength
            + drivers.holder_ties * count
            + drivers.scenario * shares
            + drivers.noise * rng.standard_normal(n)
        )
        draw = rng.random(n)
        day = start + (rng.random(n) * window.period_days).astype(np.int64)
        adopts = eligible & (since < 0) & (draw < _logistic(logit))
        since[adopts] = day[adopts]
    return as_i64(since)


def bank_ties(social: Social) -> TieArrays:
    """The generated social ties, strength as a fraction."""
    return TieArrays(social.src, social.dst, social.strength / 1000.0, social.since)


def bank_participation(eco: Ecosystem) -> ParticipationArrays:
    """The generated scenario participation."""
    return ParticipationArrays(eco.part_customer, eco.part_scenario, eco.part_since)


def plant_adoption(
    rng: np.random.Generator,
    people: People,
    eco: Ecosystem,
    social: Social,
    holdings: Holdings,
    drivers: AdoptionDrivers,
    window: AdoptionPeriods | None = None,
    protected: Bool | None = None,
) -> Holdings:
    """Holdings whose take-ups inside ``window`` come from the planted contagion.

    Per product, holdings dated before the window stay (they seed the process), as do the
    rows flagged in ``protected`` (converted referrals: the referral log must keep its
    holding); the other holdings dated inside the window are replaced by simulated ones.
    A simulated holding copies balance and status from a random row of the same product.
    The default window is the 12 months of 30 days before the reference date.
    """
    window = window or AdoptionPeriods(start=REF_DAY - 360 + 1, period_days=30, periods=12)
    keep_mask = holdings.since < window.start
    if protected is not None:
        keep_mask |= protected
    ties, part = bank_ties(social), bank_participation(eco)
    customers, products, days, source = [], [], [], []
    for p, (_, _, audience, _) in enumerate(vocab.PRODUCTS):
        rows = np.flatnonzero(holdings.product == p)
        if len(rows) == 0:
            continue
        kept = rows[keep_mask[rows]]
        exogenous = np.full(people.n, NEVER, dtype=np.int64)
        exogenous[holdings.customer[kept]] = holdings.since[kept]
        eligible = ~people.is_company if audience == "P" else np.ones(people.n, dtype=np.bool_)
        if audience == "C":
            eligible = people.is_company.copy()
        eligible &= people.onboarded < window.end
        since = simulate_adoption(rng, ties, part, as_i64(exogenous), eligible, window, drivers)
        new = np.flatnonzero((since >= 0) & (exogenous < 0))
        new = new[since[new] >= people.onboarded[new]]
        customers += [holdings.customer[kept], as_i64(new)]
        products += [np.full(len(kept) + len(new), p, dtype=np.int64)]
        days += [holdings.since[kept], since[new]]
        source += [kept, rows[rng.integers(0, len(rows), len(new))]]
    customer = as_i64(np.concatenate(customers))
    product = as_i64(np.concatenate(products))
    donor = as_i64(np.concatenate(source))
    order = np.lexsort((product, customer))
    return Holdings(
        customer=as_i64(customer[order]),
        product=as_i64(product[order]),
        since=as_i64(np.concatenate(days)[order]),
        balance_cents=as_i64(holdings.balance_cents[donor[order]]),
        status=as_i64(holdings.status[donor[order]]),
    )
