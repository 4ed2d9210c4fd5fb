"""The graph model of the campaign loop (issue 12): the records suppression reads (consents,
opt-outs, complaints, contact history, loaded through the input contract) and the immutable
list versions drawn for a campaign, with their rows and suppressions.

Kept beside :mod:`graph.model` (whose base classes it uses); the model tests read
``NODE_MODELS + CAMPAIGN_NODE_MODELS`` and the same for relationships.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from graph.model import (
    ConsentStatus,
    ContactChannel,
    ContactOutcome,
    ContactPurpose,
    GraphModel,
    Key,
    NodeLabel,
    NodeModel,
    RelationshipModel,
    RelType,
    SuppressionReason,
    TreatmentCode,
)


class Consent(NodeModel, label=NodeLabel.CONSENT, key="consent_id"):
    """A consent record: the customer granted or withdrew contact for a purpose on a channel."""

    consent_id: Key
    purpose: ContactPurpose
    channel: ContactChannel
    status: ConsentStatus
    day: date  # not `at`: transfers.at is a date-time, and a property has one type


class OptOut(NodeModel, label=NodeLabel.OPT_OUT, key="opt_out_id"):
    """退订: the customer opted out of one channel (``channel`` null: of every channel)."""

    opt_out_id: Key
    channel: ContactChannel | None = None
    day: date


class Complaint(NodeModel, label=NodeLabel.COMPLAINT, key="complaint_id"):
    complaint_id: Key
    day: date
    category: str | None = None


class Contact(NodeModel, label=NodeLabel.CONTACT, key="contact_id"):
    """One contact of a customer, by any campaign: the history the frequency cap counts."""

    contact_id: Key
    channel: ContactChannel
    day: date
    purpose: ContactPurpose | None = None
    campaign_id: str | None = None


class ListVersion(NodeModel, label=NodeLabel.LIST_VERSION, key="list_version_id"):
    """An immutable list drawn for a campaign: what it was drawn from, how, and its hash."""

    list_version_id: Key  # <campaign_id>:v<version>
    campaign_id: Key
    version: int = Field(ge=1)
    content_hash: str  # sha256 of the canonical content (graph.lists.content_hash)
    rule: str
    parameters_json: str
    seed: int
    as_of: date
    algorithm_run_ids: list[str]
    load_run_ids: list[str]
    row_count: int
    suppressed_count: int
    drawn_by: str
    drawn_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    # a hold-out (graph.holdout; absent without one): the plan, the arms, the SRM check
    holdout_share: float | None = Field(default=None, gt=0, le=0.5)
    treated_count: int | None = None
    control_count: int | None = None
    srm_p_value: float | None = None
    srm_warning: bool | None = None


class GaveConsent(RelationshipModel, rel_type=RelType.GAVE_CONSENT, target=NodeLabel.CONSENT):
    customer_id: Key
    consent_id: Key


class OptedOut(RelationshipModel, rel_type=RelType.OPTED_OUT, target=NodeLabel.OPT_OUT):
    customer_id: Key
    opt_out_id: Key


class Complained(RelationshipModel, rel_type=RelType.COMPLAINED, target=NodeLabel.COMPLAINT):
    customer_id: Key
    complaint_id: Key


class WasContacted(RelationshipModel, rel_type=RelType.WAS_CONTACTED, target=NodeLabel.CONTACT):
    customer_id: Key
    contact_id: Key


class HasVersion(
    RelationshipModel,
    rel_type=RelType.HAS_VERSION,
    source=NodeLabel.CAMPAIGN,
    target=NodeLabel.LIST_VERSION,
):
    campaign_id: Key
    list_version_id: Key


class ListRow(RelationshipModel, rel_type=RelType.LISTS, source=NodeLabel.LIST_VERSION):
    """A row of a list version: its position, treatment code (T, or C: the hold-out's
    control), reasons (JSON) and, with a hold-out, its cluster and cross-arm flag."""

    list_version_id: Key
    customer_id: Key
    position: int = Field(ge=1)
    treatment: str
    reasons_json: str
    cluster: str | None = None  # the randomisation unit: community or community/sub/…
    cross_arm: bool | None = None  # more than half its ties to the list in the other arm
    cross_arm_share: float | None = None


class Suppression(RelationshipModel, rel_type=RelType.SUPPRESSES, source=NodeLabel.LIST_VERSION):
    """A candidate kept off a list version, with every reason code that applied."""

    list_version_id: Key
    customer_id: Key
    codes: list[SuppressionReason]
    risk_flags: tuple[str, ...] = ()  # the guardrail's own reasons (risk and admin see them)


class Outcome(RelationshipModel, rel_type=RelType.OUTCOME, source=NodeLabel.LIST_VERSION):
    """What came of one list row (the ``outcomes`` contract file), keyed by (list version,
    treatment code, customer), for treated and control rows alike; ``pre_metric`` is the
    customer's pre-period metric CUPED adjusts with."""

    list_version_id: Key
    treatment: TreatmentCode
    customer_id: Key
    outcome: ContactOutcome
    day: date
    pre_metric: float | None = None


CAMPAIGN_NODE_MODELS: tuple[type[NodeModel], ...] = (
    Consent,
    OptOut,
    Complaint,
    Contact,
    ListVersion,
)
CAMPAIGN_RELATIONSHIP_MODELS: tuple[type[GraphModel], ...] = (
    GaveConsent,
    OptedOut,
    Complained,
    WasContacted,
    HasVersion,
    ListRow,
    Suppression,
    Outcome,
)
