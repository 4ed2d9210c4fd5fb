"""What the repositories return: typed, immutable read models, never raw rows.

Values are Python values (Neo4j temporal types converted); the loader's bookkeeping
properties (``crkg_row_hash``, ``crkg_load_id``, ``crkg_loaded_at``) never reach them. Money is
integer minor units (``*_minor``), as stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from graph.reasons import Explanation
from graph.results import ResultProperty


def _json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) and text else None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> date | None:
    """A date read back as a ``date`` (ISO text, a driver date or a date already)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    to_native = getattr(value, "to_native", None)
    return None if to_native is None else to_native()


# --- customers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerRecord:
    """A customer's stored profile, its RM and what algorithms wrote on it."""

    customer_id: str
    kind: str | None = None
    name: str | None = None
    city: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None
    aum_minor: int | None = None
    risk_rating: int | None = None
    consent_marketing: bool = False
    onboarded_at: date | None = None
    last_active_at: date | None = None
    phone: str | None = None
    id_number: str | None = None
    email: str | None = None
    birth_date: date | None = None
    defaulted_at: date | None = None
    results: Mapping[ResultProperty, Any] = field(default_factory=dict)
    result_runs: Mapping[ResultProperty, str] = field(default_factory=dict)  # who wrote each

    PII_FIELDS = ("name", "phone", "id_number", "email")

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any], rm_id: str | None) -> CustomerRecord:
        results = {
            prop: properties[prop.value]
            for prop in ResultProperty
            if properties.get(prop.value) is not None
        }
        result_runs = {
            prop: str(properties[f"{prop.value}_run_id"])
            for prop in results
            if properties.get(f"{prop.value}_run_id") is not None
        }
        return cls(
            customer_id=str(properties["customer_id"]),
            result_runs=result_runs,
            kind=_str(properties.get("kind")),
            name=_str(properties.get("name")),
            city=properties.get("city"),
            branch_id=properties.get("branch_id"),
            rm_id=rm_id,
            aum_minor=_int(properties.get("aum_minor")),
            risk_rating=_int(properties.get("risk_rating")),
            consent_marketing=bool(properties.get("consent_marketing")),
            onboarded_at=properties.get("onboarded_at"),
            last_active_at=properties.get("last_active_at"),
            phone=_str(properties.get("phone")),
            id_number=_str(properties.get("id_number")),
            email=_str(properties.get("email")),
            birth_date=properties.get("birth_date"),
            defaulted_at=properties.get("defaulted_at"),
            results=results,
        )

    def result(self, prop: ResultProperty) -> Any:
        """A stored algorithm result (None when no run wrote it)."""
        return self.results.get(prop)


@dataclass(frozen=True)
class ManagerRecord:
    rm_id: str
    name: str
    branch_id: str | None


@dataclass(frozen=True)
class HoldingRecord:
    product_id: str
    name: str
    category: str
    since: date | None
    balance_minor: int | None
    status: str | None

    @classmethod
    def of(cls, product: Mapping[str, Any], holding: Mapping[str, Any]) -> HoldingRecord:
        """From the product's properties and the HOLDS relationship's."""
        return cls(
            product_id=str(product["product_id"]),
            name=product["name"],
            category=product["category"],
            since=holding.get("since"),
            balance_minor=_int(holding.get("balance_minor")),
            status=holding.get("status"),
        )


@dataclass(frozen=True)
class ParticipationRecord:
    scenario_id: str
    name: str
    kind: str
    role: str | None
    since: date | None
    activity: float | None

    @classmethod
    def of(cls, scenario: Mapping[str, Any], part: Mapping[str, Any]) -> ParticipationRecord:
        """From the scenario's properties and the PARTICIPATES_IN relationship's."""
        return cls(
            scenario_id=str(scenario["scenario_id"]),
            name=scenario["name"],
            kind=scenario["kind"],
            role=part.get("role"),
            since=part.get("since"),
            activity=_float(part.get("activity")),
        )


@dataclass(frozen=True)
class IdentifierRecord:
    kind: str
    key: str  # kind + keyed hash: raw values are never stored
    shared_by: int  # customers using it


@dataclass(frozen=True)
class SegmentInputs:
    """What segmentation and network value read per customer."""

    customer_id: str
    aum_minor: int | None
    onboarded_at: date | None
    last_active_at: date | None


# --- ties ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TieRecord:
    src: str
    dst: str
    kind: str
    strength: float | None
    since: date | None


@dataclass(frozen=True)
class Neighbourhood:
    nodes: list[tuple[str, int]]  # (customer id, hops away), nearest first
    ties: list[TieRecord]


@dataclass(frozen=True)
class Contribution:
    """What a neighbour passes to a customer's PageRank: ``share`` of all that its
    neighbours pass (0–1), ``contribution`` the PageRank mass itself (before damping)."""

    customer_id: str
    share: float
    contribution: float = 0.0


class GuaranteeEdge(NamedTuple):
    guarantor_id: str
    borrower_id: str
    amount_minor: int


@dataclass(frozen=True)
class GuaranteeLink:
    """One guarantee as the API shows it: who backs whom, how much, from when until when
    (``end`` None: open, in force until released)."""

    guarantor_id: str
    borrower_id: str
    amount_minor: int
    start: date | None
    end: date | None

    @property
    def edge(self) -> GuaranteeEdge:
        return GuaranteeEdge(self.guarantor_id, self.borrower_id, self.amount_minor)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GuaranteeLink:
        return cls(
            str(row["src"]),
            str(row["dst"]),
            int(row["amount_minor"] or 0),
            _date(row.get("start")),
            _date(row.get("end")),
        )


@dataclass(frozen=True)
class TieColumns:
    """Ties as three aligned lists: what the in-process engine builds its graph from."""

    src: list[str]
    dst: list[str]
    weight: list[float]

    def __len__(self) -> int:
        return len(self.src)

    def rows(self) -> list[tuple[str, str, float]]:
        return list(zip(self.src, self.dst, self.weight, strict=True))


# --- communities ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CommunityRecord:
    """A stored Community: structure from its community run, profile parts from the latest
    community or segmentation run (``profile_run_id``)."""

    community_id: str
    algorithm: str
    local_id: str
    size: int
    internal_ties: int | None = None
    density: float | None = None
    central_members: list[str] = field(default_factory=list)
    tier_mix: dict[str, int] | None = None
    product_penetration: dict[str, float] | None = None
    product_holders: dict[str, int] | None = None
    dominant_scenarios: list[tuple[str, int]] = field(default_factory=list)
    stale: bool = False
    stale_reason: str | None = None
    run_id: str | None = None
    profile_run_id: str | None = None

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> CommunityRecord:
        return cls(
            community_id=str(properties["community_id"]),
            algorithm=str(properties["algorithm"]),
            local_id=str(properties["local_id"]),
            size=int(properties["size"]),
            internal_ties=_int(properties.get("internal_ties")),
            density=_float(properties.get("density")),
            central_members=[str(i) for i in properties.get("central_members") or []],
            tier_mix=_json(properties.get("tier_mix_json")),
            product_penetration=_json(properties.get("product_penetration_json")),
            product_holders=_json(properties.get("product_holders_json")),
            dominant_scenarios=[
                (str(s), int(n)) for s, n in _json(properties.get("dominant_scenarios_json")) or []
            ],
            stale=bool(properties.get("stale")),
            stale_reason=properties.get("stale_reason"),
            run_id=properties.get("run_id"),
            profile_run_id=properties.get("profile_run_id"),
        )


@dataclass(frozen=True)
class Penetration:
    """How many of a community's members hold a product (any product, zeros included)."""

    community_id: str
    product_id: str
    holders: int
    size: int
    share: float
    stale: bool  # a load changed customers, holdings or participation since the profile
    run_id: str | None


# --- influence and referral ----------------------------------------------------------------
@dataclass(frozen=True)
class Influencer:
    customer_id: str
    score: float
    run_id: str | None
    risk_flags: list[str]  # RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT; empty when not flagged
    scope_rank: int = 0  # 1 = highest score among everyone in the scope, screened or not


@dataclass(frozen=True)
class IntroducerRecord:
    customer_id: str
    score: float
    common_neighbors: int
    path: list[str]  # target … introducer


@dataclass(frozen=True)
class ReferralTargetRecord:
    """A stored REFERRAL_TARGET, screened again when read (``introducers``: still allowed)."""

    customer_id: str
    rank: int
    score: float
    adamic_adar: float | None
    common_neighbors: float | None
    resource_allocation: float | None
    adoption_rate: float | None
    tie_strength: float | None
    introducer_influence: float | None
    introducers: list[IntroducerRecord]
    introducers_dropped: int
    run_id: str | None
    # introducers and path members who may not be contacted: id -> risk flags (empty: no
    # marketing consent); the guardrail's reasons, shown to the roles that read risk
    left_out: dict[str, list[str]] = field(default_factory=dict)
    explained: Explanation | None = None  # model, parts, sentences (None: an older run)


# --- risk linkages -------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkageMember:
    customer_id: str
    position: int | None
    role: str | None


@dataclass(frozen=True)
class LinkageRecord:
    """A stored RiskLinkage and its members (in position order)."""

    linkage_id: str
    kind: str
    size: int
    subtype: str | None = None
    score: float | None = None
    amount_minor: int | None = None
    min_amount_minor: int | None = None
    shared_kinds: list[str] = field(default_factory=list)
    shared_keys: list[str] = field(default_factory=list)  # identifier rings: Identifier keys
    identifier_count: int | None = None
    loan_balance_minor: int | None = None
    guarantees_out_minor: int | None = None
    total_exposure_minor: int | None = None
    as_of: date | None = None  # guarantee circles, control groups: guarantees in force then
    transfer_amounts_minor: list[int] = field(default_factory=list)  # fund cycles, per hop
    transfer_times: list[float] = field(default_factory=list)  # fund cycles: epoch seconds
    run_id: str | None = None
    members: list[LinkageMember] = field(default_factory=list)

    @classmethod
    def from_properties(
        cls,
        properties: Mapping[str, Any],
        members: list[Mapping[str, Any]] = (),  # type: ignore[assignment]
    ) -> LinkageRecord:
        ordered = sorted(members, key=lambda m: (m["position"] is None, m["position"]))
        return cls(
            linkage_id=str(properties["linkage_id"]),
            kind=str(properties["kind"]),
            size=int(properties["size"]),
            subtype=properties.get("subtype"),
            score=_float(properties.get("score")),
            amount_minor=_int(properties.get("amount_minor")),
            min_amount_minor=_int(properties.get("min_amount_minor")),
            shared_kinds=[str(k) for k in properties.get("shared_kinds") or []],
            shared_keys=[str(k) for k in properties.get("shared_keys") or []],
            identifier_count=_int(properties.get("identifier_count")),
            loan_balance_minor=_int(properties.get("loan_balance_minor")),
            guarantees_out_minor=_int(properties.get("guarantees_out_minor")),
            total_exposure_minor=_int(properties.get("total_exposure_minor")),
            as_of=_date(properties.get("as_of")),
            transfer_amounts_minor=[int(a) for a in properties.get("transfer_amounts_minor") or []],
            transfer_times=[float(t) for t in properties.get("transfer_times") or []],
            run_id=properties.get("run_id"),
            members=[
                LinkageMember(str(m["id"]), _int(m.get("position")), m.get("role")) for m in ordered
            ],
        )


@dataclass(frozen=True)
class LinkageMembership:
    """A linkage one customer belongs to, and the customer's role in it."""

    linkage_id: str
    kind: str
    subtype: str | None
    size: int
    role: str | None


@dataclass(frozen=True)
class ShareholdingRecord:
    holder_id: str
    company_id: str
    pct: float


# --- algorithm runs --------------------------------------------------------------
@dataclass(frozen=True)
class AlgorithmRunRecord:
    run_id: str
    name: str
    engine: str | None
    status: str | None
    progress: float | None
    parameters: dict[str, Any] | None
    scope: dict[str, Any] | None
    summary: dict[str, Any] | None
    node_count: int | None
    relationship_count: int | None
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None = None  # stamped while its process lives

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> AlgorithmRunRecord:
        return cls(
            run_id=str(properties["run_id"]),
            name=str(properties.get("name", "")),
            engine=properties.get("engine"),
            status=properties.get("status"),
            progress=_float(properties.get("progress")),
            parameters=_json(properties.get("parameters_json")),
            scope=_json(properties.get("scope_json")),
            summary=_json(properties.get("summary_json")),
            node_count=_int(properties.get("node_count")),
            relationship_count=_int(properties.get("relationship_count")),
            started_at=properties.get("started_at"),
            finished_at=properties.get("finished_at"),
            heartbeat_at=properties.get("heartbeat_at"),
        )

    def abandoned(self, silent_since: datetime) -> bool:
        """Running, but not heard of since then: its process died."""
        heard = self.heartbeat_at or self.started_at
        return self.status == "RUNNING" and heard is not None and heard < silent_since


@dataclass(frozen=True)
class AlgorithmJobRecord:
    """A runAlgorithm job as stored: its request, where it got to, and why it failed."""

    job_id: str
    algorithm: str
    engine: str
    parameters: dict[str, Any]
    requested_by: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    run_id: str | None
    heartbeat_at: datetime | None

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> AlgorithmJobRecord:
        return cls(
            job_id=str(properties["job_id"]),
            algorithm=str(properties["algorithm"]),
            engine=str(properties["engine"]),
            parameters=_json(properties.get("parameters_json")) or {},
            requested_by=str(properties.get("requested_by", "")),
            status=str(properties["status"]),
            created_at=properties["created_at"],
            finished_at=properties.get("finished_at"),
            error=properties.get("error"),
            run_id=properties.get("run_id"),
            heartbeat_at=properties.get("heartbeat_at"),
        )
