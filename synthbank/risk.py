"""Risk linkages: guarantees, transfers, shareholdings and identifiers, with planted structures.

Each planted kind is the *only* one of its kind in the data, by construction:

* guarantee circles (directed simple cycles of length 2-6): background guarantees go from a
  lower to a higher customer index among non-circle customers, or out of a circle member to a
  non-circle borrower; never into a circle member. So the only cycles are the circles.
* fund-flow cycles (length 3-6, times increasing, within 7 days): background transfers go from
  lower to higher index and never out of a cycle member. So the only cycles are the planted.
* same-controller groups: controller -> company edges of 50.01-95%, possibly chained; every
  background stake is below 50% and held by someone outside all groups.
* shared-identifier rings (3-8 customers on one device or phone): every other identifier
  value belongs to exactly one customer (people.py draws them distinct).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank.people import People, new_devices, new_phones
from synthbank.social import Social
from synthbank.util import (
    DAY_SECONDS,
    I64,
    REF_DAY,
    Bool,
    as_i64,
    first_occurrence,
    lognormal_cents,
    sorted_unique,
)

CUSTOMERS_PER_CIRCLE: Final = 2_500
CUSTOMERS_PER_RING: Final = 2_000
CUSTOMERS_PER_FUND_CYCLE: Final = 3_000
CUSTOMERS_PER_GROUP: Final = 4_000
FUND_CYCLE_WINDOW_DAYS: Final = 7


@dataclass(frozen=True)
class Guarantees:
    """GUARANTEES rows; ``planted`` marks rows of circles."""

    guarantor: I64
    borrower: I64
    amount_cents: I64
    start: I64
    end: I64
    planted: Bool
    circles: list[list[int]]  # members in cycle order, smallest customer index first


@dataclass(frozen=True)
class Transfers:
    """TRANSFERRED_TO rows in time order; ``planted`` marks rows of fund cycles."""

    src: I64
    dst: I64
    amount_cents: I64
    day: I64
    second: I64  # of the day
    planted: Bool
    cycles: list[list[int]]  # row numbers (into the arrays above) of each cycle, in order


@dataclass(frozen=True)
class Shareholdings:
    """HOLDS_SHARES rows; ``planted`` marks the > 50% edges of control groups."""

    holder: I64
    company: I64
    pct_hundredths: I64
    planted: Bool
    groups: list[tuple[int, list[int]]]  # controller, companies (in tree order)


@dataclass(frozen=True)
class Identifiers:
    """USES rows: (customer, kind, value); values of one kind live in one Arrow-able form."""

    customer: I64
    kind: I64  # index into IDENTIFIER_KINDS, which is also the value list to look in
    value_index: I64  # index into phones, devices, addresses or emails
    phones: I64
    devices: I64
    addresses: np.ndarray
    emails: np.ndarray
    planted: Bool
    rings: list[tuple[str, int, list[int]]]  # kind, index into phones or devices, members
    phone: I64  # the customers' phone column after rings (ring members share one number)


def _lengths(rng: np.random.Generator, count: int, low: int, high: int, p: list[float]) -> I64:
    """Sizes of planted structures drawn from ``low..high`` with probabilities ``p``."""
    return as_i64(rng.choice(np.arange(low, high + 1), size=count, p=p))


def _split(members: I64, lengths: I64) -> list[list[int]]:
    """Split a flat member array into the consecutive groups of the given lengths."""
    bounds = np.cumsum(lengths)[:-1]
    return [part.tolist() for part in np.split(members, bounds)]


def _cycle_edges(members: I64, lengths: I64) -> tuple[I64, I64]:
    """Edges member[i] -> member[i+1] closing back to each group's first member."""
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(members))
    group_start = np.repeat(starts, lengths)
    group_last = np.repeat(starts + lengths - 1, lengths)
    nxt = np.where(position == group_last, group_start, position + 1)
    return as_i64(members), as_i64(members[nxt])


def _rotate_smallest_first(cycle: list[int]) -> list[int]:
    """The same cycle, starting at its smallest member."""
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def build_guarantees(rng: np.random.Generator, people: People) -> Guarantees:
    """Guarantee circles (mostly among companies) plus an acyclic background."""
    n = people.n
    count = max(3, n // CUSTOMERS_PER_CIRCLE)
    lengths = _lengths(rng, count, 2, 6, [0.3, 0.25, 0.2, 0.15, 0.1])
    corporate = rng.random(count) < 0.8
    companies = np.flatnonzero(people.is_company)
    persons = np.flatnonzero(~people.is_company)
    if lengths[corporate].sum() > len(companies) // 3:
        corporate[:] = False
    pick_c = rng.choice(companies, int(lengths[corporate].sum()), replace=False)
    pick_p = rng.choice(persons, int(lengths[~corporate].sum()), replace=False)
    members_list: list[I64] = []
    ic = ip = 0
    for k, corp in zip(lengths.tolist(), corporate.tolist(), strict=True):
        if corp:
            members_list.append(as_i64(pick_c[ic : ic + k]))
            ic += k
        else:
            members_list.append(as_i64(pick_p[ip : ip + k]))
            ip += k
    members = as_i64(np.concatenate(members_list))
    g_src, g_dst = _cycle_edges(members, lengths)

    in_circle = np.zeros(n, dtype=np.bool_)
    in_circle[members] = True
    background = np.flatnonzero(~in_circle)
    total = round(0.03 * n)
    a = background[rng.integers(0, len(background), total)]
    b = background[rng.integers(0, len(background), total)]
    # Lower index guarantees higher index: a DAG, whatever the draw.
    guarantor, borrower = np.minimum(a, b), np.maximum(a, b)
    outward = rng.random(total) < 0.1  # circle members also back outside borrowers
    guarantor = np.where(outward, members[rng.integers(0, len(members), total)], guarantor)
    keep = guarantor != borrower
    guarantor, borrower = guarantor[keep], borrower[keep]
    unique = first_occurrence(as_i64(guarantor * n + borrower))
    guarantor, borrower = guarantor[unique], borrower[unique]

    src = as_i64(np.concatenate([g_src, guarantor]))
    dst = as_i64(np.concatenate([g_dst, borrower]))
    planted = np.concatenate([np.ones(len(g_src), np.bool_), np.zeros(len(guarantor), np.bool_)])
    m = len(src)
    amount = lognormal_cents(rng, 2_000_000.0, 0.8, m)
    start = as_i64(REF_DAY - rng.integers(30, 1_000, m))
    end = as_i64(start + rng.integers(365, 1_096, m))
    order = np.lexsort((dst, src))
    circles = [_rotate_smallest_first(c) for c in _split(members, lengths)]
    return Guarantees(
        guarantor=src[order],
        borrower=dst[order],
        amount_cents=amount[order],
        start=start[order],
        end=end[order],
        planted=planted[order],
        circles=circles,
    )


def build_transfers(rng: np.random.Generator, people: People, social: Social) -> Transfers:
    """Time-ordered fund cycles plus an acyclic background of heavy-tailed transfers."""
    n = people.n
    count = max(3, n // CUSTOMERS_PER_FUND_CYCLE)
    lengths = _lengths(rng, count, 3, 6, [0.25, 0.25, 0.25, 0.25])
    members = as_i64(rng.choice(n, int(lengths.sum()), replace=False))
    c_src, c_dst = _cycle_edges(members, lengths)
    # Each hop follows the previous by 1-24 hours; six hops stay inside the 7-day window.
    first_at = (REF_DAY - rng.integers(8, 90, count)) * DAY_SECONDS + rng.integers(0, 86_400, count)
    gaps = rng.integers(3_600, 86_400, len(members))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    gaps[starts] = 0
    group = np.repeat(np.arange(count), lengths)
    cumulative = np.cumsum(gaps)
    at = first_at[group] + cumulative - cumulative[starts][group]
    base = lognormal_cents(rng, 300_000.0, 0.6, count)
    hop = np.arange(len(members)) - starts[group]
    # Each hop passes on a little less (fees, a cut kept back), as layering does.
    shrink = 0.985**hop * (1.0 - 0.01 * rng.random(len(members)))
    c_amount = as_i64(np.round(base[group] * shrink))

    is_member = np.zeros(n, dtype=np.bool_)
    is_member[members] = True
    total = 2 * n
    along = rng.random(total) < 0.5
    edge = rng.integers(0, max(len(social.src), 1), total)
    a = np.where(along, social.src[edge], rng.integers(0, n, total))
    b = np.where(along, social.dst[edge], rng.integers(0, n, total))
    src, dst = np.minimum(a, b), np.maximum(a, b)
    keep = (src != dst) & ~is_member[src]
    src, dst = as_i64(src[keep]), as_i64(dst[keep])
    m = len(src)
    b_at = (REF_DAY - rng.integers(0, 90, m)) * DAY_SECONDS + rng.integers(0, 86_400, m)
    b_amount = lognormal_cents(rng, 1_500.0, 1.4, m)

    all_src = np.concatenate([c_src, src])
    all_dst = np.concatenate([c_dst, dst])
    all_at = np.concatenate([at, b_at])
    amount = np.concatenate([c_amount, b_amount])
    planted = np.concatenate([np.ones(len(c_src), np.bool_), np.zeros(m, np.bool_)])
    # One row per (src, dst, at): drop exact repeats (the background is random).
    order = np.lexsort((all_at, all_dst, all_src))
    sorted_key = np.stack([all_src[order], all_dst[order], all_at[order]], axis=1)
    repeat = np.zeros(len(order), dtype=np.bool_)
    repeat[1:] = np.all(sorted_key[1:] == sorted_key[:-1], axis=1)
    keep_rows = np.ones(len(order), dtype=np.bool_)
    keep_rows[order[repeat & ~planted[order]]] = False
    chrono = np.flatnonzero(keep_rows)
    chrono = chrono[np.lexsort((all_dst[chrono], all_src[chrono], all_at[chrono]))]
    row_of = np.full(len(all_src), -1, dtype=np.int64)
    row_of[chrono] = np.arange(len(chrono))
    cycle_rows = [
        row_of[np.arange(s, s + k)].tolist() for s, k in zip(starts, lengths, strict=True)
    ]
    final_at = all_at[chrono]
    return Transfers(
        src=as_i64(all_src[chrono]),
        dst=as_i64(all_dst[chrono]),
        amount_cents=as_i64(amount[chrono]),
        day=as_i64(final_at // DAY_SECONDS),
        second=as_i64(final_at % DAY_SECONDS),
        planted=planted[chrono],
        cycles=cycle_rows,
    )


def build_shareholdings(rng: np.random.Generator, people: People) -> Shareholdings:
    """Control groups (> 50% chains under one controller) plus sub-50% background stakes."""
    n = people.n
    companies = np.flatnonzero(people.is_company)
    persons = np.flatnonzero(~people.is_company)
    count = max(3, n // CUSTOMERS_PER_GROUP)
    sizes = as_i64(rng.integers(2, 7, count))
    company_controller = rng.random(count) < 0.4
    while sizes.sum() + company_controller.sum() > len(companies) // 2 and count > 1:
        count -= 1
        sizes, company_controller = sizes[:count], company_controller[:count]
    drawn = rng.choice(companies, int(sizes.sum() + company_controller.sum()), replace=False)
    group_companies = drawn[: int(sizes.sum())]
    controller_companies = drawn[int(sizes.sum()) :]
    controller_persons = rng.choice(persons, int((~company_controller).sum()), replace=False)
    controllers = np.empty(count, dtype=np.int64)
    controllers[company_controller] = controller_companies
    controllers[~company_controller] = controller_persons

    holders: list[int] = []
    owned: list[int] = []
    groups: list[tuple[int, list[int]]] = []
    offset = 0
    for g in range(count):
        tree = group_companies[offset : offset + sizes[g]].tolist()
        offset += int(sizes[g])
        nodes = [int(controllers[g])]
        for company in tree:
            # The parent is the controller or an earlier company: chains of control.
            holders.append(nodes[int(rng.integers(0, len(nodes)))])
            owned.append(int(company))
            nodes.append(int(company))
        groups.append((int(controllers[g]), [int(c) for c in tree]))
    c_holder = as_i64(np.array(holders, dtype=np.int64))
    c_company = as_i64(np.array(owned, dtype=np.int64))
    c_pct = as_i64(rng.integers(5_001, 9_501, len(c_company)))

    in_group = np.zeros(n, dtype=np.bool_)
    in_group[controllers] = True
    in_group[group_companies] = True
    eligible = np.flatnonzero(~in_group)
    taken = np.zeros(n, dtype=np.int64)
    taken[c_company] = c_pct
    targets = companies[rng.random(len(companies)) < 0.6]
    per_target = 1 + rng.binomial(3, 0.4, len(targets))
    company = np.repeat(targets, per_target)
    holder = eligible[rng.integers(0, len(eligible), len(company))]
    # Minority stakes: mostly small, none reaching 50%; scaled down where they would add up
    # to more than what the planted controller left over.
    pct = np.floor(1 + 4_898 * rng.beta(1.2, 2.5, len(company)))
    room = 10_000 - taken[company]
    group = np.repeat(np.arange(len(targets)), per_target)
    total = np.bincount(group, weights=pct, minlength=len(targets))[group]
    holders_here = per_target[group]
    scaled = np.floor(pct * (room - holders_here) / np.maximum(total, 1)) + 1
    pct = np.where(total > room, scaled, pct)
    pct = np.clip(pct, 1, 4_999).astype(np.int64)
    keep = holder != company
    holder, company, pct = holder[keep], company[keep], pct[keep]
    unique = first_occurrence(as_i64(holder * n + company))
    holder, company, pct = holder[unique], company[unique], pct[unique]

    all_holder = as_i64(np.concatenate([c_holder, holder]))
    all_company = as_i64(np.concatenate([c_company, company]))
    all_pct = as_i64(np.concatenate([c_pct, pct]))
    planted = np.concatenate([np.ones(len(c_holder), np.bool_), np.zeros(len(holder), np.bool_)])
    order = np.lexsort((all_holder, all_company))
    return Shareholdings(
        holder=all_holder[order],
        company=all_company[order],
        pct_hundredths=all_pct[order],
        planted=planted[order],
        groups=groups,
    )


def build_identifiers(rng: np.random.Generator, people: People) -> Identifiers:
    """USES rows from the customers' PII and devices, plus shared device and phone rings."""
    n = people.n
    persons = np.flatnonzero(~people.is_company)
    count = max(3, n // CUSTOMERS_PER_RING)
    sizes = as_i64(rng.integers(3, 9, count))
    while sizes.sum() > len(persons) // 4 and count > 1:
        count -= 1
        sizes = sizes[:count]
    ring_is_phone = rng.random(count) < 0.4
    members = as_i64(rng.choice(persons, int(sizes.sum()), replace=False))
    member_lists = _split(members, sizes)

    # Ring values are fresh: no customer outside the ring has them.
    phone = people.phone.copy()
    shared_phones = new_phones(rng, int(ring_is_phone.sum()), phone[phone > 0])
    own_devices = np.concatenate([people.device1, people.device2])
    shared_devices = new_devices(
        rng, int((~ring_is_phone).sum()), as_i64(own_devices[own_devices >= 0])
    )
    dev1 = np.flatnonzero(people.device1 >= 0)
    dev2 = np.flatnonzero(people.device2 >= 0)
    devices = as_i64(np.concatenate([people.device1[dev1], people.device2[dev2], shared_devices]))
    ring_customer: list[int] = []
    ring_device: list[int] = []
    raw_rings: list[tuple[str, int, list[int]]] = []
    i_phone = i_device = 0
    for is_phone, group in zip(ring_is_phone.tolist(), member_lists, strict=True):
        if is_phone:
            phone[group] = shared_phones[i_phone]
            raw_rings.append(("PHONE", int(shared_phones[i_phone]), group))
            i_phone += 1
        else:
            index = len(dev1) + len(dev2) + i_device
            ring_customer.extend(group)
            ring_device.extend([index] * len(group))
            raw_rings.append(("DEVICE", index, group))
            i_device += 1

    has_phone = np.flatnonzero(phone > 0)
    phones = sorted_unique(phone[has_phone])
    phone_index = np.searchsorted(phones, phone[has_phone])
    rings = [
        (kind, int(np.searchsorted(phones, value)) if kind == "PHONE" else value, group)
        for kind, value, group in raw_rings
    ]
    has_address = np.flatnonzero(people.address != "")
    has_email = np.flatnonzero(people.email != "")
    ring_customers = np.array(ring_customer, dtype=np.int64)
    customer = np.concatenate([has_phone, dev1, dev2, ring_customers, has_address, has_email])
    n_devices = len(dev1) + len(dev2) + len(ring_customers)
    kind = np.repeat(np.arange(4), [len(has_phone), n_devices, len(has_address), len(has_email)])
    value_index = np.concatenate(
        [
            phone_index,
            np.arange(len(dev1) + len(dev2)),
            np.array(ring_device, dtype=np.int64),
            np.arange(len(has_address)),
            np.arange(len(has_email)),
        ]
    )
    ring_member = np.zeros(n, dtype=np.bool_)
    ring_member[members] = True
    order = np.lexsort((value_index, kind, customer))
    return Identifiers(
        customer=as_i64(customer[order]),
        kind=as_i64(kind[order]),
        value_index=as_i64(value_index[order]),
        phones=as_i64(phones),
        devices=devices,
        addresses=people.address[has_address],
        emails=people.email[has_email],
        planted=ring_member[customer][order],
        rings=rings,
        phone=as_i64(phone),
    )


def plan_defaults(rng: np.random.Generator, people: People, guarantees: Guarantees) -> I64:
    """Day each customer defaulted (-1: never): one member of every other guarantee circle,
    and about 2 % of the other borrowers. Only borrowers default (a default is on a loan)."""
    defaulted = np.full(people.n, -1, dtype=np.int64)
    in_circle = np.zeros(people.n, dtype=np.bool_)
    for circle in guarantees.circles:
        in_circle[circle] = True
    for circle in guarantees.circles[::2]:
        defaulted[circle[int(rng.integers(0, len(circle)))]] = 0
    others = np.unique(guarantees.borrower[~in_circle[guarantees.borrower]])
    chosen = others[rng.random(len(others)) < 0.02]
    if len(chosen) == 0 and len(others):
        chosen = others[:1]
    defaulted[chosen] = 0
    planted = np.flatnonzero(defaulted == 0)
    defaulted[planted] = REF_DAY - rng.integers(10, 700, len(planted))
    return as_i64(defaulted)
