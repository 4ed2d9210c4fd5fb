"""Risk linkages (guarantee circles, shared-identifier rings, fund-flow cycles, control groups)
and guarantee exposure: in-process searches over the edges read for each.

A linkage is one ``RiskLinkage`` row whose id is derived from its kind and members, so a
re-run finds the same ids; money is integer minor units. :func:`exposure_of` is the bounded
exposure of one customer the API answers per request (the guarantees around it are read by
Cypher, the sums computed here, in a worker thread).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

from algorithms.context import Computed, RunContext
from algorithms.graphdata import GraphData
from algorithms.inproc import cycles, exposures, risk
from algorithms.params import (
    ControlGroupParams,
    ExposureParams,
    FundCycleParams,
    GuaranteeCircleParams,
    IdentifierRingParams,
)
from graph.model import RiskLinkageKind
from graph.read_models import GuaranteeEdge


class LinkageSummary(TypedDict):
    found: int
    sizes: dict[int, int]  # members -> linkages of that size


def _linkage_id(kind: str, members: Sequence[str]) -> str:
    digest = hashlib.blake2b("|".join([kind, *members]).encode("utf-8"), digest_size=10)
    return f"{kind}:{digest.hexdigest()}"


def linkage_row(
    kind: RiskLinkageKind,
    members: Sequence[str],
    *,
    ordered: bool,
    subtype: str | None = None,
    score: float | None = None,
    roles: Sequence[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One RiskLinkage row; ``extra`` are kind-specific properties (money in minor units)."""
    key_members = list(members) if ordered else sorted(members)
    return {
        "linkage_id": _linkage_id(kind.value, key_members),
        "props": {
            "kind": kind.value,
            "size": len(members),
            "subtype": subtype,
            "score": score,
            **extra,
        },
        "members": [
            {"customer_id": m, "position": i, "role": roles[i] if roles else None}
            for i, m in enumerate(members)
        ],
    }


async def _found(run: RunContext, find: Any, edges: Sequence[Any]) -> Computed:
    await run.progress(0.3, "compute")
    linkages: list[dict[str, Any]] = await asyncio.to_thread(find) if edges else []
    summary: LinkageSummary = {
        "found": len(linkages),
        "sizes": dict(sorted(Counter(len(x["members"]) for x in linkages).items())),
    }
    values = {x["linkage_id"]: [m["customer_id"] for m in x["members"]] for x in linkages}
    return Computed(values, dict(summary), relationship_count=len(edges), linkages=linkages)


# --- the four searches ---------------------------------------------------------------------------
def find_guarantee_circles(
    edges: Sequence[GuaranteeEdge], params: GuaranteeCircleParams
) -> list[dict[str, Any]]:
    graph = GraphData.from_edges(
        [(s, d) for s, d, _ in edges], directed=True, amount=[a for _, _, a in edges]
    )
    return [
        linkage_row(
            RiskLinkageKind.GUARANTEE_CIRCLE,
            c.members,
            ordered=True,
            subtype=c.kind.value,
            amount_minor=c.total_amount,
            as_of=params.as_of.isoformat(),
        )
        for c in cycles.guarantee_circles(graph, max_length=params.max_length)
    ]


async def guarantee_circles(run: RunContext, params: GuaranteeCircleParams) -> Computed:
    edges = await run.projections.guarantees(params.as_of)
    return await _found(run, functools.partial(find_guarantee_circles, edges, params), edges)


def find_identifier_rings(
    uses: Sequence[tuple[str, str]], params: IdentifierRingParams
) -> list[dict[str, Any]]:
    graph = GraphData.from_edges(list(uses), directed=True)
    return [
        linkage_row(
            RiskLinkageKind.IDENTIFIER_RING,
            r.members,
            ordered=False,
            score=r.score,
            shared_kinds=list(r.shared_kinds),
            identifier_count=len(r.identifiers),
            shared_keys=sorted(r.identifiers),  # Identifier keys (keyed hashes), not values
        )
        for r in risk.shared_identifier_rings(
            graph, min_size=params.min_size, max_sharing=params.max_sharing
        )
    ]


async def identifier_rings(run: RunContext, params: IdentifierRingParams) -> Computed:
    uses = await run.projections.identifier_uses()
    return await _found(run, functools.partial(find_identifier_rings, uses, params), uses)


def find_fund_cycles(
    transfers: Sequence[tuple[str, str, int, float]], params: FundCycleParams
) -> list[dict[str, Any]]:
    graph = GraphData.from_edges(
        [(s, d) for s, d, _, _ in transfers],
        directed=True,
        amount=[a for _, _, a, _ in transfers],
        time=[t for _, _, _, t in transfers],
    )
    return [
        linkage_row(
            RiskLinkageKind.FUND_CYCLE,
            c.members,
            ordered=True,
            amount_minor=c.total_amount,
            min_amount_minor=c.min_amount,
            # hop by hop: members[i] paid transfer_amounts_minor[i] at transfer_times[i]
            transfer_amounts_minor=list(c.amounts or ()),
            transfer_times=list(c.times),
        )
        for c in cycles.fund_flow_cycles(
            graph, window=params.window_days * 86_400, max_length=params.max_length
        )
    ]


async def fund_cycles(run: RunContext, params: FundCycleParams) -> Computed:
    transfers = await run.projections.transfers()
    return await _found(run, functools.partial(find_fund_cycles, transfers, params), transfers)


def find_control_groups(
    shareholdings: Sequence[tuple[str, str, float]],
    params: ControlGroupParams,
    *,
    loan_balances: dict[str, int],
    guarantees: Sequence[GuaranteeEdge],
) -> list[dict[str, Any]]:
    """Control groups with their exposure: the members' loans and the guarantees they give."""
    graph = GraphData.from_edges(
        [(s, d) for s, d, _ in shareholdings],
        directed=True,
        weight=[p for _, _, p in shareholdings],
    )
    given: dict[str, list[GuaranteeEdge]] = {}
    for guarantee in guarantees:  # by guarantor: each group reads only its members'
        given.setdefault(guarantee.guarantor_id, []).append(guarantee)
    found = []
    for g in risk.related_party_groups(graph, threshold=params.threshold_pct, ultimate_only=True):
        members = (g.controller, *g.controlled)
        loans, out, total = risk.control_group_exposure(
            members,
            loan_balances=loan_balances,
            guarantees=[x for m in members for x in given.get(m, ())],
        )
        found.append(
            linkage_row(
                RiskLinkageKind.CONTROL_GROUP,
                members,
                ordered=True,
                roles=["CONTROLLER", *["CONTROLLED"] * len(g.controlled)],
                loan_balance_minor=loans,
                guarantees_out_minor=out,
                total_exposure_minor=total,
                as_of=params.as_of.isoformat(),
            )
        )
    return found


async def control_groups(run: RunContext, params: ControlGroupParams) -> Computed:
    shareholdings = await run.projections.shareholdings()
    loans: dict[str, int] = {}
    guarantees: list[GuaranteeEdge] = []
    if shareholdings:  # a group's exposure: its loans and guarantees out
        loans = await run.projections.loan_balances()
        guarantees = await run.projections.guarantees(params.as_of)
    find = functools.partial(
        find_control_groups, shareholdings, params, loan_balances=loans, guarantees=guarantees
    )
    return await _found(run, find, shareholdings)


# --- exposure ------------------------------------------------------------------------------------
def _guarantee_graph(edges: Sequence[GuaranteeEdge], nodes: Sequence[str]) -> GraphData:
    return GraphData.from_edges(
        [(s, d) for s, d, _ in edges],
        nodes=list(nodes),
        directed=True,
        amount=[a for _, _, a in edges],
    )


async def exposure(run: RunContext, params: ExposureParams) -> Computed:
    """Every customer's guarantee exposure within ``hops``, decayed per hop (minor units),
    through the guarantees in force on ``params.as_of``."""
    await run.progress(0.02, "read")
    customers = await run.projections.customer_ids()
    edges = await run.projections.guarantees(params.as_of)
    graph = _guarantee_graph(edges, customers)
    await run.progress(0.3, "compute")
    values: dict[str, Any] = await asyncio.to_thread(
        exposures.exposure_totals,
        graph,
        hops=params.hops,
        decay=params.decay,
        direction=params.direction,
    )
    summary = {"nonzero": sum(1 for v in values.values() if v)}
    return Computed(values, summary, len(customers), len(edges))


async def exposure_of(
    customer_id: str,
    edges: Sequence[GuaranteeEdge],
    *,
    hops: int,
    decay: float,
    direction: Literal["out", "in", "both"],
) -> exposures.ExposureResult:
    """One customer's exposure through the guarantees read around it (a worker thread)."""
    graph = _guarantee_graph(edges, [customer_id])
    return await asyncio.to_thread(
        exposures.exposure, graph, customer_id, hops=hops, decay=decay, direction=direction
    )
