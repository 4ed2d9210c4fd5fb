"""The graph model v1 (DESIGN.md, "Graph model"): one pydantic class per node and relationship.

Enums are the allow-lists: every label and relationship type that reaches Cypher comes from
:class:`NodeLabel` or :class:`RelType`, never from user text (a unit test reads every query
and fails on a label or type missing here). Monetary amounts are floats in
the deployment's currency (``CRKG_CURRENCY``) stored as integer *minor units* (分) in
properties named ``<name>_minor`` (see ``graph/money.py``): never floats. Dates are
``datetime.date``, instants ``datetime.datetime``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from graph.enums import (
    ConsentStatus,
    ContactChannel,
    ContactOutcome,
    ContactPurpose,
    CustomerKind,
    IdentifierKind,
    LifecycleStage,
    NodeLabel,
    PartnerCategory,
    PartnerLinkKind,
    ProductCategory,
    RelType,
    RiskLinkageKind,
    ScenarioKind,
    SuppressionReason,
    TieKind,
    Tier,
    TreatmentCode,
)

# Keys are bank identifiers: printable, no whitespace at the ends, bounded.
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
Strength = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
MinorUnits = Annotated[int, Field(strict=True)]  # an amount in minor units (分), exact
NonNegativeMinor = Annotated[int, Field(strict=True, ge=0)]


# --- nodes -----------------------------------------------------------------------------------
class GraphModel(BaseModel):
    """Base of every node and relationship model: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def to_properties(self) -> dict[str, Any]:
        """Properties as Neo4j stores them (None values are omitted, enums as strings)."""
        return self.model_dump(mode="python", exclude_none=True)


class NodeModel(GraphModel):
    """A keyed node; each model names its label and key in its class line,
    ``class Partner(NodeModel, label=NodeLabel.PARTNER, key="partner_id")``."""

    label: ClassVar[NodeLabel]
    key_property: ClassVar[str]

    def __init_subclass__(cls, *, label: NodeLabel, key: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.label, cls.key_property = label, key

    @property
    def node_key(self) -> str:
        """The value of the unique key property."""
        return str(getattr(self, self.key_property))


class Customer(NodeModel, label=NodeLabel.CUSTOMER, key="customer_id"):
    """A person or company the bank serves. PII fields are masked by the API, not here."""

    customer_id: Key
    kind: CustomerKind
    name: Name
    city: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None
    aum_minor: NonNegativeMinor | None = None
    risk_rating: Annotated[int, Field(ge=1, le=5)] | None = None
    consent_marketing: bool = False
    onboarded_at: date | None = None
    last_active_at: date | None = None
    phone: str | None = None
    id_number: str | None = None
    email: str | None = None
    birth_date: date | None = None  # persons; what product age bands are checked against
    defaulted_at: date | None = None  # set: a defaulted borrower (flags the ties around it)

    PII_FIELDS: ClassVar[tuple[str, ...]] = ("phone", "id_number", "email")

    def to_properties(self) -> dict[str, Any]:
        # rm_id is stored as the MANAGED_BY relationship, not as a property.
        return self.model_dump(mode="python", exclude_none=True, exclude={"rm_id"})


class RelationshipManager(NodeModel, label=NodeLabel.RELATIONSHIP_MANAGER, key="rm_id"):
    rm_id: Key
    name: Name
    branch_id: str | None = None


class Partner(NodeModel, label=NodeLabel.PARTNER, key="partner_id"):
    partner_id: Key
    name: Name
    category: PartnerCategory


class Product(NodeModel, label=NodeLabel.PRODUCT, key="product_id"):
    product_id: Key
    name: Name
    category: ProductCategory
    # Eligibility (data, not guessed from the category): every given rule must hold for a
    # customer to be offered the product; an absent rule does not restrict.
    eligible_kinds: tuple[CustomerKind, ...] | None = None
    min_age: Annotated[int, Field(ge=0, le=150)] | None = None
    max_age: Annotated[int, Field(ge=0, le=150)] | None = None
    eligible_scenario_kinds: tuple[ScenarioKind, ...] | None = None
    min_tier: Tier | None = None


class Scenario(NodeModel, label=NodeLabel.SCENARIO, key="scenario_id"):
    scenario_id: Key
    name: Name
    kind: ScenarioKind
    partner_id: str | None = None  # stored as (Partner)-[:HOSTS]->(Scenario)


class Identifier(NodeModel, label=NodeLabel.IDENTIFIER, key="key"):
    """A phone, device, address or e-mail; ``key`` is kind + keyed hash, never the raw value."""

    key: Annotated[str, Field(pattern=r"^(PHONE|DEVICE|ADDRESS|EMAIL):[0-9a-f]{64}$")]
    kind: IdentifierKind


class Campaign(NodeModel, label=NodeLabel.CAMPAIGN, key="campaign_id"):
    campaign_id: Key
    name: Name
    product_id: str | None = None
    scenario_id: str | None = None
    start: date | None = None
    end: date | None = None


class LoadRun(NodeModel, label=NodeLabel.LOAD_RUN, key="run_id"):
    """Provenance of one load: what was read, loaded and rejected."""

    run_id: Key
    source: str
    started_at: datetime
    finished_at: datetime | None = None
    rows_read: int = Field(default=0, ge=0)
    rows_loaded: int = Field(default=0, ge=0)
    rows_rejected: int = Field(default=0, ge=0)
    status: str = "RUNNING"


class AlgorithmRun(NodeModel, label=NodeLabel.ALGORITHM_RUN, key="run_id"):
    """Provenance of one algorithm run: parameters, engine, scope, timings, summary."""

    run_id: Key
    name: str
    engine: str
    parameters_json: str = "{}"
    scope_json: str = "{}"
    started_at: datetime
    finished_at: datetime | None = None
    node_count: int | None = None
    relationship_count: int | None = None
    summary_json: str = "{}"
    status: str = "RUNNING"
    progress: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class RiskLinkage(NodeModel, label=NodeLabel.RISK_LINKAGE, key="linkage_id"):
    """A risk structure found by an algorithm; its customers are (Customer)-[:MEMBER_OF]->it.

    ``linkage_id`` is derived from the kind and the members, so a re-run finds the same id.
    """

    linkage_id: Key
    kind: RiskLinkageKind
    size: int = Field(ge=1)
    subtype: str | None = None  # MUTUAL / CIRCLE, controller kind, …
    score: float | None = None  # what it means depends on the kind (algorithms/inproc/risk.py)
    amount_minor: MinorUnits | None = None  # circles, cycles: sum of their amounts
    min_amount_minor: MinorUnits | None = None  # fund cycles: the most that went all round
    shared_kinds: tuple[IdentifierKind, ...] | None = None  # identifier rings
    identifier_count: int | None = None  # identifier rings: identifiers shared inside
    loan_balance_minor: MinorUnits | None = None  # control groups (see control_groups)
    guarantees_out_minor: MinorUnits | None = None
    total_exposure_minor: MinorUnits | None = None
    run_id: str


class Community(NodeModel, label=NodeLabel.COMMUNITY, key="community_id"):
    """One community of a stored partition, with its profile (``algorithms.communities``)."""

    community_id: Key  # "<algorithm>:<local id>"
    algorithm: str
    local_id: str  # the value in Customer.community_<algorithm>
    size: int = Field(ge=1)
    internal_ties: int | None = None
    density: float | None = None
    central_members: tuple[str, ...] = ()
    tier_mix_json: str | None = None
    product_penetration_json: str | None = None
    product_holders_json: str | None = None
    dominant_scenarios_json: str | None = None
    stale: bool = False  # a load changed what the profile counts since it was computed
    stale_reason: str | None = None
    run_id: str
    profile_run_id: str | None = None


class AuditEvent(NodeModel, label=NodeLabel.AUDIT_EVENT, key="audit_id"):
    """One read of unmasked PII or exact financials: who, what, when, why."""

    audit_id: Key
    subject: str
    role: str
    customer_id: str
    fields: list[str]
    operation: str  # the client-declared operation name: a label, never trusted
    document_sha256: str | None = None  # what ran, whatever its label
    purpose: str | None = None
    at: datetime


class AlgorithmJob(NodeModel, label=NodeLabel.ALGORITHM_JOB, key="job_id"):
    """A runAlgorithm request: its state, and the heartbeat of the process that owns it."""

    job_id: Key
    algorithm: str
    engine: str
    parameters_json: str
    requested_by: str
    status: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
    created_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    run_id: str | None = None


class SchemaVersion(NodeModel, label=NodeLabel.SCHEMA_VERSION, key="id"):
    """The marker ``crkg init`` writes: which version of the schema the database has."""

    id: Literal["crkg"] = "crkg"
    version: int = Field(ge=1)
    applied_at: datetime


class Erasure(NodeModel, label=NodeLabel.ERASURE, key="erasure_id"):
    """That a customer was erased (``crkg erase``): the audit keeps the fact, not the person.

    ``subject_sha256`` is a pseudonym of the erased id (``graph.erasure.subject_pseudonym``):
    enough for a later load to refuse rows that would bring the person back, not enough to
    name them. Every mention of the id elsewhere in the graph now reads ``ERASED-<erasure_id>``.
    """

    erasure_id: Key
    subject_sha256: str
    reason: str  # the request's reference (ticket, letter), never the person's data
    requested_by: str
    erased_at: datetime
    nodes_deleted: int = Field(ge=0)
    relationships_deleted: int = Field(ge=0)
    mentions_rewritten: int = Field(ge=0)


# --- relationships ---------------------------------------------------------------------------
class RelationshipModel(GraphModel):
    """A relationship between two keyed nodes; ``source_label``/``target_label`` fix the ends.

    Each model declares its type and ends in its class line, ``class Holding(RelationshipModel,
    rel_type=RelType.HOLDS, target=NodeLabel.PRODUCT)``; an end not named is a customer.
    """

    rel_type: ClassVar[RelType]
    source_label: ClassVar[NodeLabel]
    target_label: ClassVar[NodeLabel]

    def __init_subclass__(
        cls,
        *,
        rel_type: RelType,
        source: NodeLabel = NodeLabel.CUSTOMER,
        target: NodeLabel = NodeLabel.CUSTOMER,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.rel_type, cls.source_label, cls.target_label = rel_type, source, target


class SocialTie(GraphModel):
    """FAMILY, SPOUSE, FRIEND, COLLEAGUE, CLASSMATE or BUSINESS between two customers."""

    source_label: ClassVar[NodeLabel] = NodeLabel.CUSTOMER
    target_label: ClassVar[NodeLabel] = NodeLabel.CUSTOMER

    src_id: Key
    dst_id: Key
    kind: TieKind
    strength: Strength | None = None
    since: date | None = None
    source: str | None = None

    @property
    def rel_type(self) -> RelType:
        return self.kind.rel_type


class Referral(RelationshipModel, rel_type=RelType.REFERRED):
    referrer_id: Key
    referee_id: Key
    referred_at: date
    product_id: str | None = None
    campaign_id: str | None = None
    converted: bool = False


class Transfer(RelationshipModel, rel_type=RelType.TRANSFERRED_TO):
    src_id: Key
    dst_id: Key
    amount_minor: NonNegativeMinor
    at: datetime


class Guarantee(RelationshipModel, rel_type=RelType.GUARANTEES):
    guarantor_id: Key
    borrower_id: Key
    amount_minor: NonNegativeMinor
    start: date
    end: date | None = None


class Shareholding(RelationshipModel, rel_type=RelType.HOLDS_SHARES):
    holder_id: Key
    company_id: Key
    pct: Annotated[float, Field(gt=0.0, le=100.0)]


class Holding(RelationshipModel, rel_type=RelType.HOLDS, target=NodeLabel.PRODUCT):
    customer_id: Key
    product_id: Key
    since: date | None = None
    balance_minor: MinorUnits | None = None
    status: str | None = None


class Participation(RelationshipModel, rel_type=RelType.PARTICIPATES_IN, target=NodeLabel.SCENARIO):
    customer_id: Key
    scenario_id: Key
    role: str | None = None
    since: date | None = None
    activity: NonNegative | None = None


class PartnerLink(RelationshipModel, rel_type=RelType.LINKED_TO, target=NodeLabel.PARTNER):
    customer_id: Key
    partner_id: Key
    kind: PartnerLinkKind
    since: date | None = None


class Hosting(
    RelationshipModel, rel_type=RelType.HOSTS, source=NodeLabel.PARTNER, target=NodeLabel.SCENARIO
):
    partner_id: Key
    scenario_id: Key


class ManagedBy(
    RelationshipModel, rel_type=RelType.MANAGED_BY, target=NodeLabel.RELATIONSHIP_MANAGER
):
    customer_id: Key
    rm_id: Key


class IdentifierUse(RelationshipModel, rel_type=RelType.USES, target=NodeLabel.IDENTIFIER):
    customer_id: Key
    identifier_key: str
    first_seen: date | None = None
    last_seen: date | None = None


class LinkageMembership(
    RelationshipModel, rel_type=RelType.MEMBER_OF, target=NodeLabel.RISK_LINKAGE
):
    customer_id: Key
    linkage_id: Key
    position: int = Field(ge=0)  # order in the cycle / 0 for the controller
    role: str | None = None


class ReferralTargetLink(
    RelationshipModel, rel_type=RelType.REFERRAL_TARGET, target=NodeLabel.PRODUCT
):
    """A customer to target for a product, per scenario (``"*"``: bank-wide), with its reasons."""

    customer_id: Key
    product_id: Key
    scenario_id: str
    rank: int = Field(ge=1)
    score: float
    introducer_ids: tuple[str, ...] = ()
    introducers_json: str = "[]"
    run_id: str


__all__ = [
    "ConsentStatus",
    "ContactChannel",
    "ContactOutcome",
    "ContactPurpose",
    "CustomerKind",
    "IdentifierKind",
    "LifecycleStage",
    "NodeLabel",
    "PartnerCategory",
    "PartnerLinkKind",
    "ProductCategory",
    "RelType",
    "RiskLinkageKind",
    "ScenarioKind",
    "SuppressionReason",
    "TieKind",
    "Tier",
    "TreatmentCode",
]

NODE_MODELS: tuple[type[NodeModel], ...] = (
    Customer,
    RelationshipManager,
    Partner,
    Product,
    Scenario,
    Identifier,
    Campaign,
    LoadRun,
    AlgorithmRun,
    RiskLinkage,
    Community,
    AuditEvent,
    AlgorithmJob,
    SchemaVersion,
    Erasure,
)

RELATIONSHIP_MODELS: tuple[type[GraphModel], ...] = (
    SocialTie,
    Referral,
    Transfer,
    Guarantee,
    Shareholding,
    Holding,
    Participation,
    PartnerLink,
    Hosting,
    ManagedBy,
    IdentifierUse,
    LinkageMembership,
    ReferralTargetLink,
)
