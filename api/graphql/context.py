"""Per-request state: who asks, the request's DataLoaders, its audit trail and round trips.

A request gets a store of its own (the process's driver, a server-side transaction timeout
and a round-trip counter) and DataLoaders that batch every look-up made while resolving one
level of the query into a single Cypher statement, so a page of 1,000 customers with their
products and RMs costs a handful of round trips, not thousands.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.graphql.errors import ClientError
from api.graphql.jobs import JobRegistry
from api.security.auth import AuthenticationError, Principal
from graph.model import TieKind
from graph.queries.marketing import RiskFlagRule
from graph.repositories.views import Row, ViewRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore

# Ties the influence explanation reads (all social kinds, as PageRank ran on).
EXPLANATION_TIES: tuple[TieKind, ...] = tuple(TieKind)
EXPLANATION_TOP = 5


class Loaders:
    """One DataLoader per kind of look-up; created per request so nothing leaks between users."""

    def __init__(self, views: ViewRepository) -> None:
        self.customer = DataLoader[str, Row | None](load_fn=views.customers)
        self.manager = DataLoader[str, Row | None](load_fn=views.managers)
        self.holdings = DataLoader[str, list[Row]](load_fn=views.holdings)
        self.scenarios = DataLoader[str, list[Row]](load_fn=views.scenarios)
        self.linkages = DataLoader[str, list[Row]](load_fn=views.linkages_of)
        self.identifiers = DataLoader[str, list[Row]](load_fn=views.identifiers)
        self.community = DataLoader[str, Row | None](load_fn=views.communities)
        self.community_members = DataLoader[str, list[str]](load_fn=views.community_members)
        self.group_shareholdings = DataLoader[str, list[Row]](load_fn=views.group_shareholdings)

        async def contributions(ids: list[str]) -> list[list[Row]]:
            return await views.pagerank_contributions(ids, EXPLANATION_TIES, EXPLANATION_TOP)

        self.contributions = DataLoader[str, list[Row]](load_fn=contributions)


@dataclass
class AuditTrail:
    """Unmasked PII this request returned, written as AuditEvent nodes before it is sent."""

    fields_by_customer: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def record(self, customer_id: str, field_name: str) -> None:
        self.fields_by_customer[customer_id].add(field_name)

    def events(self, principal: Principal, operation: str, purpose: str | None) -> list[Row]:
        now = datetime.now(UTC)
        return [
            {
                "audit_id": f"audit-{secrets.token_hex(8)}",
                "subject": principal.subject,
                "role": principal.role.value,
                "customer_id": customer_id,
                "fields": sorted(fields),
                "operation": operation,
                "purpose": purpose,
                "at": now,
            }
            for customer_id, fields in sorted(self.fields_by_customer.items())
        ]


class RequestContext(BaseContext):
    def __init__(
        self,
        *,
        principal: Principal | None,
        settings: CrkgSettings,
        store: GraphStore,
        jobs: JobRegistry,
        purpose: str | None = None,
        operation: str = "graphql",
    ) -> None:
        super().__init__()
        self._principal = principal
        self.settings = settings
        self.round_trips: Counter[str] = Counter()
        self.store = store.scoped(
            transaction_timeout=settings.api_query_timeout_seconds,
            on_round_trip=self._count,
        )
        self.views = ViewRepository(self.store, risk_rule=RiskFlagRule.from_settings(settings))
        self.loaders = Loaders(self.views)
        self.audit = AuditTrail()
        self.jobs = jobs
        self.purpose = purpose  # the X-Crkg-Purpose header: the "why" of the audit record
        self.operation = operation  # the "which operation" of the audit record

    @classmethod
    def anonymous(
        cls, *, settings: CrkgSettings, store: GraphStore, jobs: JobRegistry
    ) -> RequestContext:
        """For GET (the IDE page): no principal, and every resolver refuses to run."""
        return cls(principal=None, settings=settings, store=store, jobs=jobs)

    @property
    def authenticated(self) -> bool:
        return self._principal is not None

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise AuthenticationError("missing bearer token")
        return self._principal

    def _count(self, operation: str) -> None:
        self.round_trips[operation] += 1

    @property
    def total_round_trips(self) -> int:
        return sum(self.round_trips.values())

    def pii_visible(self, customer: Row) -> bool:
        """Unmasked PII for this customer? (an RM for their own book, or a role allowed all)"""
        rm_id = customer.get("rm_id")
        return self.principal.may_unmask_pii([rm_id] if rm_id else [])

    def page_size(self, first: int | None, default: int = 50) -> int:
        """``first`` checked against the maximum page size (the limits reject it earlier)."""
        size = default if first is None else first
        if not 1 <= size <= self.settings.api_max_page_size:
            raise ClientError(f"first must be between 1 and {self.settings.api_max_page_size}")
        return size


def context_value(info: Any) -> RequestContext:
    context: RequestContext = info.context
    return context
