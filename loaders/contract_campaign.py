"""The contract files of the campaign loop (issue 12): what suppression reads. One record per
row, keyed by the source's record id, each linked to its customer as
``(Customer)-[rel]->(record)``. Part of :data:`loaders.contract.SPECS`."""

from __future__ import annotations

from typing import Final

from graph.model import RelType
from graph.targets import (
    COMPLAINT,
    CONSENT,
    CONTACT,
    CUSTOMER,
    LIST_VERSION,
    OPT_OUT,
    NodeTarget,
    RelationshipTarget,
)
from loaders.contract_shapes import FileSpec, LinkColumn, NumberRule, RelationshipColumns

# The file whose rows must name a row of a stored list version (loaders.pipeline checks it).
OUTCOMES: Final = "outcomes"


def _customer_link(rel_type: RelType, record: NodeTarget) -> tuple[LinkColumn, ...]:
    """The customer a record is about, stored as (Customer)-[rel_type]->(record)."""
    return (LinkColumn("customer_id", RelationshipTarget(rel_type, CUSTOMER, record), False),)


CAMPAIGN_LOOP_SPECS: Final[tuple[FileSpec, ...]] = (
    FileSpec(
        "consents",
        ("consent_id", "customer_id", "purpose", "channel", "status", "day"),
        required=("consent_id", "customer_id", "purpose", "channel", "status", "day"),
        key=("consent_id",),
        enums={
            "purpose": "contact_purpose",
            "channel": "contact_channel",
            "status": "consent_status",
        },
        dates=("day",),
        refs={"customer_id": "customers"},
        node=CONSENT,
        links=_customer_link(RelType.GAVE_CONSENT, CONSENT),
    ),
    FileSpec(
        "opt_outs",
        ("opt_out_id", "customer_id", "channel", "day"),
        required=("opt_out_id", "customer_id", "day"),
        key=("opt_out_id",),
        enums={"channel": "contact_channel"},  # empty: from every channel
        dates=("day",),
        refs={"customer_id": "customers"},
        node=OPT_OUT,
        links=_customer_link(RelType.OPTED_OUT, OPT_OUT),
    ),
    FileSpec(
        "complaints",
        ("complaint_id", "customer_id", "day", "category"),
        required=("complaint_id", "customer_id", "day"),
        key=("complaint_id",),
        dates=("day",),
        refs={"customer_id": "customers"},
        text=("category",),
        node=COMPLAINT,
        links=_customer_link(RelType.COMPLAINED, COMPLAINT),
    ),
    FileSpec(
        "contacts",
        ("contact_id", "customer_id", "channel", "day", "purpose", "campaign_id"),
        required=("contact_id", "customer_id", "channel", "day"),
        key=("contact_id",),
        enums={"channel": "contact_channel", "purpose": "contact_purpose"},
        dates=("day",),
        refs={"customer_id": "customers", "campaign_id": "campaigns"},
        node=CONTACT,
        links=_customer_link(RelType.WAS_CONTACTED, CONTACT),
    ),
    # what came of a list row (issue 12, stage 2), treated and control alike: stored as
    # (ListVersion)-[:OUTCOME {treatment, outcome, day, pre_metric}]->(Customer), one per
    # (list version, treatment, customer); a row must name a row of that version with that
    # treatment code, or it is rejected (NOT_ON_LIST)
    FileSpec(
        OUTCOMES,
        ("list_version_id", "treatment", "customer_id", "outcome", "day", "pre_metric"),
        required=("list_version_id", "treatment", "customer_id", "outcome", "day"),
        key=("list_version_id", "treatment", "customer_id"),
        enums={"treatment": "treatment_code", "outcome": "contact_outcome"},
        numbers={"pre_metric": NumberRule()},
        dates=("day",),
        refs={"customer_id": "customers"},
        relationship=RelationshipColumns(
            "list_version_id",
            "customer_id",
            RelationshipTarget(RelType.OUTCOME, LIST_VERSION, CUSTOMER, ("treatment",)),
        ),
    ),
)
