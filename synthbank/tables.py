"""The generated bank before rendering, its id families, and the 20 contract files as renderers
over its arrays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.contract import SPECS
from synthbank import render as r
from synthbank.communities import Communities
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
from synthbank.marketing import (
    PRODUCT_CATEGORY,
    PRODUCT_NAMES,
    Campaigns,
    Holdings,
    Referrals,
    product_eligibility,
)
from synthbank.outreach import (
    COMPLAINT_CATEGORIES,
    CONSENT_STATUSES,
    CONTACT_CHANNELS,
    CONTACT_PURPOSES,
    Outreach,
)
from synthbank.people import CITY_NAMES, Branches, People
from synthbank.risk import Guarantees, Identifiers, Shareholdings, Transfers
from synthbank.scenarios import Ecosystem
from synthbank.social import Social
from synthbank.util import I64, as_i64


@dataclass(frozen=True)
class GeneratedBank:
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
    outreach: Outreach  # consents, opt-outs, complaints, contacts (issue 12)


class IdFamily:
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


def id_ref(ids: IdFamily, codes: I64) -> r.Renderer:
    """Ids of a family by 0-based code (every row has one)."""
    return lambda ix: ids.array.take(pa.array(codes[ix], type=pa.int64()))


def optional_id_ref(ids: IdFamily, codes: I64) -> r.Renderer:
    """Ids of a family by code; -1 renders as empty."""
    return r.lookup(ids.array, codes)


@dataclass(frozen=True)
class Families:
    """The id families of the bank."""

    customers: IdFamily
    rms: IdFamily
    branches: IdFamily
    partners: IdFamily
    scenarios: IdFamily
    products: IdFamily
    campaigns: IdFamily
    consents: IdFamily
    opt_outs: IdFamily
    complaints: IdFamily
    contacts: IdFamily


def tables_of(bank: GeneratedBank, ids: Families) -> dict[str, r.Table]:
    """The 20 contract files as renderers over the generated arrays."""
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
                "branch_id": id_ref(ids.branches, p.branch),
                "rm_id": id_ref(ids.rms, p.rm),
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
                "branch_id": id_ref(ids.branches, bank.branches.rm_branch),
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
                "product_id": id_ref(ids.products, camp.product),
                "scenario_id": optional_id_ref(ids.scenarios, camp.scenario),
                "start": r.dates(camp.start),
                "end": r.dates(camp.end),
            },
        ),
        "social": table(
            "social",
            len(soc.src),
            {
                "src_id": id_ref(cust, soc.src),
                "dst_id": id_ref(cust, soc.dst),
                "kind": r.lookup(TIE_KINDS, soc.kind),
                "strength": r.thousandths(soc.strength),
                "since": r.dates(soc.since),
            },
        ),
        "holdings": table(
            "holdings",
            len(hold.customer),
            {
                "customer_id": id_ref(cust, hold.customer),
                "product_id": id_ref(ids.products, hold.product),
                "since": r.dates(hold.since),
                "balance": r.cents(hold.balance_cents),
                "status": r.lookup(HOLDING_STATUSES, hold.status),
            },
        ),
        "participation": table(
            "participation",
            len(eco.part_customer),
            {
                "customer_id": id_ref(cust, eco.part_customer),
                "scenario_id": id_ref(ids.scenarios, eco.part_scenario),
                "role": r.lookup(PARTICIPATION_ROLES, eco.part_role),
                "since": r.dates(eco.part_since),
                "activity": r.integers(eco.part_activity),
            },
        ),
        "partner_links": table(
            "partner_links",
            len(eco.link_customer),
            {
                "customer_id": id_ref(cust, eco.link_customer),
                "partner_id": id_ref(ids.partners, eco.link_partner),
                "kind": r.lookup(LINK_KINDS, eco.link_kind),
                "since": r.dates(eco.link_since),
            },
        ),
        "referrals": table(
            "referrals",
            len(ref.referrer),
            {
                "referrer_id": id_ref(cust, ref.referrer),
                "referee_id": id_ref(cust, ref.referee),
                "referred_at": r.dates(ref.at),
                "product_id": id_ref(ids.products, ref.product),
                "campaign_id": id_ref(ids.campaigns, ref.campaign),
                "converted": r.booleans(ref.converted),
            },
        ),
        "transfers": table(
            "transfers",
            len(tr.src),
            {
                "src_id": id_ref(cust, tr.src),
                "dst_id": id_ref(cust, tr.dst),
                "amount": r.cents(tr.amount_cents),
                "at": r.datetimes(tr.day, tr.second),
            },
            as_i64(np.flatnonzero(~tr.planted)),
        ),
        "guarantees": table(
            "guarantees",
            len(g.guarantor),
            {
                "guarantor_id": id_ref(cust, g.guarantor),
                "borrower_id": id_ref(cust, g.borrower),
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
                "holder_id": id_ref(cust, sh.holder),
                "company_id": id_ref(cust, sh.company),
                "pct": r.cents(sh.pct_hundredths),
            },
            as_i64(np.flatnonzero(~sh.planted)),
        ),
        "identifiers": table(
            "identifiers",
            len(identifiers.customer),
            {
                "customer_id": id_ref(cust, identifiers.customer),
                "kind": r.lookup(IDENTIFIER_KINDS, identifiers.kind),
                "value": lambda ix: value_parts.take(pa.array(value_row[ix], type=pa.int64())),
            },
            as_i64(np.flatnonzero(~identifiers.planted)),
        ),
        **outreach_tables(bank.outreach, ids, table),
    }


def outreach_tables(
    o: Outreach, ids: Families, table: Callable[[str, int, dict[str, r.Renderer]], r.Table]
) -> dict[str, r.Table]:
    """The four files suppression reads, and the (empty) outcomes file."""
    cust = ids.customers
    return {
        "consents": table(
            "consents",
            len(o.consent_customer),
            {
                "consent_id": lambda ix: r.take(ids.consents.array, ix),
                "customer_id": id_ref(cust, o.consent_customer),
                "purpose": r.lookup(CONTACT_PURPOSES, o.consent_purpose),
                "channel": r.lookup(CONTACT_CHANNELS, o.consent_channel),
                "status": r.lookup(CONSENT_STATUSES, o.consent_status),
                "day": r.dates(o.consent_day),
            },
        ),
        "opt_outs": table(
            "opt_outs",
            len(o.opt_customer),
            {
                "opt_out_id": lambda ix: r.take(ids.opt_outs.array, ix),
                "customer_id": id_ref(cust, o.opt_customer),
                "channel": r.lookup(CONTACT_CHANNELS, o.opt_channel),  # -1: every channel
                "day": r.dates(o.opt_day),
            },
        ),
        "complaints": table(
            "complaints",
            len(o.complaint_customer),
            {
                "complaint_id": lambda ix: r.take(ids.complaints.array, ix),
                "customer_id": id_ref(cust, o.complaint_customer),
                "day": r.dates(o.complaint_day),
                "category": r.lookup(COMPLAINT_CATEGORIES, o.complaint_category),
            },
        ),
        "contacts": table(
            "contacts",
            len(o.contact_customer),
            {
                "contact_id": lambda ix: r.take(ids.contacts.array, ix),
                "customer_id": id_ref(cust, o.contact_customer),
                "channel": r.lookup(CONTACT_CHANNELS, o.contact_channel),
                "day": r.dates(o.contact_day),
                "purpose": r.lookup(CONTACT_PURPOSES, o.contact_purpose),
                "campaign_id": optional_id_ref(ids.campaigns, o.contact_campaign),
            },
        ),
        # outcomes name rows of list versions, which are drawn in the database, never
        # generated: the file is written with its header only
        "outcomes": table("outcomes", 0, {c: _no_rows for c in SPECS["outcomes"].columns}),
    }


def _no_rows(ix: Any) -> pa.Array:
    return pa.nulls(0, pa.string())
