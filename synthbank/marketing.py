"""Products, holdings with homophily, campaigns and referral cascades.

Holdings: a base propensity per customer and product (from value, age, kind and scenarios:
payroll employees get the payroll card, students the campus card, suppliers supply-chain
finance ...), seed holders drawn from it, then two propagation rounds in which a customer's
chance to adopt rises with the share of their ties that hold the product.

Referrals: influencers and a sample of other customers start cascades for a campaign; each
wave refers mostly along social ties (some to strangers), converted referees refer further,
up to four levels. Every customer is referred at most once and never back to a seed, so
referrals form a forest; a converted referral means the referee holds the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank import vocab
from synthbank.emitted import HOLDING_STATUSES, PRODUCT_CATEGORIES, SCENARIO_KINDS
from synthbank.people import People
from synthbank.scenarios import Ecosystem
from synthbank.social import Social
from synthbank.util import (
    I64,
    REF_DAY,
    Bool,
    Str,
    as_i64,
    days_between,
    first_occurrence,
    lognormal_cents,
)

PRODUCT_NAMES: Final = np.array([p[0] for p in vocab.PRODUCTS])
PRODUCT_CATEGORY: Final = np.array(
    [PRODUCT_CATEGORIES.index(p[1]) for p in vocab.PRODUCTS], dtype=np.int64
)
PRODUCT_KEYS: Final = tuple(p[3] for p in vocab.PRODUCTS)
_PERSONS_ONLY: Final = np.array([p[2] == "P" for p in vocab.PRODUCTS], dtype=np.bool_)
# Products whose campaigns run inside one kind of scenario.
_CAMPAIGN_SCENARIO: Final = {
    "card_payroll": "PAYROLL",
    "card_campus": "CAMPUS",
    "card_car": "CAR_SERVICE",
    "auto_loan": "CAR_SERVICE",
    "insurance_car": "CAR_SERVICE",
    "supply_chain_finance": "SUPPLY_CHAIN",
}
_LOAN_MEDIAN: Final = {
    "mortgage": 800_000.0,
    "consumer_loan": 50_000.0,
    "sme_loan": 500_000.0,
    "auto_loan": 120_000.0,
    "supply_chain_finance": 1_000_000.0,
}
MAX_LEVELS: Final = 4

# Who may be offered each product, written to products.csv as data (never guessed from the
# category): (eligible kinds, min age, max age, eligible scenario kinds, min tier). The kinds
# follow each product's audience in vocab.PRODUCTS (P persons, C companies, B both: no rule).
_RULES: Final[dict[str, tuple[str, int | None, int | None, str, str]]] = {
    "card_campus": ("PERSON", 16, 28, "", ""),  # students are 18-23
    "card_payroll": ("PERSON", 18, None, "PAYROLL", ""),
    "card_platinum": ("PERSON", 18, None, "", "AFFLUENT"),
    "card_standard": ("PERSON", 18, None, "", ""),
    "card_car": ("PERSON", 18, None, "", ""),
    "mortgage": ("PERSON", 18, 65, "", ""),
    "consumer_loan": ("PERSON", 18, 65, "", ""),
    "auto_loan": ("PERSON", 18, 70, "", ""),
    "supply_chain_finance": ("COMPANY", None, None, "SUPPLY_CHAIN", ""),
    "insurance_annuity": ("PERSON", 18, 65, "", ""),
}


def product_eligibility() -> dict[str, list[str]]:
    """The products file's eligibility columns as text, one entry per product (in order)."""
    columns: dict[str, list[str]] = {
        "eligible_kinds": [],
        "min_age": [],
        "max_age": [],
        "eligible_scenario_kinds": [],
        "min_tier": [],
    }
    audience = {"P": "PERSON", "C": "COMPANY", "B": ""}
    for _, _, who, key in vocab.PRODUCTS:
        kinds, low, high, scenarios, tier = _RULES.get(key, (audience[who], None, None, "", ""))
        columns["eligible_kinds"].append(kinds)
        # both ages or neither, so a row never carries half a band
        columns["min_age"].append("" if low is None else str(low))
        columns["max_age"].append("" if low is None else str(150 if high is None else high))
        columns["eligible_scenario_kinds"].append(scenarios)
        columns["min_tier"].append(tier)
    return columns


@dataclass(frozen=True)
class Holdings:
    """Customer-product holdings."""

    customer: I64
    product: I64
    since: I64
    balance_cents: I64
    status: I64  # index into HOLDING_STATUSES


@dataclass(frozen=True)
class Campaigns:
    """Marketing campaigns, each for one product and optionally one scenario."""

    name: Str
    product: I64
    scenario: I64  # -1 = none
    start: I64
    end: I64


@dataclass(frozen=True)
class Referrals:
    """REFERRED rows."""

    referrer: I64
    referee: I64
    at: I64
    product: I64
    campaign: I64
    converted: Bool


def _propensity(people: People, eco: Ecosystem) -> np.ndarray:
    """Base probability that each customer holds each product (float32, customers x products)."""
    aum = people.aum_cents / 100.0
    age = people.age_years
    person = (~people.is_company).astype(np.float32)
    company = people.is_company.astype(np.float32)
    affluent = (aum >= 100_000).astype(np.float32)
    rich = (aum >= 500_000).astype(np.float32)
    employee = (eco.employer_of >= 0).astype(np.float32)
    student = (eco.school_of >= 0).astype(np.float32)
    driver = eco.car_owner.astype(np.float32)
    supplier = eco.supplier.astype(np.float32)
    rules = {
        "current": 0.92 * person,
        "time_deposit": person * (0.25 + 0.25 * affluent),
        "large_cd": np.where(aum >= 200_000, 0.45, 0.02),
        "corporate_account": 0.95 * company,
        "wealth_low": person * (0.08 + 0.35 * affluent),
        "wealth_high": person * (0.03 + 0.25 * rich) * (people.risk_rating >= 3),
        "cash_mgmt": 0.05 + 0.3 * company,
        "fund_plan": person * (0.08 + 0.1 * (age < 40)),
        "mortgage": person * ((age >= 28) & (age < 56)) * 0.22,
        "consumer_loan": 0.08 * person,
        "sme_loan": 0.3 * company,
        "auto_loan": 0.3 * driver,
        "supply_chain_finance": 0.55 * supplier,
        "card_standard": person * (1.0 - student) * 0.3,
        "card_platinum": 0.45 * person * rich,
        "card_payroll": 0.45 * employee,
        "card_campus": 0.5 * student,
        "card_car": 0.3 * driver,
        "insurance_health": 0.1 * person,
        "insurance_annuity": 0.15 * person * affluent,
        "insurance_car": 0.4 * driver,
    }
    return np.stack([np.asarray(rules[key], dtype=np.float32) for key in PRODUCT_KEYS], axis=1)


def adopt_products(
    rng: np.random.Generator, people: People, eco: Ecosystem, social: Social
) -> Bool:
    """Who holds what: seeds from the base propensity, then two rounds of social contagion."""
    base = _propensity(people, eco)
    held = rng.random(base.shape, dtype=np.float32) < 0.6 * base
    eligible = base > 0.0
    # Peers that could hold the product at all: a company's reference group for a corporate
    # product is its business ties, not the persons it is tied to.
    peers = np.empty(base.shape, dtype=np.float32)
    for p in range(base.shape[1]):
        column = eligible[:, p].astype(np.float32)
        peers[:, p] = np.bincount(social.src, weights=column[social.dst], minlength=people.n)
        peers[:, p] += np.bincount(social.dst, weights=column[social.src], minlength=people.n)
    peers = np.maximum(peers, 1.0)
    for _ in range(2):
        share = np.empty(base.shape, dtype=np.float32)
        for p in range(base.shape[1]):
            column = held[:, p].astype(np.float32)
            ties = np.bincount(social.src, weights=column[social.dst], minlength=people.n)
            ties += np.bincount(social.dst, weights=column[social.src], minlength=people.n)
            share[:, p] = ties
        share /= peers
        chance = eligible * (0.15 * base + 0.45 * share)
        held |= rng.random(base.shape, dtype=np.float32) < chance
    return held


def plan_campaigns(rng: np.random.Generator, n: int, eco: Ecosystem) -> Campaigns:
    """Campaigns for retail products; scenario-bound products run in a scenario of that kind."""
    count = 6 + n // 100_000
    retail = np.array([i for i, p in enumerate(vocab.PRODUCTS) if p[2] != "C"], dtype=np.int64)
    product = as_i64(retail[rng.integers(0, len(retail), count)])
    scenario = np.full(count, -1, dtype=np.int64)
    for i, p in enumerate(product.tolist()):
        kind = _CAMPAIGN_SCENARIO.get(PRODUCT_KEYS[p])
        if kind is not None:
            candidates = np.flatnonzero(eco.category == SCENARIO_KINDS.index(kind))
            if len(candidates):
                scenario[i] = candidates[rng.integers(0, len(candidates))]
    start = as_i64(REF_DAY - rng.integers(30, 400, count))
    end = as_i64(start + rng.integers(30, 121, count))
    suffix = np.array(vocab.CAMPAIGN_SUFFIXES)[rng.integers(0, len(vocab.CAMPAIGN_SUFFIXES), count)]
    name = np.strings.add(PRODUCT_NAMES[product], suffix)
    return Campaigns(name=name, product=product, scenario=scenario, start=start, end=end)


def _neighbours(social: Social, n: int) -> tuple[I64, I64, I64]:
    """Both directions of every tie, grouped by source: (starts, counts, targets)."""
    source = np.concatenate([social.src, social.dst])
    target = np.concatenate([social.dst, social.src])
    order = np.argsort(source, kind="stable")
    counts = as_i64(np.bincount(source, minlength=n))
    starts = as_i64(np.concatenate([[0], np.cumsum(counts)[:-1]]))
    return starts, counts, as_i64(target[order])


def referral_cascades(
    rng: np.random.Generator, people: People, social: Social, campaigns: Campaigns
) -> Referrals:
    """Referral waves from influencers and other seeds, mostly along social ties."""
    n = people.n
    starts, counts, targets = _neighbours(social, n)
    is_influencer = np.zeros(n, dtype=np.bool_)
    is_influencer[social.influencers] = True
    others = np.flatnonzero(~people.is_company & (rng.random(n) < 0.005) & ~is_influencer)
    seeds = as_i64(np.concatenate([social.influencers, others]))
    taken = np.zeros(n, dtype=np.bool_)
    taken[seeds] = True  # seeds are never referred, so referrals cannot loop back
    campaign = as_i64(rng.integers(0, len(campaigns.product), len(seeds)))
    window_end = np.minimum(campaigns.end[campaign], REF_DAY)
    when = days_between(rng, campaigns.start[campaign], as_i64(window_end))
    frontier = seeds
    out: list[tuple[I64, I64, I64, I64, Bool]] = []
    for level in range(MAX_LEVELS):
        if len(frontier) == 0:
            break
        k = counts[frontier]
        first = np.repeat(starts[frontier] - np.concatenate([[0], np.cumsum(k)[:-1]]), k)
        referrer_pos = np.repeat(np.arange(len(frontier)), k)
        referee = targets[first + np.arange(int(k.sum()))]
        rate = np.where(is_influencer[frontier], 0.5, 0.12 if level == 0 else 0.08)
        chosen = rng.random(len(referee)) < rate[referrer_pos]
        referrer_pos, referee = referrer_pos[chosen], referee[chosen]
        # Some referrals go to people outside one's ties (a shared link, a stranger).
        stranger = np.flatnonzero(rng.random(len(frontier)) < 0.1)
        referrer_pos = np.concatenate([referrer_pos, stranger])
        referee = np.concatenate([referee, rng.integers(0, n, len(stranger))])
        shuffle = rng.permutation(len(referee))
        referrer_pos, referee = referrer_pos[shuffle], referee[shuffle]
        ok = ~taken[referee] & (referee != frontier[referrer_pos])
        referrer_pos, referee = referrer_pos[ok], referee[ok]
        once = first_occurrence(as_i64(referee))
        referrer_pos, referee = as_i64(referrer_pos[once]), as_i64(referee[once])
        at = when[referrer_pos] + rng.integers(1, 22, len(referee))
        on_time = at <= REF_DAY
        referrer_pos, referee, at = referrer_pos[on_time], referee[on_time], as_i64(at[on_time])
        taken[referee] = True
        converted = rng.random(len(referee)) < 0.35
        # a company cannot take up a persons' product (its eligibility says PERSON)
        for_persons = _PERSONS_ONLY[campaigns.product[campaign[referrer_pos]]]
        converted &= ~(people.is_company[referee] & for_persons)
        out.append((frontier[referrer_pos], referee, at, campaign[referrer_pos], converted))
        frontier = referee[converted]
        campaign = campaign[referrer_pos][converted]
        when = at[converted]
    if not out:
        empty = np.zeros(0, dtype=np.int64)
        return Referrals(empty, empty, empty, empty, empty, np.zeros(0, dtype=np.bool_))
    referrer, referee, at, camp, conv = (np.concatenate([x[i] for x in out]) for i in range(5))
    order = np.lexsort((referee, at))  # a log: in time order
    camp = as_i64(camp[order])
    return Referrals(
        referrer=as_i64(referrer[order]),
        referee=as_i64(referee[order]),
        at=as_i64(at[order]),
        product=as_i64(campaigns.product[camp]),
        campaign=camp,
        converted=np.asarray(conv[order], dtype=np.bool_),
    )


def build_holdings(
    rng: np.random.Generator, people: People, held: Bool, referrals: Referrals
) -> Holdings:
    """Holding rows; converted referees hold the product since their referral."""
    held = held.copy()
    converted = referrals.converted
    held[referrals.referee[converted], referrals.product[converted]] = True
    customer, product = np.nonzero(held)  # row-major: sorted by customer, then product
    customer, product = as_i64(customer), as_i64(product)
    m = len(customer)
    since = days_between(rng, people.onboarded[customer], np.full(m, REF_DAY, dtype=np.int64))
    n_products = held.shape[1]
    key = customer * n_products + product
    referred_key = referrals.referee[converted] * n_products + referrals.product[converted]
    position = np.searchsorted(key, referred_key)
    since[position] = np.maximum(
        referrals.at[converted], people.onboarded[referrals.referee[converted]]
    )

    category = PRODUCT_CATEGORY[product]
    aum = people.aum_cents[customer].astype(np.float64)
    share = rng.random(m)
    loan_median = np.array([_LOAN_MEDIAN.get(k, 0.0) for k in PRODUCT_KEYS])[product]
    balance = np.select(
        [
            category == PRODUCT_CATEGORIES.index("DEPOSIT"),
            category == PRODUCT_CATEGORIES.index("WEALTH"),
            category == PRODUCT_CATEGORIES.index("LOAN"),
            category == PRODUCT_CATEGORIES.index("CREDIT_CARD"),
        ],
        [
            aum * (0.05 + 0.45 * share) + 10_000,
            aum * (0.1 + 0.5 * share),
            loan_median * 100 * np.exp(0.8 * rng.standard_normal(m)),
            np.where(share < 0.15, 0, lognormal_cents(rng, 5_000.0, 1.0, m)),
        ],
        default=lognormal_cents(rng, 20_000.0, 1.0, m),
    )
    status = as_i64(rng.choice(len(HOLDING_STATUSES), size=m, p=[0.9, 0.06, 0.04]))
    balance = np.where(status == HOLDING_STATUSES.index("CLOSED"), 0, balance)
    return Holdings(
        customer=customer,
        product=product,
        since=since,
        balance_cents=as_i64(np.clip(np.round(balance), 0, 10**13)),
        status=status,
    )
