"""Root fields of marketing: whom to target for a product, and how an RM reaches a prospect."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.common.checks import check_range, require
from api.graphql.common.coverage import RunCoverage
from api.graphql.common.types import with_customers
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.marketing.types import ReferralCoverage, ReferralTarget
from api.graphql.network.queries import warm_paths
from api.graphql.network.types import Path
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.errors import NotComputedError
from graph.model import NodeLabel, TieKind
from graph.read_models import AlgorithmRunRecord

# the newest referral_targets runs searched for one that covers a (product, scenario)
REFERRAL_RUNS_SEARCHED = 1_000
MAX_REFERRAL_HOPS = 6


async def _referral_run_covering(
    info: strawberry.Info, product: str, scenario: str | None
) -> AlgorithmRunRecord | None:
    """The newest succeeded ``referral_targets`` run that scored ``product`` for ``scenario``.

    A run covers the product it names (or every product, with ``product_id`` null) within
    the scenario it names (or bank-wide, with ``scenario_id`` null).
    """
    runs = context_value(info).repositories.runs
    for run in await runs.latest("referral_targets", REFERRAL_RUNS_SEARCHED):
        if run.status != "SUCCEEDED":
            continue
        parameters = run.parameters or {}
        if parameters.get("scenario_id") == scenario and parameters.get("product_id") in (
            None,
            product,
        ):
            return run
    return None


def _coverage(
    run: AlgorithmRunRecord, product: str, scenario: str | None, first: int, today: date
) -> ReferralCoverage:
    parameters = run.parameters or {}
    summary = run.summary or {}
    top_n = parameters.get("top_n")
    top_n = int(top_n) if isinstance(top_n, int) else None
    cut = top_n is not None and first > top_n
    as_of = summary.get("eligibility_as_of")
    where = "bank-wide" if scenario is None else f"the participants of scenario {scenario}"
    note = f"targets for {product} among {where}"
    if top_n is not None:
        note += f"; the run kept its best {top_n}"
    if cut:
        note += f": first: {first} asked for more than the run kept"
    return ReferralCoverage(
        run_id=run.run_id,
        product_id=strawberry.ID(product),
        scenario_id=None if scenario is None else strawberry.ID(scenario),
        top_n=top_n,
        first=first,
        cut_by_run=cut,
        eligibility_as_of=today,
        run_eligibility_as_of=date.fromisoformat(as_of) if isinstance(as_of, str) else None,
        note=note,
        run=RunCoverage.from_record(run),
    )


@guarded_field(
    Permission.READ_TARGETS,
    "Warmest paths from an RM's book (yours by default) to a prospect",
)
async def referral_paths(
    info: strawberry.Info,
    to_customer_id: strawberry.ID,
    from_rm_id: strawberry.ID | None = None,
    k: int = 3,
    max_hops: int = 4,
) -> list[Path] | None:
    context = context_value(info)
    check_range("k", k, 1, 10)
    check_range("maxHops", max_hops, 1, MAX_REFERRAL_HOPS)
    principal = context.principal
    rm_id = str(from_rm_id) if from_rm_id is not None else principal.rm_id
    if rm_id is None:
        raise ClientError("fromRmId is required unless you are an RM")
    if rm_id != principal.rm_id:
        # another RM's book as sources: marketers and admins only
        principal.require(Permission.SEARCH_ANY_BOOK)
    await require(info, NodeLabel.RELATIONSHIP_MANAGER, rm_id)
    await require(info, NodeLabel.CUSTOMER, str(to_customer_id))
    prospect = str(to_customer_id)
    book = await context.repositories.customers.rm_book(rm_id)
    if prospect in book:
        whose = "your book" if rm_id == principal.rm_id else f"the book of {rm_id}"
        context.note(info, f"{prospect} is already managed by {rm_id} (in {whose})")
    book = [c for c in book if c != prospect]
    if not book:
        context.note(info, f"the book of {rm_id} holds no one but {prospect}: no path")
        return []
    # an RM or a marketer asks everyone on the path: nobody they may not contact is on it;
    # a role that reads risk sees every path, each uncontactable customer marked
    found = await warm_paths(
        info,
        book,
        str(to_customer_id),
        k=k,
        max_hops=max_hops,
        kinds=list(TieKind),
        screen=not principal.can(Permission.READ_RISK),
    )
    if not found:
        more = f"; maxHops goes up to {MAX_REFERRAL_HOPS}" if max_hops < MAX_REFERRAL_HOPS else ""
        ties = "tie" if max_hops == 1 else "ties"
        context.note(
            info, f"no path from the book of {rm_id} to {prospect} within {max_hops} {ties}{more}"
        )
    return found


@guarded_field(
    Permission.READ_TARGETS,
    "Whom to target for a product (consenting, not risk-flagged)",
)
async def referral_targets(
    info: strawberry.Info,
    product_id: strawberry.ID,
    scenario_id: strawberry.ID | None = None,
    first: int | None = 50,
) -> list[ReferralTarget] | None:
    context = context_value(info)
    size = context.page_size(first)
    product = str(product_id)
    scenario = None if scenario_id is None else str(scenario_id)
    await require(info, NodeLabel.PRODUCT, product)
    if scenario is not None:
        await require(info, NodeLabel.SCENARIO, scenario)
    # answered from a run for exactly this (product, scenario); the bank-wide run is not
    # filtered to a scenario silently: a missing run is an error that says what to run
    run = await _referral_run_covering(info, product, scenario)
    if run is None:
        where = "bank-wide" if scenario is None else f"in scenario {scenario}"
        command = f"crkg algo run referral_targets -p product_id={product}"
        if scenario is not None:
            command += f" -p scenario_id={scenario}"
        raise NotComputedError(
            f"no referral_targets run has scored product {product} {where}",
            hint=f"run `{command}` (or the runAlgorithm mutation with these params)",
        )
    today = context.today()
    found = await context.repositories.referral_targets.screened(
        product, scenario_key=scenario or "*", scenario_id=scenario, limit=size, as_of=today
    )
    coverage = _coverage(run, product, scenario, size, today)
    if coverage.cut_by_run:
        context.note(info, coverage.note or "")
    return [
        ReferralTarget.from_record(record, customer, coverage)
        for record, customer in await with_customers(info, found, lambda r: r.customer_id)
    ]
