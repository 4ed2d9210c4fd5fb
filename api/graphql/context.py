"""Per-request state: who asks, the request's DataLoaders, its audit trail and round trips.

A request gets a store of its own (the process's driver, a server-side transaction timeout,
the request's deadline and a round-trip counter) and DataLoaders that batch every look-up
made while resolving one level of the query into a single Cypher statement, so a page of
1,000 customers with their products and RMs costs a handful of round trips, not thousands.

The deadline (``CRKG_API_REQUEST_TIMEOUT_SECONDS`` from the request's start) bounds the
whole request, not each transaction: every transaction gets at most what is left of it
(and none starts after it), a warm-path search stops at it, and the router cancels what is
still running shortly after it and answers ``TIMEOUT``. The audit write alone has its own
timeout: it comes last and must not be starved by the reads before it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.graphql.errors import ClientError
from api.graphql.jobs import JobRegistry
from api.security.auth import AuthenticationError, Principal
from graph import clock
from graph.lists import ListPolicy
from graph.model import AuditEvent, NodeLabel, TieKind
from graph.queries.screens import RiskFlagRule
from graph.read_models import (
    AlgorithmRunRecord,
    CommunityRecord,
    Contribution,
    CustomerRecord,
    GuaranteeLink,
    HoldingRecord,
    IdentifierRecord,
    LinkageMembership,
    ManagerRecord,
    ParticipationRecord,
    ShareholdingRecord,
)
from graph.repositories.algorithm_runs import AlgorithmRunRepository
from graph.repositories.audit import AuditRepository
from graph.repositories.campaigns import CampaignRepository
from graph.repositories.communities import CommunityRepository
from graph.repositories.customers import CustomerRepository
from graph.repositories.effects import EffectRepository
from graph.repositories.projections import ProjectionRepository
from graph.repositories.referral_targets import ReferralTargetRepository
from graph.repositories.risk_linkages import RiskLinkageRepository
from graph.repositories.ties import TieRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore

# Ties the influence explanation reads (all social kinds, as PageRank ran on).
EXPLANATION_TIES: tuple[TieKind, ...] = tuple(TieKind)
EXPLANATION_TOP = 5


class Repositories:
    """The request's repositories, all on its scoped store (timeout, round-trip count)."""

    def __init__(
        self, store: GraphStore, risk_rule: RiskFlagRule, policy: ListPolicy | None = None
    ) -> None:
        self.customers = CustomerRepository(store, risk_rule=risk_rule)
        self.ties = TieRepository(store)
        self.communities = CommunityRepository(store)
        self.linkages = RiskLinkageRepository(store)
        self.referral_targets = ReferralTargetRepository(store, risk_rule=risk_rule)
        self.runs = AlgorithmRunRepository(store)
        self.projections = ProjectionRepository(store)
        self.audit = AuditRepository(store)
        self.campaigns = CampaignRepository(store, risk_rule=risk_rule, policy=policy)
        self.effects = EffectRepository(store)


class Loaders:
    """One DataLoader per kind of look-up; created per request so nothing leaks between users."""

    def __init__(self, repositories: Repositories) -> None:
        customers, linkages = repositories.customers, repositories.linkages
        self.customer = DataLoader[str, CustomerRecord | None](load_fn=customers.by_ids)
        self.manager = DataLoader[str, ManagerRecord | None](load_fn=customers.managers)
        self.holdings = DataLoader[str, list[HoldingRecord]](load_fn=customers.holdings)
        self.scenarios = DataLoader[str, list[ParticipationRecord]](load_fn=customers.scenarios)
        self.identifiers = DataLoader[str, list[IdentifierRecord]](load_fn=customers.identifiers)
        self.risk_flags = DataLoader[str, list[str]](load_fn=customers.risk_flags)
        self.linkages = DataLoader[str, list[LinkageMembership]](load_fn=linkages.of_customers)
        self.group_shareholdings = DataLoader[str, list[ShareholdingRecord]](
            load_fn=linkages.group_shareholdings
        )
        self.circle_links = DataLoader[str, list[GuaranteeLink]](load_fn=linkages.circle_links)
        communities = repositories.communities
        self.community = DataLoader[str, CommunityRecord | None](load_fn=communities.by_ids)
        self.community_members = DataLoader[str, list[str]](load_fn=communities.members)
        ties = repositories.ties

        async def contributions(ids: list[str]) -> list[list[Contribution]]:
            return await ties.pagerank_contributions(ids, EXPLANATION_TIES, EXPLANATION_TOP)

        self.contributions = DataLoader[str, list[Contribution]](load_fn=contributions)

        async def products_exist(ids: list[str]) -> list[bool]:
            missing = set(await customers.missing(NodeLabel.PRODUCT, ids))
            return [i not in missing for i in ids]

        # one existence check per product per request, however many communities ask
        self.product_exists = DataLoader[str, bool](load_fn=products_exist)
        runs = repositories.runs

        async def runs_by_id(ids: list[str]) -> list[AlgorithmRunRecord | None]:
            # a page of customers names one or two runs: one look-up each
            return [await runs.get(i) for i in ids]

        self.run = DataLoader[str, AlgorithmRunRecord | None](load_fn=runs_by_id)


@dataclass
class AuditTrail:
    """Unmasked PII this request returned, written as AuditEvent nodes before it is sent."""

    fields_by_customer: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def record(self, customer_id: str, field_name: str) -> None:
        self.fields_by_customer[customer_id].add(field_name)

    def events(
        self,
        principal: Principal,
        operation: str,
        purpose: str | None,
        document_sha256: str | None = None,
    ) -> list[AuditEvent]:
        """One event per customer. ``operation`` is the operation name *as the client
        declared it* (never trusted: a label); ``document_sha256`` the hash of the document
        text that ran, which identifies what was asked whatever its label."""
        now = datetime.now(UTC)
        return [
            AuditEvent(
                audit_id=f"audit-{secrets.token_hex(8)}",
                subject=principal.subject,
                role=principal.role.value,
                customer_id=customer_id,
                fields=sorted(fields),
                operation=operation,
                document_sha256=document_sha256,
                purpose=purpose,
                at=now,
            )
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
        document: str | None = None,
    ) -> None:
        super().__init__()
        self._principal = principal
        self.settings = settings
        self.round_trips: Counter[str] = Counter()
        self.started = time.monotonic()
        self.deadline = self.started + settings.api_request_timeout_seconds
        self.store = store.scoped(
            transaction_timeout=settings.api_query_timeout_seconds,
            on_round_trip=self._count,
            deadline=self.deadline,
            deadline_seconds=settings.api_request_timeout_seconds,
        )
        self.repositories = Repositories(
            self.store, RiskFlagRule.from_settings(settings), ListPolicy.from_settings(settings)
        )
        # the audit write: after every read, with a timeout of its own (see the module doc)
        self.audit_repository = AuditRepository(
            store.scoped(
                transaction_timeout=settings.api_query_timeout_seconds,
                on_round_trip=self._count,
            )
        )
        self.loaders = Loaders(self.repositories)
        self.audit = AuditTrail()
        self.jobs = jobs
        self.purpose = purpose  # the X-Crkg-Purpose header: the "why" of the audit record
        self.operation = operation  # the client-declared operation name of the audit record
        self.document_sha256 = (
            None
            if document is None
            else hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()
        )
        self.internal_error_fields: list[str] = []
        # what an answer leaves out or should be read with, in words, by field path: the
        # response's extensions.notes (an empty list cannot say "nothing within 4 ties")
        self.notes: list[dict[str, Any]] = []

    def note(self, info: Any, message: str) -> None:
        """Say something about the field being resolved (``extensions.notes``)."""
        self.notes.append({"path": list(info.path.as_list()), "message": message})

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

    def remaining(self) -> float:
        """Seconds left before the request's deadline (negative once past it)."""
        return self.deadline - time.monotonic()

    def search_deadline(self) -> tuple[float, float]:
        """(a ``time.monotonic()`` deadline, its length) for a warm-path search: the query
        timeout, or what is left of the request if that is less."""
        timeout = min(self.settings.api_query_timeout_seconds, max(self.remaining(), 0.0))
        return time.monotonic() + timeout, timeout

    def record_internal_error(self, field_path: str) -> None:
        """Told by the error masking of every INTERNAL_ERROR (the router counts them)."""
        self.internal_error_fields.append(field_path)

    @property
    def total_round_trips(self) -> int:
        return sum(self.round_trips.values())

    def pii_visible(self, customer: CustomerRecord) -> bool:
        """Unmasked PII for this customer? (an RM for their own book, or a role allowed all)"""
        rm_id = customer.rm_id
        return self.principal.may_unmask_pii([rm_id] if rm_id else [])

    def today(self) -> date:
        """The day this request dates its answers by (:func:`graph.clock.today`)."""
        return clock.today()

    def page_size(self, first: int | None, default: int = 50) -> int:
        """``first`` checked against the maximum page size (the limits reject it earlier)."""
        size = default if first is None else first
        if not 1 <= size <= self.settings.api_max_page_size:
            raise ClientError(f"first must be between 1 and {self.settings.api_max_page_size}")
        return size


def context_value(info: Any) -> RequestContext:
    context: RequestContext = info.context
    return context
