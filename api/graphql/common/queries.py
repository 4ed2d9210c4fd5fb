"""Root fields of customers: one customer's 360 view, and pages of customers."""

from __future__ import annotations

from typing import Literal

import strawberry

from api.graphql.common.checks import community_key, require, require_community, require_customer
from api.graphql.common.cursors import decode_cursor
from api.graphql.common.enums import customer_property
from api.graphql.common.types import Customer, CustomerConnection, customer_connection
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.model import NodeLabel, Tier


@guarded_field(Permission.READ_CUSTOMERS, "A customer's 360 view")
async def customer(info: strawberry.Info, id: strawberry.ID) -> Customer | None:
    return await require_customer(info, str(id))


@guarded_field(
    Permission.READ_CUSTOMERS,
    "Customers in id order, filtered; Relay-style pages. `search`: an exact "
    "customer id for everyone; names for admins and, within their own book, RMs (one "
    "character: the names starting with it, a surname). `mine`: only your own book (RMs)",
)
async def customers(
    info: strawberry.Info,
    search: str | None = None,
    tier: Tier | None = None,
    scenario_id: strawberry.ID | None = None,
    community_id: strawberry.ID | None = None,
    first: int | None = 50,
    after: str | None = None,
    mine: bool = False,
) -> CustomerConnection | None:
    context = context_value(info)
    size = context.page_size(first)
    if search is not None and not search.strip():
        raise ClientError("search must not be blank")
    if mine and context.principal.rm_id is None:
        raise ClientError(
            "mine: true lists an RM's own book, and your token names no RM",
            hint="filter by tier, scenarioId or communityId instead",
        )
    community_property = community = None
    if community_id is not None:
        await require_community(info, str(community_id))
        algorithm, community = community_key(str(community_id))
        community_property = customer_property(algorithm)
    if scenario_id is not None:
        await require(info, NodeLabel.SCENARIO, str(scenario_id))
    principal = context.principal
    # who may match names: admins all; an RM their own book (names they may unmask);
    # everyone else exact ids only, so masked names cannot be probed by search
    if principal.can(Permission.READ_PII_ALL):
        search_mode: Literal["names", "book_names", "id"] = "names"
    elif principal.can(Permission.READ_PII_OWN_BOOK) and principal.rm_id is not None:
        search_mode = "book_names"
    else:
        search_mode = "id"
    # not an empty page: say that this role searches ids only (users review #15)
    repository = context.repositories.customers
    if (
        search is not None
        and search_mode == "id"
        and await repository.missing_customers([search.strip()])
    ):
        raise ClientError(
            f"search by customer id only for your role ({principal.role.value}): no "
            f"customer has the id {search.strip()!r}",
            hint="names are searched by admins and, within their own book, by RMs",
        )
    ids = await context.repositories.customers.page(
        after=decode_cursor("customer", after) or "",
        limit=size + 1,
        search=search,
        search_mode=search_mode,
        book_rm_id=principal.rm_id,
        tier=None if tier is None else tier.value,
        scenario_id=None if scenario_id is None else str(scenario_id),
        community_property=community_property,
        community=community,
        mine=mine,
    )
    return await customer_connection(info, ids, size)
