"""Constraints, indexes and the schema-version marker."""

from __future__ import annotations

from typing import Final, LiteralString

from graph.enums import NodeLabel
from graph.queries.ties import literal
from graph.results import COMMUNITY_PROPERTIES

# Bump when a statement below changes meaning; `crkg init` records it on the marker node.
# 2: RiskLinkage; 3: Community, community ids, referral targets; 4: AuditEvent;
# 5: AlgorithmJob (durable runAlgorithm jobs);
# 6: the campaign loop (Consent, OptOut, Complaint, Contact, ListVersion); 7: Erasure;
# 8: the outcomes of list rows, (ListVersion)-[:OUTCOME]->(Customer), indexed by arm and outcome
SCHEMA_VERSION: Final = 8

# (name, statement). Every node key of the graph model has a uniqueness constraint, which also
# gives the index that MERGE and key look-ups use.
CONSTRAINTS: Final[tuple[tuple[str, LiteralString], ...]] = (
    (
        "customer_id_unique",
        "CREATE CONSTRAINT customer_id_unique IF NOT EXISTS "
        "FOR (n:Customer) REQUIRE n.customer_id IS UNIQUE",
    ),
    (
        "relationship_manager_id_unique",
        "CREATE CONSTRAINT relationship_manager_id_unique IF NOT EXISTS "
        "FOR (n:RelationshipManager) REQUIRE n.rm_id IS UNIQUE",
    ),
    (
        "partner_id_unique",
        "CREATE CONSTRAINT partner_id_unique IF NOT EXISTS "
        "FOR (n:Partner) REQUIRE n.partner_id IS UNIQUE",
    ),
    (
        "product_id_unique",
        "CREATE CONSTRAINT product_id_unique IF NOT EXISTS "
        "FOR (n:Product) REQUIRE n.product_id IS UNIQUE",
    ),
    (
        "scenario_id_unique",
        "CREATE CONSTRAINT scenario_id_unique IF NOT EXISTS "
        "FOR (n:Scenario) REQUIRE n.scenario_id IS UNIQUE",
    ),
    (
        "identifier_key_unique",
        "CREATE CONSTRAINT identifier_key_unique IF NOT EXISTS "
        "FOR (n:Identifier) REQUIRE n.key IS UNIQUE",
    ),
    (
        "campaign_id_unique",
        "CREATE CONSTRAINT campaign_id_unique IF NOT EXISTS "
        "FOR (n:Campaign) REQUIRE n.campaign_id IS UNIQUE",
    ),
    *(
        (
            f"{name}_unique",
            literal(
                f"CREATE CONSTRAINT {name}_unique IF NOT EXISTS "
                f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
            ),
        )
        for name, label, key in (
            ("consent_id", NodeLabel.CONSENT.value, "consent_id"),
            ("opt_out_id", NodeLabel.OPT_OUT.value, "opt_out_id"),
            ("complaint_id", NodeLabel.COMPLAINT.value, "complaint_id"),
            ("contact_id", NodeLabel.CONTACT.value, "contact_id"),
            ("list_version_id", NodeLabel.LIST_VERSION.value, "list_version_id"),
            ("erasure_id", NodeLabel.ERASURE.value, "erasure_id"),
        )
    ),
    (
        "load_run_id_unique",
        "CREATE CONSTRAINT load_run_id_unique IF NOT EXISTS "
        "FOR (n:LoadRun) REQUIRE n.run_id IS UNIQUE",
    ),
    (
        "algorithm_run_id_unique",
        "CREATE CONSTRAINT algorithm_run_id_unique IF NOT EXISTS "
        "FOR (n:AlgorithmRun) REQUIRE n.run_id IS UNIQUE",
    ),
    (
        "algorithm_job_id_unique",
        "CREATE CONSTRAINT algorithm_job_id_unique IF NOT EXISTS "
        "FOR (n:AlgorithmJob) REQUIRE n.job_id IS UNIQUE",
    ),
    (
        "risk_linkage_id_unique",
        "CREATE CONSTRAINT risk_linkage_id_unique IF NOT EXISTS "
        "FOR (n:RiskLinkage) REQUIRE n.linkage_id IS UNIQUE",
    ),
    (
        "community_id_unique",
        "CREATE CONSTRAINT community_id_unique IF NOT EXISTS "
        "FOR (n:Community) REQUIRE n.community_id IS UNIQUE",
    ),
    (
        "audit_event_id_unique",
        "CREATE CONSTRAINT audit_event_id_unique IF NOT EXISTS "
        "FOR (n:AuditEvent) REQUIRE n.audit_id IS UNIQUE",
    ),
    (
        "schema_version_id_unique",
        "CREATE CONSTRAINT schema_version_id_unique IF NOT EXISTS "
        "FOR (n:SchemaVersion) REQUIRE n.id IS UNIQUE",
    ),
)

# Indexes for the filters the API and algorithms use (search, tiers, scopes, time windows).
INDEXES: Final[tuple[tuple[str, LiteralString], ...]] = (
    # who read whose PII, newest first (the audit trail's questions)
    (
        "audit_event_subject_at",
        "CREATE INDEX audit_event_subject_at IF NOT EXISTS FOR (n:AuditEvent) ON (n.subject, n.at)",
    ),
    (
        "audit_event_customer_at",
        "CREATE INDEX audit_event_customer_at IF NOT EXISTS "
        "FOR (n:AuditEvent) ON (n.customer_id, n.at)",
    ),
    # Chinese names: the CJK analyzer indexes bigrams, so "张伟" finds "张伟明".
    (
        "customer_name_fulltext",
        "CREATE FULLTEXT INDEX customer_name_fulltext IF NOT EXISTS "
        "FOR (n:Customer) ON EACH [n.name] "
        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}",
    ),
    (
        "customer_branch_id",
        "CREATE INDEX customer_branch_id IF NOT EXISTS FOR (n:Customer) ON (n.branch_id)",
    ),
    ("customer_kind", "CREATE INDEX customer_kind IF NOT EXISTS FOR (n:Customer) ON (n.kind)"),
    ("customer_tier", "CREATE INDEX customer_tier IF NOT EXISTS FOR (n:Customer) ON (n.tier)"),
    (
        "customer_lifecycle_stage",
        "CREATE INDEX customer_lifecycle_stage IF NOT EXISTS "
        "FOR (n:Customer) ON (n.lifecycle_stage)",
    ),
    (
        "relationship_manager_branch_id",
        "CREATE INDEX relationship_manager_branch_id IF NOT EXISTS "
        "FOR (n:RelationshipManager) ON (n.branch_id)",
    ),
    (
        "partner_category",
        "CREATE INDEX partner_category IF NOT EXISTS FOR (n:Partner) ON (n.category)",
    ),
    (
        "product_category",
        "CREATE INDEX product_category IF NOT EXISTS FOR (n:Product) ON (n.category)",
    ),
    ("scenario_kind", "CREATE INDEX scenario_kind IF NOT EXISTS FOR (n:Scenario) ON (n.kind)"),
    (
        "identifier_kind",
        "CREATE INDEX identifier_kind IF NOT EXISTS FOR (n:Identifier) ON (n.kind)",
    ),
    (
        "load_run_started_at",
        "CREATE INDEX load_run_started_at IF NOT EXISTS FOR (n:LoadRun) ON (n.started_at)",
    ),
    (
        "algorithm_run_name_started_at",
        "CREATE INDEX algorithm_run_name_started_at IF NOT EXISTS "
        "FOR (n:AlgorithmRun) ON (n.name, n.started_at)",
    ),
    (
        "risk_linkage_kind",
        "CREATE INDEX risk_linkage_kind IF NOT EXISTS FOR (n:RiskLinkage) ON (n.kind)",
    ),
    (
        "community_algorithm",
        "CREATE INDEX community_algorithm IF NOT EXISTS FOR (n:Community) ON (n.algorithm)",
    ),
    ("community_size", "CREATE INDEX community_size IF NOT EXISTS FOR (n:Community) ON (n.size)"),
    # members of a community: WHERE c.community_<algorithm> = $local_id (one per partition)
    *(
        (
            f"customer_{prop.value}",
            literal(
                f"CREATE INDEX customer_{prop.value} IF NOT EXISTS "
                f"FOR (n:Customer) ON (n.{prop.value})"
            ),
        )
        for prop in COMMUNITY_PROPERTIES
    ),
    (
        "referral_target_scenario_rank",
        "CREATE INDEX referral_target_scenario_rank IF NOT EXISTS "
        "FOR ()-[r:REFERRAL_TARGET]-() ON (r.scenario_id, r.rank)",
    ),
    (
        "transferred_to_at",
        "CREATE INDEX transferred_to_at IF NOT EXISTS FOR ()-[r:TRANSFERRED_TO]-() ON (r.at)",
    ),
    # a list version's conversions per arm (the effect read)
    (
        "outcome_treatment_outcome",
        "CREATE INDEX outcome_treatment_outcome IF NOT EXISTS "
        "FOR ()-[r:OUTCOME]-() ON (r.treatment, r.outcome)",
    ),
    (
        "referred_referred_at",
        "CREATE INDEX referred_referred_at IF NOT EXISTS FOR ()-[r:REFERRED]-() ON (r.referred_at)",
    ),
)

AWAIT_INDEXES: Final[LiteralString] = "CALL db.awaitIndexes($timeout_seconds)"

LIST_CONSTRAINTS: Final[LiteralString] = "SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name"

LIST_INDEXES: Final[LiteralString] = (
    "SHOW INDEXES YIELD name, state RETURN name, state ORDER BY name"
)

# The marker is written once per version: applied_at stays what it was when re-run.
RECORD_SCHEMA_VERSION: Final[LiteralString] = """
MERGE (v:SchemaVersion {id: 'crkg'})
ON CREATE SET v.version = $version, v.applied_at = datetime()
WITH v
CALL (v) {
  WITH v WHERE v.version < $version
  SET v.version = $version, v.applied_at = datetime()
}
RETURN v.version AS version, v.applied_at AS applied_at
"""

READ_SCHEMA_VERSION: Final[LiteralString] = """
MATCH (v:SchemaVersion {id: 'crkg'})
RETURN v.version AS version, v.applied_at AS applied_at
"""
