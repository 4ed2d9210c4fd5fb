"""Partners and the scenarios they host, and how customers are linked to them.

Partner kinds and their scenarios: payroll employers (EMPLOYER / PAYROLL, EMPLOYEE links),
campuses (SCHOOL / CAMPUS, STUDENT), merchants (MERCHANT / MERCHANT, CUSTOMER and one OWNER),
supply-chain core enterprises (CORE_ENTERPRISE / SUPPLY_CHAIN, SUPPLIER - suppliers are company
customers) and car services (AUTO_SERVICE / CAR_SERVICE, CUSTOMER). Employers and schools are
anchored in communities, so co-workers and classmates are also socially tied (the social stage
labels those ties COLLEAGUE and CLASSMATE). Every partner hosts exactly one scenario, with the
same index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank import vocab
from synthbank.communities import Communities
from synthbank.emitted import LINK_KINDS, PARTICIPATION_ROLES, PARTNER_CATEGORIES
from synthbank.people import (
    CITY_NAMES,
    DISTRICT_COUNTS,
    DISTRICT_STARTS,
    DISTRICTS,
    People,
    company_names,
)
from synthbank.util import (
    I64,
    REF_DAY,
    YEAR_DAYS,
    Bool,
    Str,
    as_i64,
    days_between,
    first_occurrence,
    group_starts,
    pick_in_groups,
    weighted_index,
)

CATEGORY: Final = {name: code for code, name in enumerate(PARTNER_CATEGORIES)}
LINK: Final = {name: code for code, name in enumerate(LINK_KINDS)}
ROLE: Final = {name: code for code, name in enumerate(PARTICIPATION_ROLES)}
SCENARIO_SUFFIX: Final = ("代发工资", "智慧校园", "收单", "供应链金融", "车主服务")

_BRANDS: Final = np.array(vocab.BRANDS)
_SCHOOLS: Final = np.array(vocab.SCHOOL_KINDS)
_SHOPS: Final = np.array(vocab.MERCHANT_KINDS)
_AUTO: Final = np.array(vocab.AUTO_KINDS)


@dataclass(frozen=True)
class Ecosystem:
    """Partners (= scenarios, same index), customer affiliations, links and participation."""

    category: I64  # partner -> index into PARTNER_CATEGORIES (= SCENARIO_KINDS)
    name: Str
    scenario_name: Str
    employer_of: I64  # customer -> partner or -1
    school_of: I64
    car_owner: Bool
    supplier: Bool
    link_customer: I64
    link_partner: I64
    link_kind: I64
    link_since: I64
    part_customer: I64
    part_scenario: I64
    part_role: I64
    part_since: I64
    part_activity: I64

    @property
    def n(self) -> int:
        """Number of partners (and scenarios)."""
        return len(self.category)


def _concat(*parts: Str | str) -> Str:
    """Element-wise concatenation of string arrays (or scalars broadcast against them)."""
    out = np.asarray(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def _in_city(rng: np.random.Generator, count: int, weights: I64) -> tuple[I64, I64, I64]:
    """``count`` venues placed in cities in proportion to ``weights``, sorted by city.

    Returns the venues' cities and, per city, the start and number of its venues.
    """
    city = np.sort(weighted_index(rng, np.cumsum(weights.astype(np.float64)), count))
    per_city = as_i64(np.bincount(city, minlength=len(CITY_NAMES)))
    return as_i64(city), group_starts(per_city), per_city


def _district(rng: np.random.Generator, city: I64) -> Str:
    """A random district of each given city."""
    return np.asarray(DISTRICTS[pick_in_groups(rng, DISTRICT_STARTS, DISTRICT_COUNTS, city)])


def _since_years(rng: np.random.Generator, low: float, high: float, n: int) -> I64:
    """Days between ``high`` and ``low`` years before the reference date."""
    return as_i64(REF_DAY - np.round((low + rng.random(n) * (high - low)) * YEAR_DAYS))


def build_ecosystem(rng: np.random.Generator, comm: Communities, people: People) -> Ecosystem:
    """Partners by category, who works, studies, shops, supplies and services cars where."""
    n = people.n
    age = people.age_years
    person = ~people.is_company
    c_count = len(comm.sizes)
    persons_per_city = as_i64(np.bincount(people.city[person], minlength=len(CITY_NAMES)))
    persons_per_city = as_i64(np.maximum(persons_per_city, 0))

    # Employers: anchored in 60% of communities (one per ~800 members), so that a payroll's
    # employees are mostly one community; a few people commute to an employer elsewhere.
    has_employer = (rng.random(c_count) < 0.6) & (comm.sizes >= 30)
    per_comm = as_i64(np.where(has_employer, -(-comm.sizes // 800), 0))
    if per_comm.sum() < 3:
        per_comm[np.argsort(-comm.sizes, kind="stable")[:3]] += 1
    emp_comm = as_i64(np.repeat(np.arange(c_count), per_comm))
    n_emp = len(emp_comm)
    worker = person & (age >= 22) & (age < 60)
    employer_of = np.full(n, -1, dtype=np.int64)
    at_home = worker & (per_comm[comm.of] > 0) & (rng.random(n) < 0.65)
    employer_of[at_home] = pick_in_groups(rng, group_starts(per_comm), per_comm, comm.of[at_home])
    away = worker & (per_comm[comm.of] == 0) & (rng.random(n) < 0.08)
    employer_of[away] = rng.integers(0, n_emp, int(away.sum()))

    # Schools: in a fifth of the larger communities; students are 18-23.
    has_school = (comm.sizes >= 50) & (rng.random(c_count) < 0.2)
    if not has_school.any():
        has_school[int(np.argmax(comm.sizes))] = True
    school_comm = as_i64(np.flatnonzero(has_school))
    school_index = np.full(c_count, -1, dtype=np.int64)
    school_index[school_comm] = np.arange(len(school_comm))
    student = person & (age >= 18) & (age < 24) & has_school[comm.of] & (rng.random(n) < 0.85)
    school_of = np.full(n, -1, dtype=np.int64)
    school_of[student] = school_index[comm.of[student]]
    employer_of[student] = -1

    # Merchants and car services sit where the people are; core enterprises anywhere.
    n_shops = max(3, n // 1_000)
    shop_city, shop_start, shop_count = _in_city(rng, n_shops, persons_per_city)
    n_cores = max(1, n // 25_000)
    n_auto = max(3, n // 8_000)
    auto_city, auto_start, auto_count = _in_city(rng, n_auto, persons_per_city)

    offsets = np.cumsum([0, n_emp, len(school_comm), n_shops, n_cores])
    category = as_i64(np.repeat(np.arange(5), [n_emp, len(school_comm), n_shops, n_cores, n_auto]))
    school_city = comm.city[school_comm]
    names = np.concatenate(
        [
            company_names(rng, comm.city[emp_comm]),
            _concat(
                CITY_NAMES[school_city],
                _SCHOOLS[rng.integers(0, len(_SCHOOLS), len(school_comm))],
                "（",
                _district(rng, school_city),
                "校区）",
            ),
            _concat(
                _BRANDS[rng.integers(0, len(_BRANDS), n_shops)],
                _SHOPS[rng.integers(0, len(_SHOPS), n_shops)],
                "（",
                _district(rng, shop_city),
                "店）",
            ),
            _concat(
                _BRANDS[rng.integers(0, len(_BRANDS), n_cores)],
                np.where(rng.random(n_cores) < 0.5, "集团股份有限公司", "控股集团有限公司"),
            ),
            _concat(
                CITY_NAMES[auto_city],
                _BRANDS[rng.integers(0, len(_BRANDS), n_auto)],
                _AUTO[rng.integers(0, len(_AUTO), n_auto)],
            ),
        ]
    )
    scenario_name = np.strings.add(names, np.array(SCENARIO_SUFFIX)[category])

    links: list[tuple[I64, I64, int, I64]] = []  # customer, partner, link kind, since
    parts: list[tuple[I64, I64, int, I64, I64]] = []  # customer, scenario, role, since, activity

    def add(customers: I64, partners: I64, link: str, role: str, since: I64, act: I64) -> None:
        links.append((customers, partners, LINK[link], since))
        joined = np.maximum(since, people.onboarded[customers])
        parts.append((customers, partners, ROLE[role], as_i64(joined), act))

    def members(of: I64, offset: int, kind: str, years: float, min_age: int) -> None:
        """Everyone with an employer (a school) joins it, not before ``min_age``."""
        who = as_i64(np.flatnonzero(of >= 0))
        joined = np.maximum(
            _since_years(rng, 0.0, years, len(who)), people.birth[who] + int(min_age * YEAR_DAYS)
        )
        activity = (
            np.minimum(12, (REF_DAY - joined) // 30 + 1)  # payroll months in the last year
            if kind == "EMPLOYEE"
            else rng.poisson(40, len(who))  # campus card payments in 90 days
        )
        add(
            who, of[who] + offset, kind, kind, as_i64(np.minimum(joined, REF_DAY)), as_i64(activity)
        )

    members(employer_of, offsets[0], "EMPLOYEE", 15.0, 22)
    members(school_of, offsets[1], "STUDENT", 4.0, 18)
    # Merchant owners first, so that an owner who also shops there keeps the OWNER role.
    persons_by_city = as_i64(np.flatnonzero(person)[np.argsort(people.city[person], kind="stable")])
    owners = persons_by_city[
        pick_in_groups(rng, group_starts(persons_per_city), persons_per_city, shop_city)
    ]
    add(
        as_i64(owners),
        as_i64(np.arange(n_shops) + offsets[2]),
        "OWNER",
        "OWNER",
        _since_years(rng, 1.0, 15.0, n_shops),
        as_i64(rng.poisson(300, n_shops)),  # acquiring transactions per month
    )
    for share in (0.25, 0.06):
        shopper = as_i64(np.flatnonzero(person & (rng.random(n) < share)))
        shopper = shopper[shop_count[people.city[shopper]] > 0]
        shop = pick_in_groups(rng, shop_start, shop_count, people.city[shopper])
        add(
            shopper,
            as_i64(shop + offsets[2]),
            "CUSTOMER",
            "CUSTOMER",
            days_between(rng, people.onboarded[shopper], np.full(len(shopper), REF_DAY)),
            as_i64(rng.poisson(6, len(shopper)) + 1),  # purchases in 90 days
        )
    supplier = people.is_company & (rng.random(n) < 0.3)
    suppliers = as_i64(np.flatnonzero(supplier))
    add(
        suppliers,
        as_i64(rng.integers(0, n_cores, len(suppliers)) + offsets[3]),
        "SUPPLIER",
        "SUPPLIER",
        _since_years(rng, 0.5, 10.0, len(suppliers)),
        as_i64(rng.poisson(20, len(suppliers))),  # invoices financed
    )
    car_owner = person & (age >= 25) & (age < 66) & (rng.random(n) < 0.3)
    car_owner &= auto_count[people.city] > 0
    drivers = as_i64(np.flatnonzero(car_owner))
    add(
        drivers,
        as_i64(pick_in_groups(rng, auto_start, auto_count, people.city[drivers]) + offsets[4]),
        "CUSTOMER",
        "CAR_OWNER",
        _since_years(rng, 0.0, 8.0, len(drivers)),
        as_i64(rng.poisson(3, len(drivers))),  # service visits
    )

    l_cust, l_part, l_kind, l_since = (
        as_i64(np.concatenate([x[0] for x in links])),
        as_i64(np.concatenate([x[1] for x in links])),
        as_i64(np.concatenate([np.full(len(x[0]), x[2]) for x in links])),
        as_i64(np.concatenate([x[3] for x in links])),
    )
    n_partners = len(category)
    keep = first_occurrence(as_i64((l_cust * n_partners + l_part) * len(LINK_KINDS) + l_kind))
    order = np.lexsort((l_part[keep], l_cust[keep]))
    p_cust, p_scen, p_role, p_since, p_act = (
        as_i64(np.concatenate([x[i] for x in parts]))
        if i != 2
        else as_i64(np.concatenate([np.full(len(x[0]), x[2]) for x in parts]))
        for i in range(5)
    )
    p_keep = first_occurrence(as_i64(p_cust * n_partners + p_scen))
    p_order = np.lexsort((p_scen[p_keep], p_cust[p_keep]))
    return Ecosystem(
        category=category,
        name=names,
        scenario_name=scenario_name,
        employer_of=as_i64(np.where(employer_of >= 0, employer_of + offsets[0], -1)),
        school_of=as_i64(np.where(school_of >= 0, school_of + offsets[1], -1)),
        car_owner=car_owner,
        supplier=supplier,
        link_customer=l_cust[keep][order],
        link_partner=l_part[keep][order],
        link_kind=l_kind[keep][order],
        link_since=l_since[keep][order],
        part_customer=p_cust[p_keep][p_order],
        part_scenario=p_scen[p_keep][p_order],
        part_role=p_role[p_keep][p_order],
        part_since=p_since[p_keep][p_order],
        part_activity=p_act[p_keep][p_order],
    )
