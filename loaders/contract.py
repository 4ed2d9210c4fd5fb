"""THE input contract: every file a bank export may hold, its columns, types, domains, keys
and the graph target its rows become. One source for the validator, the loader's write plan,
the bulk import, the synthetic bank (``synthbank``) and, in words
(:mod:`loaders.published_contract`), ``crkg contract`` and the README table.

Enum domains are the graph model's allow-lists (``graph.model``), never restated here.
Value rules follow the model: strength in [0, 1], pct in (0, 100], aum, amounts and activity
>= 0, risk_rating an integer 1..5, ages 0..150; balance is any amount. Money columns (``aum``,
``balance``, ``amount``) are exact decimals with at most two places, stored as integer minor
units in ``<column>_minor`` (``graph/money.py``). List columns (``eligible_kinds``,
``eligible_scenario_kinds``) hold ``;``-separated enum values. Every file may also carry an
``op`` column: ``UPSERT`` (the default) or ``DELETE``.

Examples
--------
>>> SPECS["customers"].required
('customer_id', 'kind', 'name')
>>> SPECS["customers"].numbers["risk_rating"].describe()
'1..5'
>>> ACCEPTED_ENUMS[SPECS["social"].enums["kind"]]
('FAMILY', 'SPOUSE', 'FRIEND', 'COLLEAGUE', 'CLASSMATE', 'BUSINESS')
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from graph.model import (
    ConsentStatus,
    ContactChannel,
    ContactOutcome,
    ContactPurpose,
    CustomerKind,
    IdentifierKind,
    PartnerCategory,
    PartnerLinkKind,
    ProductCategory,
    RelType,
    ScenarioKind,
    TieKind,
    Tier,
    TreatmentCode,
)
from graph.targets import (
    CAMPAIGN,
    CUSTOMER,
    PARTNER,
    PRODUCT,
    RELATIONSHIP_MANAGER,
    SCENARIO,
    NodeTarget,
    RelationshipTarget,
)
from loaders.contract_campaign import CAMPAIGN_LOOP_SPECS

# the shapes are part of the contract's public face: re-exported for its readers
from loaders.contract_shapes import MONEY_SUFFIX as MONEY_SUFFIX
from loaders.contract_shapes import FileSpec as FileSpec
from loaders.contract_shapes import LinkColumn as LinkColumn
from loaders.contract_shapes import NumberRule as NumberRule
from loaders.contract_shapes import RelationshipColumns as RelationshipColumns

# v1 (DESIGN.md) plus the optional columns of issue 9 (birth_date, defaulted_at, product
# eligibility) and the optional files of issue 12 (consents, opt_outs, complaints, contacts,
# outcomes): an export written for v1 loads unchanged.
CONTRACT_VERSION: Final = "1.2"
LIST_SEPARATOR: Final = ";"
OPS: Final = ("UPSERT", "DELETE")
# Booleans, case-insensitive.
TRUE_WORDS: Final = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS: Final = frozenset({"false", "f", "no", "n", "0"})

# The enum domains a column may name, from the model's allow-lists.
ENUM_DOMAINS: Final[dict[str, type[StrEnum]]] = {
    "customer_kind": CustomerKind,
    "tie_kind": TieKind,
    "partner_category": PartnerCategory,
    "scenario_kind": ScenarioKind,
    "product_category": ProductCategory,
    "link_kind": PartnerLinkKind,
    "identifier_kind": IdentifierKind,
    "tier": Tier,
    "contact_channel": ContactChannel,
    "contact_purpose": ContactPurpose,
    "consent_status": ConsentStatus,
    "treatment_code": TreatmentCode,
    "contact_outcome": ContactOutcome,
}
ACCEPTED_ENUMS: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(member.value for member in enum) for name, enum in ENUM_DOMAINS.items()
}


_NON_NEGATIVE = NumberRule(low=0.0)
_MONEY = NumberRule(low=0.0, money=True)
_AGE = NumberRule(integer=True, low=0, high=150)


def _rel(
    rel_type: RelType, source: NodeTarget, target: NodeTarget, src: str, dst: str, *merge: str
) -> RelationshipColumns:
    return RelationshipColumns(src, dst, RelationshipTarget(rel_type, source, target, merge))


SPECS: Final[dict[str, FileSpec]] = {
    spec.name: spec
    for spec in (
        FileSpec(
            "customers",
            (
                "customer_id",
                "kind",
                "name",
                "city",
                "branch_id",
                "rm_id",
                "aum",
                "risk_rating",
                "consent_marketing",
                "onboarded_at",
                "last_active_at",
                "phone",
                "id_number",
                "email",
                "birth_date",
                "defaulted_at",
            ),
            required=("customer_id", "kind", "name"),
            key=("customer_id",),
            enums={"kind": "customer_kind"},
            numbers={"aum": _MONEY, "risk_rating": NumberRule(integer=True, low=1, high=5)},
            booleans=("consent_marketing",),
            dates=("onboarded_at", "last_active_at", "birth_date", "defaulted_at"),
            refs={"rm_id": "relationship_managers"},
            text=("name",),
            node=CUSTOMER,
            links=(
                LinkColumn(
                    "rm_id",
                    RelationshipTarget(RelType.MANAGED_BY, CUSTOMER, RELATIONSHIP_MANAGER),
                    owner_is_source=True,
                ),
            ),
            profile_input=True,
        ),
        FileSpec(
            "relationship_managers",
            ("rm_id", "name", "branch_id"),
            required=("rm_id", "name"),
            key=("rm_id",),
            text=("name",),
            node=RELATIONSHIP_MANAGER,
        ),
        FileSpec(
            "partners",
            ("partner_id", "name", "category"),
            required=("partner_id", "name", "category"),
            key=("partner_id",),
            enums={"category": "partner_category"},
            text=("name",),
            node=PARTNER,
        ),
        FileSpec(
            "products",
            (
                "product_id",
                "name",
                "category",
                "eligible_kinds",
                "min_age",
                "max_age",
                "eligible_scenario_kinds",
                "min_tier",
            ),
            required=("product_id", "name", "category"),
            key=("product_id",),
            enums={"category": "product_category", "min_tier": "tier"},
            numbers={"min_age": _AGE, "max_age": _AGE},
            text=("name",),
            enum_lists={
                "eligible_kinds": "customer_kind",
                "eligible_scenario_kinds": "scenario_kind",
            },
            ordered=(("min_age", "max_age"),),
            node=PRODUCT,
        ),
        FileSpec(
            "scenarios",
            ("scenario_id", "name", "kind", "partner_id"),
            required=("scenario_id", "name", "kind"),
            key=("scenario_id",),
            enums={"kind": "scenario_kind"},
            refs={"partner_id": "partners"},
            text=("name",),
            node=SCENARIO,
            links=(
                LinkColumn(
                    "partner_id",
                    RelationshipTarget(RelType.HOSTS, PARTNER, SCENARIO),
                    owner_is_source=False,
                ),
            ),
        ),
        FileSpec(
            "social",
            ("src_id", "dst_id", "kind", "strength", "since"),
            required=("src_id", "dst_id", "kind"),
            key=("src_id", "dst_id", "kind"),
            enums={"kind": "tie_kind"},
            numbers={"strength": NumberRule(low=0.0, high=1.0)},
            dates=("since",),
            refs={"src_id": "customers", "dst_id": "customers"},
            loop=("src_id", "dst_id"),
            relationship=RelationshipColumns("src_id", "dst_id", None),
        ),
        FileSpec(
            "holdings",
            ("customer_id", "product_id", "since", "balance", "status"),
            required=("customer_id", "product_id"),
            key=("customer_id", "product_id"),
            numbers={"balance": NumberRule(money=True)},
            dates=("since",),
            refs={"customer_id": "customers", "product_id": "products"},
            relationship=_rel(RelType.HOLDS, CUSTOMER, PRODUCT, "customer_id", "product_id"),
            profile_input=True,
        ),
        FileSpec(
            "participation",
            ("customer_id", "scenario_id", "role", "since", "activity"),
            required=("customer_id", "scenario_id"),
            key=("customer_id", "scenario_id"),
            numbers={"activity": _NON_NEGATIVE},
            dates=("since",),
            refs={"customer_id": "customers", "scenario_id": "scenarios"},
            relationship=_rel(
                RelType.PARTICIPATES_IN, CUSTOMER, SCENARIO, "customer_id", "scenario_id"
            ),
            profile_input=True,
        ),
        FileSpec(
            "partner_links",
            ("customer_id", "partner_id", "kind", "since"),
            required=("customer_id", "partner_id", "kind"),
            key=("customer_id", "partner_id", "kind"),
            enums={"kind": "link_kind"},
            dates=("since",),
            refs={"customer_id": "customers", "partner_id": "partners"},
            relationship=_rel(
                RelType.LINKED_TO, CUSTOMER, PARTNER, "customer_id", "partner_id", "kind"
            ),
        ),
        FileSpec(
            "referrals",
            ("referrer_id", "referee_id", "referred_at", "product_id", "campaign_id", "converted"),
            required=("referrer_id", "referee_id", "referred_at"),
            key=("referrer_id", "referee_id"),
            booleans=("converted",),
            dates=("referred_at",),
            refs={
                "referrer_id": "customers",
                "referee_id": "customers",
                "product_id": "products",
                "campaign_id": "campaigns",
            },
            relationship=_rel(RelType.REFERRED, CUSTOMER, CUSTOMER, "referrer_id", "referee_id"),
        ),
        FileSpec(
            "transfers",
            ("src_id", "dst_id", "amount", "at"),
            required=("src_id", "dst_id", "amount", "at"),
            key=("src_id", "dst_id", "at"),
            numbers={"amount": _MONEY},
            datetimes=("at",),
            refs={"src_id": "customers", "dst_id": "customers"},
            loop=("src_id", "dst_id"),
            relationship=_rel(RelType.TRANSFERRED_TO, CUSTOMER, CUSTOMER, "src_id", "dst_id", "at"),
        ),
        FileSpec(
            "guarantees",
            ("guarantor_id", "borrower_id", "amount", "start", "end"),
            required=("guarantor_id", "borrower_id", "amount", "start"),
            key=("guarantor_id", "borrower_id"),
            numbers={"amount": _MONEY},
            dates=("start", "end"),
            refs={"guarantor_id": "customers", "borrower_id": "customers"},
            loop=("guarantor_id", "borrower_id"),
            relationship=_rel(
                RelType.GUARANTEES, CUSTOMER, CUSTOMER, "guarantor_id", "borrower_id"
            ),
        ),
        FileSpec(
            "shareholdings",
            ("holder_id", "company_id", "pct"),
            required=("holder_id", "company_id", "pct"),
            key=("holder_id", "company_id"),
            numbers={"pct": NumberRule(low=0.0, low_inclusive=False, high=100.0)},
            refs={"holder_id": "customers", "company_id": "customers"},
            relationship=_rel(RelType.HOLDS_SHARES, CUSTOMER, CUSTOMER, "holder_id", "company_id"),
        ),
        FileSpec(
            "identifiers",
            ("customer_id", "kind", "value"),
            required=("customer_id", "kind", "value"),
            key=("customer_id", "kind", "value"),
            enums={"kind": "identifier_kind"},
            refs={"customer_id": "customers"},
        ),
        FileSpec(
            "campaigns",
            ("campaign_id", "name", "product_id", "scenario_id", "start", "end"),
            required=("campaign_id", "name"),
            key=("campaign_id",),
            dates=("start", "end"),
            refs={"product_id": "products", "scenario_id": "scenarios"},
            text=("name",),
            node=CAMPAIGN,
        ),
        *CAMPAIGN_LOOP_SPECS,
    )
}

# Order in which files are loaded (and written by the generator): referenced files first.
FILE_ORDER: Final[tuple[str, ...]] = (
    "relationship_managers", "customers", "partners", "products", "scenarios", "campaigns",
    "social", "holdings", "participation", "partner_links", "referrals", "transfers",
    "guarantees", "shareholdings", "identifiers", "consents", "opt_outs", "complaints",
    "contacts", "outcomes",
)  # fmt: skip

NODE_FILES: Final[dict[str, NodeTarget]] = {
    name: spec.node for name, spec in SPECS.items() if spec.node is not None
}


class RejectReason(StrEnum):
    """Why a row was rejected: one code per rejected row, the first failure wins."""

    MISSING_REQUIRED = "MISSING_REQUIRED"  # a required value is empty
    BAD_ENUM = "BAD_ENUM"  # not one of the allowed kinds / categories / ops
    BAD_NUMBER = "BAD_NUMBER"  # not a number (or not an integer where one is needed)
    BAD_BOOLEAN = "BAD_BOOLEAN"  # not true/false/1/0/yes/no
    OUT_OF_RANGE = "OUT_OF_RANGE"  # a number outside its allowed range
    BAD_DATE = "BAD_DATE"  # not an ISO 8601 date / date-time
    DANGLING_REFERENCE = "DANGLING_REFERENCE"  # an endpoint neither in this load nor in the db
    SELF_LOOP = "SELF_LOOP"  # both endpoints are the same customer
    DUPLICATE_KEY = "DUPLICATE_KEY"  # the key appeared earlier in the same file (first wins)
    BAD_UTF8 = "BAD_UTF8"  # bytes that are not UTF-8
    BAD_ENCODING = "BAD_ENCODING"  # bytes the file's declared or detected encoding cannot read
    MALFORMED_ROW = "MALFORMED_ROW"  # wrong number of fields, not a JSON object, …
    ERASED_SUBJECT = "ERASED_SUBJECT"  # names a customer erased on request (crkg erase)
    CONTROL_CHARACTER = "CONTROL_CHARACTER"  # a text value holds a control character (NUL, …)
    NOT_ON_LIST = "NOT_ON_LIST"  # an outcome for no row of that list version and treatment
