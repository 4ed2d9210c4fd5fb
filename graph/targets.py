"""Where rows land in the graph: a node label with its key, or a relationship type between
two of them. The input contract names a target per file; the load queries are built from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from graph.model import NodeLabel, RelType


@dataclass(frozen=True)
class NodeTarget:
    label: NodeLabel
    key_property: str


@dataclass(frozen=True)
class RelationshipTarget:
    rel_type: RelType
    source: NodeTarget
    target: NodeTarget
    # properties that tell two relationships of the same type between the same nodes apart
    # (a transfer per instant); empty = at most one such relationship per pair
    merge_properties: tuple[str, ...] = ()


CUSTOMER: Final = NodeTarget(NodeLabel.CUSTOMER, "customer_id")
RELATIONSHIP_MANAGER: Final = NodeTarget(NodeLabel.RELATIONSHIP_MANAGER, "rm_id")
PARTNER: Final = NodeTarget(NodeLabel.PARTNER, "partner_id")
PRODUCT: Final = NodeTarget(NodeLabel.PRODUCT, "product_id")
SCENARIO: Final = NodeTarget(NodeLabel.SCENARIO, "scenario_id")
CAMPAIGN: Final = NodeTarget(NodeLabel.CAMPAIGN, "campaign_id")
IDENTIFIER: Final = NodeTarget(NodeLabel.IDENTIFIER, "key")
CONSENT: Final = NodeTarget(NodeLabel.CONSENT, "consent_id")
OPT_OUT: Final = NodeTarget(NodeLabel.OPT_OUT, "opt_out_id")
COMPLAINT: Final = NodeTarget(NodeLabel.COMPLAINT, "complaint_id")
CONTACT: Final = NodeTarget(NodeLabel.CONTACT, "contact_id")
LIST_VERSION: Final = NodeTarget(NodeLabel.LIST_VERSION, "list_version_id")
