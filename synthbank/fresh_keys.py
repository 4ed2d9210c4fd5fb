"""Keys for planted bad rows that no clean row has (a duplicate key would be a second reason)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from synthbank.bad_rows import FreshKeys
from synthbank.emitted import LINK_KINDS, TIE_KINDS
from synthbank.marketing import PRODUCT_NAMES
from synthbank.people import new_devices
from synthbank.tables import Families, GeneratedBank, IdFamily
from synthbank.util import I64, as_i64, new_pairs


def _labels(ids: IdFamily, codes: I64) -> list[str]:
    """Ids of a family for 0-based codes, as Python strings."""
    return [str(v) for v in ids.array.take(pa.array(codes, type=pa.int64())).to_pylist()]


def fresh_key_makers(bank: GeneratedBank, ids: Families) -> dict[str, FreshKeys]:
    """Per file: how to give a planted bad row a key that no clean row has."""
    p = bank.people
    n = p.n
    cust = ids.customers

    def node(family: IdFamily, column: str, blank: tuple[str, ...] = ()) -> FreshKeys:
        return lambda rng, k: {column: family.beyond(k)} | {c: [""] * k for c in blank}

    def pairs(
        columns: tuple[str, str],
        families: tuple[IdFamily, IdFamily],
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

            # k distinct pairs whose code is not in ``existing``; no loops between customers
            a, b = new_pairs(
                rng,
                k,
                draw,
                encode,
                existing,
                distinct_ends=customer_pair,
                rounds=100,
                batch=lambda missing: 2 * missing + 8,
            )
            if len(a) < k:
                raise RuntimeError("could not find unused keys for bad rows")
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
        "consents": node(ids.consents, "consent_id"),
        "opt_outs": node(ids.opt_outs, "opt_out_id"),
        "complaints": node(ids.complaints, "complaint_id"),
        "contacts": node(ids.contacts, "contact_id"),
        "outcomes": lambda rng, k: {},  # the file has no rows to plant a bad one in
    }
