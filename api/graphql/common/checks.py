"""The checks every area's resolvers make: an id names something (unknown is not empty), a
number lies in its range, a cursor is one this API issued."""

from __future__ import annotations

from typing import Any

import strawberry

from api.graphql.common.enums import CommunityAlgorithm
from api.graphql.common.types import Customer, load_customer
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.security.requests import shown
from graph.errors import NotFoundError
from graph.model import NodeLabel


async def require(info: strawberry.Info, label: NodeLabel, *ids: str) -> None:
    """NOT_FOUND for the first of ``ids`` that names no ``label``: unknown is not empty."""
    missing = await context_value(info).repositories.customers.missing(label, list(ids))
    if missing:
        raise NotFoundError(label.value, missing[0])


async def require_customer(info: strawberry.Info, customer_id: str) -> Customer:
    customer = await load_customer(info, customer_id)
    if customer is None:
        raise NotFoundError(NodeLabel.CUSTOMER.value, customer_id)
    return customer


def community_key(community_id: str) -> tuple[Any, str]:
    """``louvain:C12`` → (LOUVAIN, ``C12``)."""
    algorithm, _, local_id = community_id.partition(":")
    try:
        return CommunityAlgorithm(algorithm), local_id
    except ValueError:
        raise ClientError(
            f"communityId {shown(community_id)!r} is not <algorithm>:<id>, e.g. louvain:C12"
        ) from None


async def require_community(info: strawberry.Info, community_id: str) -> None:
    community_key(community_id)  # a clear error for a malformed id first
    if await context_value(info).loaders.community.load(community_id) is None:
        raise NotFoundError(NodeLabel.COMMUNITY.value, community_id)


def checked_min_strength(min_strength: float | None) -> float:
    """``minStrength`` (default 0: every tie) checked to lie in 0..1, as tie strengths do."""
    strength = 0.0 if min_strength is None else min_strength
    if not 0.0 <= strength <= 1.0:
        raise ClientError(f"minStrength must be between 0 and 1, got {strength}")
    return strength


def check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ClientError(f"{name} must be between {low} and {high}, got {value}")
