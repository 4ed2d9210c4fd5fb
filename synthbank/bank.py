"""The synthetic bank end to end: generate every stage, render the 15 files and the ground truth."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.contract import FILE_ORDER, SPECS
from synthbank import render as r
from synthbank.bad_rows import BadRow, FreshKeys, plan_bad_rows
from synthbank.communities import Communities, plan_communities
from synthbank.emitted import (
    CUSTOMER_KINDS,
    HOLDING_STATUSES,
    IDENTIFIER_KINDS,
    LINK_KINDS,
    PARTICIPATION_ROLES,
    PARTNER_CATEGORIES,
    PRODUCT_CATEGORIES,
    SCENARIO_KINDS,
    TIE_KINDS,
)
from synthbank.limits import MAX_BAD_ROW_RATE, MIN_CUSTOMERS, InvalidBankSpecError
from synthbank.marketing import (
    PRODUCT_CATEGORY,
    PRODUCT_NAMES,
    Campaigns,
    Holdings,
    Referrals,
    adopt_products,
    build_holdings,
    plan_campaigns,
    product_eligibility,
    referral_cascades,
)
from synthbank.people import CITY_NAMES, Branches, People, generate_people, new_devices
from synthbank.risk import (
    FUND_CYCLE_WINDOW_DAYS,
    Guarantees,
    Identifiers,
    Shareholdings,
    Transfers,
    build_guarantees,
    build_identifiers,
    build_shareholdings,
    build_transfers,
    plan_defaults,
)
from synthbank.scenarios import Ecosystem, build_ecosystem
from synthbank.social import Social, build_social
from synthbank.util import DAY_SECONDS, I64, as_i64, first_occurrence, stream
from synthbank.writer import FileFormat, line_bytes, write_table

GROUND_TRUTH_DIR: Final = "ground_truth"


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_bank` wrote."""

    out_dir: Path
    customers: int
    seed: int
    file_format: str
    rows: dict[str, int]  # data rows written per contract file (clean + planted bad rows)
    bad_rows: dict[str, int]  # planted bad rows per contract file
    ground_truth: dict[str, int]  # communities, influencers, circles, rings, cycles, groups, ...
    elapsed_seconds: float


@dataclass(frozen=True)
class _Bank:
    """Everything generated, before rendering."""

    comm: Communities
    people: People
    branches: Branches
    eco: Ecosystem
    social: Social
    holdings: Holdings
    campaigns: Campaigns
    referrals: Referrals
    guarantees: Guarantees
    identifiers: Identifiers
    transfers: Transfers
    shares: Shareholdings
    defaulted: I64  # day each customer defaulted, -1 = never


class _Ids:
    """An id family (``C0000001`` ...) and a counter for ids beyond the generated ones."""

    def __init__(self, prefix: str, count: int, minimum_width: int) -> None:
        self.prefix = prefix
        self.width = r.id_width(count, minimum_width)
        self.array = r.make_ids(prefix, count, self.width)
        self._next = count + 1

    def label(self, index: int) -> str:
        """The id of a 0-based index."""
        return r.id_label(self.prefix, index + 1, self.width)

    def beyond(self, k: int) -> list[str]:
        """``k`` ids no generated row uses (and no other call returns)."""
        first = self._next
        self._next += k
        if self._next >= 10**self.width:
            raise ValueError(f"too many bad rows for {self.prefix} ids of width {self.width}")
        return [r.id_label(self.prefix, i, self.width) for i in range(first, first + k)]


def _ref(ids: _Ids, codes: I64) -> r.Renderer:
    """Ids of a family by 0-based code (every row has one)."""
    return lambda ix: ids.array.take(pa.array(codes[ix], type=pa.int64()))


def _optional_ref(ids: _Ids, codes: I64) -> r.Renderer:
    """Ids of a family by code; -1 renders as empty."""
    return r.lookup(ids.array, codes)


def _simulate(n: int, seed: int, ties_per_customer: float, step: Callable[[str], None]) -> _Bank:
    """Run every generation stage, each on its own random stream."""
    step("communities")
    comm = plan_communities(stream(seed, "communities"), n)
    step("people")
    people, branches = generate_people(stream(seed, "people"), comm.city, comm.of)
    step("ecosystem")
    eco = build_ecosystem(stream(seed, "ecosystem"), comm, people)
    step("social")
    social = build_social(stream(seed, "social"), comm, people, eco, ties_per_customer)
    step("holdings")
    holdings_rng = stream(seed, "holdings")
    held = adopt_products(holdings_rng, people, eco, social)
    campaigns = plan_campaigns(stream(seed, "campaigns"), n, eco)
    step("referrals")
    referrals = referral_cascades(stream(seed, "referrals"), people, social, campaigns)
    holdings = build_holdings(holdings_rng, people, held, referrals)
    step("risk")
    guarantees = build_guarantees(stream(seed, "guarantees"), people)
    identifiers = build_identifiers(stream(seed, "identifiers"), people)
    transfers = build_transfers(stream(seed, "transfers"), people, social)
    shares = build_shareholdings(stream(seed, "shareholdings"), people)
    defaulted = plan_defaults(stream(seed, "defaults"), people, guarantees)
    return _Bank(
        comm=comm,
        people=people,
        branches=branches,
        eco=eco,
        social=social,
        holdings=holdings,
        campaigns=campaigns,
        referrals=referrals,
        guarantees=guarantees,
        identifiers=identifiers,
        transfers=transfers,
        shares=shares,
        defaulted=defaulted,
    )


@dataclass(frozen=True)
class _Families:
    """The id families of the bank."""

    customers: _Ids
    rms: _Ids
    branches: _Ids
    partners: _Ids
    scenarios: _Ids
    products: _Ids
    campaigns: _Ids


def _tables(bank: _Bank, ids: _Families) -> dict[str, r.Table]:
    """The 15 contract files as renderers over the generated arrays."""
    p, eco, soc = bank.people, bank.eco, bank.social
    cust = ids.customers

    def table(
        name: str, n: int, columns: dict[str, r.Renderer], pool: I64 | None = None
    ) -> r.Table:
        return r.Table(SPECS[name], n, columns, as_i64(np.arange(n)) if pool is None else pool)

    identifiers = bank.identifiers
    phone = identifiers.phone
    value_parts = pa.concat_arrays(
        [
            pc.cast(pa.array(identifiers.phones), pa.string()),
            r.hex16(identifiers.devices)(slice(None)),
            r.arrow_strings(identifiers.addresses),
            r.arrow_strings(identifiers.emails),
        ]
    )
    value_base = np.cumsum(
        [0, len(identifiers.phones), len(identifiers.devices), len(identifiers.addresses)]
    )
    value_row = as_i64(value_base[identifiers.kind] + identifiers.value_index)
    n_rm = len(bank.branches.rm_branch)
    camp, ref, hold, tr, g, sh = (
        bank.campaigns,
        bank.referrals,
        bank.holdings,
        bank.transfers,
        bank.guarantees,
        bank.shares,
    )
    return {
        "customers": table(
            "customers",
            p.n,
            {
                "customer_id": lambda ix: r.take(cust.array, ix),
                "kind": r.lookup(CUSTOMER_KINDS, p.is_company.astype(np.int64)),
                "name": r.strings(p.name),
                "city": r.lookup(CITY_NAMES, p.city),
                "branch_id": _ref(ids.branches, p.branch),
                "rm_id": _ref(ids.rms, p.rm),
                "aum": r.cents(p.aum_cents),
                "risk_rating": r.integers(p.risk_rating),
                "consent_marketing": r.booleans(p.consent),
                "onboarded_at": r.dates(p.onboarded),
                "last_active_at": r.dates(p.last_active),
                "phone": r.blank_where(phone == 0, r.integers(phone)),
                "id_number": r.strings(p.id_number),
                "email": r.strings(p.email),
                "birth_date": r.blank_where(p.is_company, r.dates(p.birth)),
                "defaulted_at": r.blank_where(
                    bank.defaulted < 0, r.dates(np.maximum(bank.defaulted, 0))
                ),
            },
        ),
        "relationship_managers": table(
            "relationship_managers",
            n_rm,
            {
                "rm_id": lambda ix: r.take(ids.rms.array, ix),
                "name": r.strings(bank.branches.rm_name),
                "branch_id": _ref(ids.branches, bank.branches.rm_branch),
            },
        ),
        "partners": table(
            "partners",
            eco.n,
            {
                "partner_id": lambda ix: r.take(ids.partners.array, ix),
                "name": r.strings(eco.name),
                "category": r.lookup(PARTNER_CATEGORIES, eco.category),
            },
        ),
        "products": table(
            "products",
            len(PRODUCT_NAMES),
            {
                "product_id": lambda ix: r.take(ids.products.array, ix),
                "name": r.strings(PRODUCT_NAMES),
                "category": r.lookup(PRODUCT_CATEGORIES, PRODUCT_CATEGORY),
                **{
                    column: r.strings(np.array(values))
                    for column, values in product_eligibility().items()
                },
            },
        ),
        "scenarios": table(
            "scenarios",
            eco.n,
            {
                "scenario_id": lambda ix: r.take(ids.scenarios.array, ix),
                "name": r.strings(eco.scenario_name),
                "kind": r.lookup(SCENARIO_KINDS, eco.category),
                "partner_id": lambda ix: r.take(ids.partners.array, ix),
            },
        ),
        "campaigns": table(
            "campaigns",
            len(camp.product),
            {
                "campaign_id": lambda ix: r.take(ids.campaigns.array, ix),
                "name": r.strings(camp.name),
                "product_id": _ref(ids.products, camp.product),
                "scenario_id": _optional_ref(ids.scenarios, camp.scenario),
                "start": r.dates(camp.start),
                "end": r.dates(camp.end),
            },
        ),
        "social": table(
            "social",
            len(soc.src),
            {
                "src_id": _ref(cust, soc.src),
                "dst_id": _ref(cust, soc.dst),
                "kind": r.lookup(TIE_KINDS, soc.kind),
                "strength": r.thousandths(soc.strength),
                "since": r.dates(soc.since),
            },
        ),
        "holdings": table(
            "holdings",
            len(hold.customer),
            {
                "customer_id": _ref(cust, hold.customer),
                "product_id": _ref(ids.products, hold.product),
                "since": r.dates(hold.since),
                "balance": r.cents(hold.balance_cents),
                "status": r.lookup(HOLDING_STATUSES, hold.status),
            },
        ),
        "participation": table(
            "participation",
            len(eco.part_customer),
            {
                "customer_id": _ref(cust, eco.part_customer),
                "scenario_id": _ref(ids.scenarios, eco.part_scenario),
                "role": r.lookup(PARTICIPATION_ROLES, eco.part_role),
                "since": r.dates(eco.part_since),
                "activity": r.integers(eco.part_activity),
            },
        ),
        "partner_links": table(
            "partner_links",
            len(eco.link_customer),
            {
                "customer_id": _ref(cust, eco.link_customer),
                "partner_id": _ref(ids.partners, eco.link_partner),
                "kind": r.lookup(LINK_KINDS, eco.link_kind),
                "since": r.dates(eco.link_since),
            },
        ),
        "referrals": table(
            "referrals",
            len(ref.referrer),
            {
                "referrer_id": _ref(cust, ref.referrer),
                "referee_id": _ref(cust, ref.referee),
                "referred_at": r.dates(ref.at),
                "product_id": _ref(ids.products, ref.product),
                "campaign_id": _ref(ids.campaigns, ref.campaign),
                "converted": r.booleans(ref.converted),
            },
        ),
        "transfers": table(
            "transfers",
            len(tr.src),
            {
                "src_id": _ref(cust, tr.src),
                "dst_id": _ref(cust, tr.dst),
                "amount": r.cents(tr.amount_cents),
                "at": r.datetimes(tr.day, tr.second),
            },
            as_i64(np.flatnonzero(~tr.planted)),
        ),
        "guarantees": table(
            "guarantees",
            len(g.guarantor),
            {
                "guarantor_id": _ref(cust, g.guarantor),
                "borrower_id": _ref(cust, g.borrower),
                "amount": r.cents(g.amount_cents),
                "start": r.dates(g.start),
                # a planted circle is live: its guarantees run until released (open end), so
                # the ground truth holds on any as-of date; background ones end as drawn
                "end": r.blank_where(g.planted, r.dates(g.end)),
            },
            as_i64(np.flatnonzero(~g.planted)),
        ),
        "shareholdings": table(
            "shareholdings",
            len(sh.holder),
            {
                "holder_id": _ref(cust, sh.holder),
                "company_id": _ref(cust, sh.company),
                "pct": r.cents(sh.pct_hundredths),
            },
            as_i64(np.flatnonzero(~sh.planted)),
        ),
        "identifiers": table(
            "identifiers",
            len(identifiers.customer),
            {
                "customer_id": _ref(cust, identifiers.customer),
                "kind": r.lookup(IDENTIFIER_KINDS, identifiers.kind),
                "value": lambda ix: value_parts.take(pa.array(value_row[ix], type=pa.int64())),
            },
            as_i64(np.flatnonzero(~identifiers.planted)),
        ),
    }


def _fresh_codes(
    rng: np.random.Generator,
    k: int,
    draw: Callable[[np.random.Generator, int], tuple[I64, I64]],
    encode: Callable[[I64, I64], I64],
    existing: I64,
    distinct_ends: bool,
) -> tuple[I64, I64]:
    """``k`` distinct pairs whose code is not in ``existing`` (sorted); no loops if asked."""
    got_a: list[I64] = []
    got_b: list[I64] = []
    seen = existing
    have = 0
    for _ in range(100):
        if have >= k:
            break
        a, b = draw(rng, 2 * (k - have) + 8)
        code = encode(a, b)
        pos = np.minimum(np.searchsorted(seen, code), max(len(seen) - 1, 0))
        fresh = first_occurrence(code)
        if distinct_ends:
            fresh &= a != b
        if len(seen):
            fresh &= seen[pos] != code
        a, b, code = a[fresh][: k - have], b[fresh][: k - have], code[fresh][: k - have]
        got_a.append(a)
        got_b.append(b)
        have += len(a)
        seen = np.sort(np.concatenate([seen, code]))
    if have < k:
        raise RuntimeError("could not find unused keys for bad rows")
    empty = np.zeros(0, dtype=np.int64)
    return (
        as_i64(np.concatenate(got_a)) if got_a else empty,
        as_i64(np.concatenate(got_b)) if got_b else empty,
    )


def _labels(ids: _Ids, codes: I64) -> list[str]:
    """Ids of a family for 0-based codes, as Python strings."""
    return [str(v) for v in ids.array.take(pa.array(codes, type=pa.int64())).to_pylist()]


def _fresh_key_makers(bank: _Bank, ids: _Families) -> dict[str, FreshKeys]:
    """Per file: how to give a planted bad row a key that no clean row has."""
    p = bank.people
    n = p.n
    cust = ids.customers

    def node(family: _Ids, column: str, blank: tuple[str, ...] = ()) -> FreshKeys:
        return lambda rng, k: {column: family.beyond(k)} | {c: [""] * k for c in blank}

    def pairs(
        columns: tuple[str, str],
        families: tuple[_Ids, _Ids],
        draw: Callable[[np.random.Generator, int], tuple[I64, I64]],
        existing_a: I64,
        existing_b: I64,
        size_b: int,
        extra: Callable[[np.random.Generator, int], dict[str, list[str]]] | None = None,
    ) -> FreshKeys:
        def make(rng: np.random.Generator, k: int) -> dict[str, list[str]]:
            existing = np.sort(as_i64(existing_a * size_b + existing_b))
            customer_pair = families[0] is families[1]  # both ends customers: no self-loops

            def encode(x: I64, y: I64) -> I64:
                return as_i64(x * size_b + y)

            a, b = _fresh_codes(rng, k, draw, encode, existing, customer_pair)
            out = {columns[0]: _labels(families[0], a), columns[1]: _labels(families[1], b)}
            if extra is not None:
                out.update(extra(rng, k))
            return out

        return make

    def uniform(pool_a: I64, pool_b: I64, ordered: bool = False) -> Callable[..., tuple[I64, I64]]:
        def draw(rng: np.random.Generator, k: int) -> tuple[I64, I64]:
            a = pool_a[rng.integers(0, len(pool_a), k)]
            b = pool_b[rng.integers(0, len(pool_b), k)]
            if ordered:  # lower index first: keeps a hypothetically accepted row acyclic
                return as_i64(np.minimum(a, b)), as_i64(np.maximum(a, b))
            return as_i64(a), as_i64(b)

        return draw

    everyone = as_i64(np.arange(n))
    soc, hold, eco, ref = bank.social, bank.holdings, bank.eco, bank.referrals
    # Unordered social pairs: store both orientations so that neither is reused.
    social_a = np.concatenate([soc.src, soc.dst])
    social_b = np.concatenate([soc.dst, soc.src])
    in_cycle = np.zeros(n, dtype=np.bool_)
    for rows in bank.transfers.cycles:
        in_cycle[bank.transfers.src[rows]] = True
    in_circle = np.zeros(n, dtype=np.bool_)
    for circle in bank.guarantees.circles:
        in_circle[circle] = True
    in_group = np.zeros(n, dtype=np.bool_)
    for controller, owned in bank.shares.groups:
        in_group[[controller, *owned]] = True
    companies = as_i64(np.flatnonzero(p.is_company))
    n_links = len(LINK_KINDS)

    def tie_kind(rng: np.random.Generator, k: int) -> dict[str, list[str]]:
        return {"kind": [TIE_KINDS[i] for i in rng.integers(0, len(TIE_KINDS), k)]}

    def link_kind(rng: np.random.Generator, k: int) -> dict[str, list[str]]:
        return {"kind": [LINK_KINDS[i] for i in rng.integers(0, n_links, k)]}

    def device(rng: np.random.Generator, k: int) -> dict[str, list[str]]:
        values = new_devices(rng, k, bank.identifiers.devices)
        return {"kind": ["DEVICE"] * k, "value": [f"{int(v):016X}" for v in values]}

    return {
        # A planted customer row shares no PII with a real one, even if a loader let it in.
        "customers": node(cust, "customer_id", ("phone", "id_number", "email")),
        "relationship_managers": node(ids.rms, "rm_id"),
        "partners": node(ids.partners, "partner_id"),
        "products": node(ids.products, "product_id"),
        "scenarios": node(ids.scenarios, "scenario_id"),
        "campaigns": node(ids.campaigns, "campaign_id"),
        "social": pairs(
            ("src_id", "dst_id"),
            (cust, cust),
            uniform(everyone, everyone),
            social_a,
            social_b,
            n,
            tie_kind,
        ),
        "holdings": pairs(
            ("customer_id", "product_id"),
            (cust, ids.products),
            uniform(everyone, as_i64(np.arange(len(PRODUCT_NAMES)))),
            hold.customer,
            hold.product,
            len(PRODUCT_NAMES),
        ),
        "participation": pairs(
            ("customer_id", "scenario_id"),
            (cust, ids.scenarios),
            uniform(everyone, as_i64(np.arange(eco.n))),
            eco.part_customer,
            eco.part_scenario,
            eco.n,
        ),
        # Any (customer, partner) pair not linked at all is fresh for every link kind.
        "partner_links": pairs(
            ("customer_id", "partner_id"),
            (cust, ids.partners),
            uniform(everyone, as_i64(np.arange(eco.n))),
            eco.link_customer,
            eco.link_partner,
            eco.n,
            link_kind,
        ),
        "referrals": pairs(
            ("referrer_id", "referee_id"),
            (cust, cust),
            uniform(everyone, everyone),
            ref.referrer,
            ref.referee,
            n,
        ),
        "transfers": pairs(
            ("src_id", "dst_id"),
            (cust, cust),
            uniform(as_i64(np.flatnonzero(~in_cycle)), as_i64(np.flatnonzero(~in_cycle)), True),
            bank.transfers.src,
            bank.transfers.dst,
            n,
        ),
        "guarantees": pairs(
            ("guarantor_id", "borrower_id"),
            (cust, cust),
            uniform(as_i64(np.flatnonzero(~in_circle)), as_i64(np.flatnonzero(~in_circle)), True),
            bank.guarantees.guarantor,
            bank.guarantees.borrower,
            n,
        ),
        "shareholdings": pairs(
            ("holder_id", "company_id"),
            (cust, cust),
            uniform(as_i64(np.flatnonzero(~in_group)), companies),
            bank.shares.holder,
            bank.shares.company,
            n,
        ),
        "identifiers": device,
    }


def _write_csv(path: Path, header: tuple[str, ...], arrays: list[Any]) -> None:
    """A small all-text CSV from Arrow string arrays (ground truth files)."""
    with path.open("wb") as handle:
        handle.write((",".join(header) + "\n").encode("utf-8"))
        if len(arrays[0]):
            lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*arrays, ","), "\n", "")
            data, offsets = line_bytes(lines)
            handle.write(data[: offsets[-1] - offsets[0]])


def _jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Write records as JSON Lines (UTF-8, no ASCII escaping)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _timestamp(seconds: int) -> str:
    """ISO date-time of seconds since 1970-01-01 (no time zone, like the transfers)."""
    day = np.datetime64(seconds // DAY_SECONDS, "D")
    rest = seconds % DAY_SECONDS
    return f"{day}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"


def _write_ground_truth(
    folder: Path,
    bank: _Bank,
    ids: _Families,
    bad: dict[str, list[BadRow]],
    extension: str,
) -> dict[str, int]:
    """Write ground_truth/ and return the counts of what was planted."""
    folder.mkdir(parents=True, exist_ok=True)
    label = ids.customers.label
    comm, soc = bank.comm, bank.social
    _write_csv(
        folder / "communities.csv",
        ("customer_id", "community_id"),
        [ids.customers.array, pc.cast(pa.array(comm.of + 1), pa.string())],
    )
    degree = soc.degree[soc.influencers]
    _write_csv(
        folder / "influencers.csv",
        ("customer_id", "planted_degree", "rank"),
        [
            ids.customers.array.take(pa.array(soc.influencers)),
            pc.cast(pa.array(degree), pa.string()),
            pc.cast(pa.array(np.arange(1, len(degree) + 1)), pa.string()),
        ],
    )
    _jsonl(
        folder / "guarantee_circles.jsonl",
        [
            {
                "circle_id": i + 1,
                "kind": "MUTUAL" if len(circle) == 2 else "CIRCLE",
                "length": len(circle),
                "members": [label(c) for c in circle],  # guarantor -> next ... -> first
            }
            for i, circle in enumerate(bank.guarantees.circles)
        ],
    )
    idents = bank.identifiers
    _jsonl(
        folder / "identifier_rings.jsonl",
        [
            {
                "ring_id": i + 1,
                "kind": kind,
                "value": str(int(idents.phones[value]))
                if kind == "PHONE"
                else f"{int(idents.devices[value]):016X}",
                "members": [label(c) for c in sorted(group)],
            }
            for i, (kind, value, group) in enumerate(idents.rings)
        ],
    )
    tr = bank.transfers
    _jsonl(
        folder / "fund_cycles.jsonl",
        [
            {
                "cycle_id": i + 1,
                "length": len(rows),
                "members": [label(int(tr.src[row])) for row in rows],
                "transfers": [
                    {
                        "src_id": label(int(tr.src[row])),
                        "dst_id": label(int(tr.dst[row])),
                        "amount": f"{tr.amount_cents[row] // 100}.{tr.amount_cents[row] % 100:02d}",
                        "at": _timestamp(int(tr.day[row] * DAY_SECONDS + tr.second[row])),
                    }
                    for row in rows
                ],
                "window_days": FUND_CYCLE_WINDOW_DAYS,
            }
            for i, rows in enumerate(tr.cycles)
        ],
    )
    sh = bank.shares
    planted_rows = np.flatnonzero(sh.planted)
    stake = {
        (int(sh.holder[i]), int(sh.company[i])): int(sh.pct_hundredths[i]) for i in planted_rows
    }
    groups = []
    for i, (controller, companies) in enumerate(sh.groups):
        edges = [(h, c, v) for (h, c), v in stake.items() if c in set(companies)]
        groups.append(
            {
                "group_id": i + 1,
                "controller": label(controller),
                "controller_kind": "COMPANY" if bank.people.is_company[controller] else "PERSON",
                "companies": [label(c) for c in companies],
                "edges": [
                    {
                        "holder_id": label(h),
                        "company_id": label(c),
                        "pct": f"{v // 100}.{v % 100:02d}",
                    }
                    for h, c, v in edges
                ],
            }
        )
    _jsonl(folder / "control_groups.jsonl", groups)
    defaulted = np.flatnonzero(bank.defaulted >= 0)
    in_circle = np.zeros(bank.people.n, dtype=np.bool_)
    for circle in bank.guarantees.circles:
        in_circle[circle] = True
    with (folder / "defaulted_borrowers.csv").open("w", encoding="utf-8", newline="\n") as out:
        out.write("customer_id,defaulted_at,in_circle\n")
        for c in defaulted.tolist():
            day = np.datetime64(int(bank.defaulted[c]), "D")
            out.write(f"{label(c)},{day},{'true' if in_circle[c] else 'false'}\n")
    with (folder / "bad_rows.csv").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("file,line,reason_code\n")
        for name in FILE_ORDER:
            for row in bad[name]:
                handle.write(f"{name}.{extension},{row.line},{row.reason.value}\n")
    counts = {
        "communities": len(comm.sizes),
        "influencers": len(soc.influencers),
        "guarantee_circles": len(bank.guarantees.circles),
        "identifier_rings": len(idents.rings),
        "fund_cycles": len(tr.cycles),
        "control_groups": len(sh.groups),
        "defaulted_borrowers": len(defaulted),
        "bad_rows": sum(len(v) for v in bad.values()),
    }
    return counts


def generator_fingerprint() -> str:
    """A hash of the generator's own source: a bank written by other code has another one.

    ``crkg demo`` compares it with the reused bank's ``summary.json`` and regenerates a bank
    that an older generator wrote (the same seed gives other data once the code changed).
    """
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def bank_is_current(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a complete bank written by this generator."""
    summary = out_dir / GROUND_TRUTH_DIR / "summary.json"
    if not (out_dir / "customers.csv").exists() or not summary.exists():
        return False
    try:
        written = json.loads(summary.read_text(encoding="utf-8")).get("generator")
    except (OSError, ValueError):
        return False
    return bool(written == generator_fingerprint())


def generate_bank(
    out_dir: Path,
    *,
    customers: int,
    seed: int = 42,
    ties_per_customer: float = 10.0,
    bad_row_rate: float = 0.0,
    file_format: Literal["csv", "jsonl", "parquet"] = "csv",
    progress: Callable[[str, int, int], None] | None = None,
) -> GenerationSummary:
    """Write a synthetic bank's exports (input contract v1) and the ground truth behind them.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing). Receives the 15 contract files
        (``customers.csv`` ...) and a ``ground_truth/`` folder.
    customers
        Number of customers (at least 200); about 10% are companies.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files.
    ties_per_customer
        Mean number of social ties per customer (mean degree; rows = customers x ties / 2).
    bad_row_rate
        Share of extra, invalid rows planted in every file (0 to 0.2); see
        :mod:`synthbank.bad_rows` for the reason codes and rules.
    file_format
        ``"csv"``, ``"jsonl"`` or ``"parquet"``; same columns and text values in each.
    progress
        Called as ``progress(stage, done, total)``: planning stages, then
        ``"write:<file>"`` with rows written so far.

    Returns
    -------
    GenerationSummary
        Rows written per file, planted bad rows, ground-truth counts and elapsed time.

    Notes
    -----
    Every value is text in every format: CSV has a header and no quoting; JSON Lines and
    Parquet (all columns ``string``) write missing values as null. All dates derive from the
    fixed reference date 2026-06-30, never from the clock. ``ground_truth/`` holds
    ``communities.csv``, ``influencers.csv``, ``guarantee_circles.jsonl``,
    ``identifier_rings.jsonl``, ``fund_cycles.jsonl``, ``control_groups.jsonl``,
    ``defaulted_borrowers.csv`` (customer_id, defaulted_at, in_circle), ``bad_rows.csv``
    (file, line, reason_code) and ``summary.json`` (counts).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = generate_bank(Path(tmp), customers=1_000, seed=7)
    ...     (Path(tmp) / "customers.csv").read_text(encoding="utf-8").splitlines()[0]
    'customer_id,kind,name,city,branch_id,rm_id,aum,risk_rating,consent_marketing,onboarded_at,last_active_at,phone,id_number,email,birth_date,defaulted_at'
    >>> summary.rows["customers"]
    1000
    """
    started = time.perf_counter()
    if customers < MIN_CUSTOMERS:
        raise InvalidBankSpecError(f"customers must be at least {MIN_CUSTOMERS}")
    if seed < 0:
        raise InvalidBankSpecError("seed must be non-negative")
    if not 0.0 < ties_per_customer <= 200.0:
        raise InvalidBankSpecError("ties_per_customer must be in (0, 200]")
    if not 0.0 <= bad_row_rate <= MAX_BAD_ROW_RATE:
        raise InvalidBankSpecError(f"bad_row_rate must be in [0, {MAX_BAD_ROW_RATE}]")
    if file_format not in ("csv", "jsonl", "parquet"):
        raise InvalidBankSpecError(f"unknown file format {file_format!r}")
    fmt: FileFormat = file_format
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = ("communities", "people", "ecosystem", "social", "holdings", "referrals", "risk")
    done = [0]

    def step(name: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(name, done[0], len(stages))

    bank = _simulate(customers, seed, ties_per_customer, step)
    eco = bank.eco
    ids = _Families(
        customers=_Ids("C", customers, 7),
        rms=_Ids("RM", len(bank.branches.rm_branch), 4),
        branches=_Ids("BR", len(bank.branches.city), 4),
        partners=_Ids("P", eco.n, 5),
        scenarios=_Ids("S", eco.n, 5),
        products=_Ids("PRD", len(PRODUCT_NAMES), 3),
        campaigns=_Ids("CP", len(bank.campaigns.product), 4),
    )
    tables = _tables(bank, ids)
    fresh = _fresh_key_makers(bank, ids)
    families = {
        "customers": ids.customers,
        "relationship_managers": ids.rms,
        "partners": ids.partners,
        "products": ids.products,
        "scenarios": ids.scenarios,
        "campaigns": ids.campaigns,
    }

    def dangling(target: str, k: int) -> list[str]:
        return families[target].beyond(k)

    bad_rng = stream(seed, "bad_rows")
    bad = {
        name: plan_bad_rows(
            tables[name], bad_rng, bad_row_rate, fmt == "csv", fresh[name], dangling
        )
        for name in FILE_ORDER
    }
    rows: dict[str, int] = {}
    ext = fmt
    for name in FILE_ORDER:
        rows[name] = write_table(out_dir / f"{name}.{ext}", tables[name], bad[name], fmt, progress)
    counts = _write_ground_truth(out_dir / GROUND_TRUTH_DIR, bank, ids, bad, ext)
    if progress is not None:
        progress("ground_truth", 1, 1)
    summary_counts = {
        **counts,
        "rows": rows,
        "bad_rows_per_file": {k: len(v) for k, v in bad.items()},
    }
    (out_dir / GROUND_TRUTH_DIR / "summary.json").write_text(
        json.dumps(
            {
                "customers": customers,
                "seed": seed,
                "file_format": fmt,
                "generator": generator_fingerprint(),
                **summary_counts,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return GenerationSummary(
        out_dir=out_dir,
        customers=customers,
        seed=seed,
        file_format=fmt,
        rows=rows,
        bad_rows={k: len(v) for k, v in bad.items()},
        ground_truth=counts,
        elapsed_seconds=time.perf_counter() - started,
    )
