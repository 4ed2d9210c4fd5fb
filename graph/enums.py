"""The allow-lists: every label, relationship type and enum value the graph holds.

Every label and relationship type that reaches Cypher comes from :class:`NodeLabel` or
:class:`RelType`, never from user text; ``tests/unit/graph/test_labels.py`` reads every
query and fails on one missing here. ``graph.model`` re-exports them with the models.
"""

from __future__ import annotations

from enum import StrEnum


class NodeLabel(StrEnum):
    CUSTOMER = "Customer"
    RELATIONSHIP_MANAGER = "RelationshipManager"
    PARTNER = "Partner"
    PRODUCT = "Product"
    SCENARIO = "Scenario"
    IDENTIFIER = "Identifier"
    CAMPAIGN = "Campaign"
    LOAD_RUN = "LoadRun"
    ALGORITHM_RUN = "AlgorithmRun"
    ALGORITHM_JOB = "AlgorithmJob"  # a runAlgorithm request, polled by id across restarts
    RISK_LINKAGE = "RiskLinkage"
    COMMUNITY = "Community"  # a community of a stored partition, with its profile
    AUDIT_EVENT = "AuditEvent"  # a read of unmasked PII
    SCHEMA_VERSION = "SchemaVersion"  # the marker `crkg init` writes
    # the campaign loop (issue 12): what suppression reads, and the lists drawn
    CONSENT = "Consent"  # a consent record: purpose, channel, GRANTED / WITHDRAWN, date
    OPT_OUT = "OptOut"  # 退订: an opt-out, from one channel or all
    COMPLAINT = "Complaint"
    CONTACT = "Contact"  # one contact of a customer (any campaign): the frequency cap's history
    LIST_VERSION = "ListVersion"  # an immutable list drawn for a campaign
    ERASURE = "Erasure"  # that a customer was erased (PIPL art. 47), under a pseudonym


class RelType(StrEnum):
    FAMILY = "FAMILY"
    SPOUSE = "SPOUSE"
    FRIEND = "FRIEND"
    COLLEAGUE = "COLLEAGUE"
    CLASSMATE = "CLASSMATE"
    BUSINESS = "BUSINESS"
    REFERRED = "REFERRED"
    TRANSFERRED_TO = "TRANSFERRED_TO"
    GUARANTEES = "GUARANTEES"
    HOLDS_SHARES = "HOLDS_SHARES"
    HOLDS = "HOLDS"
    PARTICIPATES_IN = "PARTICIPATES_IN"
    LINKED_TO = "LINKED_TO"
    HOSTS = "HOSTS"
    MANAGED_BY = "MANAGED_BY"
    USES = "USES"
    MEMBER_OF = "MEMBER_OF"
    REFERRAL_TARGET = "REFERRAL_TARGET"  # written by the referral_targets algorithm
    GAVE_CONSENT = "GAVE_CONSENT"  # Customer -> Consent
    OPTED_OUT = "OPTED_OUT"  # Customer -> OptOut
    COMPLAINED = "COMPLAINED"  # Customer -> Complaint
    WAS_CONTACTED = "WAS_CONTACTED"  # Customer -> Contact
    HAS_VERSION = "HAS_VERSION"  # Campaign -> ListVersion
    LISTS = "LISTS"  # ListVersion -> Customer: a row of the list, with its reasons
    SUPPRESSES = "SUPPRESSES"  # ListVersion -> Customer: a suppressed candidate, with its codes
    OUTCOME = "OUTCOME"  # ListVersion -> Customer: a list row's outcome (treated or control)


class TieKind(StrEnum):
    """Social ties between customers; each is also a relationship type."""

    FAMILY = "FAMILY"
    SPOUSE = "SPOUSE"
    FRIEND = "FRIEND"
    COLLEAGUE = "COLLEAGUE"
    CLASSMATE = "CLASSMATE"
    BUSINESS = "BUSINESS"

    @property
    def rel_type(self) -> RelType:
        return RelType(self.value)


class CustomerKind(StrEnum):
    PERSON = "PERSON"
    COMPANY = "COMPANY"


class PartnerCategory(StrEnum):
    EMPLOYER = "EMPLOYER"
    SCHOOL = "SCHOOL"
    MERCHANT = "MERCHANT"
    CORE_ENTERPRISE = "CORE_ENTERPRISE"
    AUTO_SERVICE = "AUTO_SERVICE"
    HOSPITAL = "HOSPITAL"
    GOVERNMENT = "GOVERNMENT"
    OTHER = "OTHER"


class ProductCategory(StrEnum):
    DEPOSIT = "DEPOSIT"
    WEALTH = "WEALTH"
    LOAN = "LOAN"
    CREDIT_CARD = "CREDIT_CARD"
    INSURANCE = "INSURANCE"
    PAYMENT = "PAYMENT"
    OTHER = "OTHER"


class ScenarioKind(StrEnum):
    PAYROLL = "PAYROLL"
    CAMPUS = "CAMPUS"
    MERCHANT = "MERCHANT"
    SUPPLY_CHAIN = "SUPPLY_CHAIN"
    CAR_SERVICE = "CAR_SERVICE"
    HEALTHCARE = "HEALTHCARE"
    OTHER = "OTHER"


class IdentifierKind(StrEnum):
    PHONE = "PHONE"
    DEVICE = "DEVICE"
    ADDRESS = "ADDRESS"
    EMAIL = "EMAIL"


class PartnerLinkKind(StrEnum):
    EMPLOYEE = "EMPLOYEE"
    OWNER = "OWNER"
    CUSTOMER = "CUSTOMER"
    STUDENT = "STUDENT"
    SUPPLIER = "SUPPLIER"


class Tier(StrEnum):
    """Value tiers (derived by the segmentation algorithms)."""

    MASS = "MASS"
    AFFLUENT = "AFFLUENT"
    HIGH_NET_WORTH = "HIGH_NET_WORTH"
    PRIVATE = "PRIVATE"


class LifecycleStage(StrEnum):
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    CHURN_RISK = "CHURN_RISK"


class RiskLinkageKind(StrEnum):
    GUARANTEE_CIRCLE = "GUARANTEE_CIRCLE"
    IDENTIFIER_RING = "IDENTIFIER_RING"
    FUND_CYCLE = "FUND_CYCLE"
    CONTROL_GROUP = "CONTROL_GROUP"


class ContactChannel(StrEnum):
    """How a campaign reaches a customer (consents, opt-outs and contacts name one)."""

    SMS = "SMS"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    APP = "APP"  # push / in-app message
    RM = "RM"  # the relationship manager in person


class ContactPurpose(StrEnum):
    """What a contact is for; a consent is given per purpose and channel."""

    MARKETING = "MARKETING"
    REFERRAL = "REFERRAL"
    SERVICE = "SERVICE"


class ConsentStatus(StrEnum):
    GRANTED = "GRANTED"
    WITHDRAWN = "WITHDRAWN"


class TreatmentCode(StrEnum):
    """A list row's arm: treated, or the hold-out's control (graph.holdout)."""

    TREATED = "T"
    CONTROL = "C"


class ContactOutcome(StrEnum):
    """What came of a list row (the outcomes file): conversion is what the effect counts."""

    REACHED = "REACHED"
    DECLINED = "DECLINED"
    CONVERTED = "CONVERTED"
    NOT_CONVERTED = "NOT_CONVERTED"  # the window closed without a conversion (either arm)


class SuppressionReason(StrEnum):
    """Why a candidate is kept off a list (every suppressed customer keeps all that apply)."""

    NO_CONSENT = "NO_CONSENT"  # no marketing consent for the campaign's purpose and channel
    OPTED_OUT = "OPTED_OUT"  # 退订 from the campaign's channel or from all
    RISK_FLAGGED = "RISK_FLAGGED"  # graph/queries/screens.py, the one definition
    COMPLAINT = "COMPLAINT"  # a complaint within the complaint window
    CONTACT_CAP = "CONTACT_CAP"  # contacted too often within the frequency-cap window
    HOLDS_PRODUCT = "HOLDS_PRODUCT"  # already holds the campaign's product
    NOT_ELIGIBLE = "NOT_ELIGIBLE"  # fails the product's eligibility rules
    NO_INTRODUCER = "NO_INTRODUCER"  # no introducer who may be contacted is left
