"""Input contract v1 (DESIGN.md, "Input contract v1") as data: columns, keys and value rules.

The generator writes exactly these columns in this order, and plants bad rows against exactly
these rules, so a validator that enforces the same :data:`SPECS` rejects exactly the planted
rows. Value rules follow the graph model (``graph/model.py``): strength in [0, 1], pct in
(0, 100], aum, amounts and activity >= 0, risk_rating an integer 1..5; balance is any amount.

Money columns (``aum``, ``balance``, ``amount``) are exact decimals with at most two places,
stored as integer minor units in ``<column>_minor`` (``graph/money.py``). List columns
(``eligible_kinds``, ``eligible_scenario_kinds``) hold ``;``-separated enum values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

CUSTOMER_KINDS: Final = ("PERSON", "COMPANY")
TIE_KINDS: Final = ("FAMILY", "SPOUSE", "FRIEND", "COLLEAGUE", "CLASSMATE", "BUSINESS")
PARTNER_CATEGORIES: Final = ("EMPLOYER", "SCHOOL", "MERCHANT", "CORE_ENTERPRISE", "AUTO_SERVICE")
SCENARIO_KINDS: Final = ("PAYROLL", "CAMPUS", "MERCHANT", "SUPPLY_CHAIN", "CAR_SERVICE")
PRODUCT_CATEGORIES: Final = ("DEPOSIT", "WEALTH", "LOAN", "CREDIT_CARD", "INSURANCE")
LINK_KINDS: Final = ("EMPLOYEE", "OWNER", "CUSTOMER", "STUDENT", "SUPPLIER")
IDENTIFIER_KINDS: Final = ("PHONE", "DEVICE", "ADDRESS", "EMAIL")
HOLDING_STATUSES: Final = ("ACTIVE", "DORMANT", "CLOSED")
PARTICIPATION_ROLES: Final = ("EMPLOYEE", "STUDENT", "CUSTOMER", "OWNER", "SUPPLIER", "CAR_OWNER")
TIERS: Final = ("MASS", "AFFLUENT", "HIGH_NET_WORTH", "PRIVATE")  # lowest first
LIST_SEPARATOR: Final = ";"
MONEY_SUFFIX: Final = "_minor"

# Enum values the validator should accept: the graph model's allow-lists are wider than what
# the generator emits (e.g. HOSPITAL partners), so bad enums are chosen outside both.
ACCEPTED_ENUMS: Final[dict[str, tuple[str, ...]]] = {
    "customer_kind": CUSTOMER_KINDS,
    "tie_kind": TIE_KINDS,
    "partner_category": (*PARTNER_CATEGORIES, "HOSPITAL", "GOVERNMENT", "OTHER"),
    "scenario_kind": (*SCENARIO_KINDS, "HEALTHCARE", "OTHER"),
    "product_category": (*PRODUCT_CATEGORIES, "PAYMENT", "OTHER"),
    "link_kind": LINK_KINDS,
    "identifier_kind": IDENTIFIER_KINDS,
    "tier": TIERS,
}


@dataclass(frozen=True)
class NumberRule:
    """A numeric column: integer or decimal, with an optional inclusive/exclusive range."""

    integer: bool = False
    low: float | None = None
    low_inclusive: bool = True
    high: float | None = None
    money: bool = False  # an exact decimal of at most 2 places, stored as minor units

    def in_range(self, value: float | Decimal) -> bool:
        """Whether a parsed value lies inside the range (``high`` is always inclusive)."""
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            return False
        return self.high is None or value <= self.high


@dataclass(frozen=True)
class FileSpec:
    """One file of the contract: columns in order and the rules a validator enforces."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]
    enums: dict[str, str] = field(default_factory=dict)  # column -> ACCEPTED_ENUMS entry
    numbers: dict[str, NumberRule] = field(default_factory=dict)
    booleans: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    refs: dict[str, str] = field(default_factory=dict)  # column -> referenced file
    loop: tuple[str, str] | None = None  # the two endpoints that must differ
    text: tuple[str, ...] = ()  # free-text columns (where invalid UTF-8 is planted)
    enum_lists: dict[str, str] = field(default_factory=dict)  # column -> ACCEPTED_ENUMS entry
    ordered: tuple[tuple[str, str], ...] = ()  # (low, high) columns: low <= high when both set

    def property_of(self, column: str) -> str:
        """The graph property a column is stored in (money: ``<column>_minor``)."""
        rule = self.numbers.get(column)
        return f"{column}{MONEY_SUFFIX}" if rule is not None and rule.money else column


_NON_NEGATIVE = NumberRule(low=0.0)
_MONEY = NumberRule(low=0.0, money=True)
_AGE = NumberRule(integer=True, low=0, high=150)

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
        ),
        FileSpec(
            "relationship_managers",
            ("rm_id", "name", "branch_id"),
            required=("rm_id", "name"),
            key=("rm_id",),
            text=("name",),
        ),
        FileSpec(
            "partners",
            ("partner_id", "name", "category"),
            required=("partner_id", "name", "category"),
            key=("partner_id",),
            enums={"category": "partner_category"},
            text=("name",),
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
        ),
        FileSpec(
            "scenarios",
            ("scenario_id", "name", "kind", "partner_id"),
            required=("scenario_id", "name", "kind"),
            key=("scenario_id",),
            enums={"kind": "scenario_kind"},
            refs={"partner_id": "partners"},
            text=("name",),
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
        ),
        FileSpec(
            "holdings",
            ("customer_id", "product_id", "since", "balance", "status"),
            required=("customer_id", "product_id"),
            key=("customer_id", "product_id"),
            numbers={"balance": NumberRule(money=True)},
            dates=("since",),
            refs={"customer_id": "customers", "product_id": "products"},
        ),
        FileSpec(
            "participation",
            ("customer_id", "scenario_id", "role", "since", "activity"),
            required=("customer_id", "scenario_id"),
            key=("customer_id", "scenario_id"),
            numbers={"activity": _NON_NEGATIVE},
            dates=("since",),
            refs={"customer_id": "customers", "scenario_id": "scenarios"},
        ),
        FileSpec(
            "partner_links",
            ("customer_id", "partner_id", "kind", "since"),
            required=("customer_id", "partner_id", "kind"),
            key=("customer_id", "partner_id", "kind"),
            enums={"kind": "link_kind"},
            dates=("since",),
            refs={"customer_id": "customers", "partner_id": "partners"},
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
        ),
        FileSpec(
            "shareholdings",
            ("holder_id", "company_id", "pct"),
            required=("holder_id", "company_id", "pct"),
            key=("holder_id", "company_id"),
            numbers={"pct": NumberRule(low=0.0, low_inclusive=False, high=100.0)},
            refs={"holder_id": "customers", "company_id": "customers"},
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
        ),
    )
}

# Order in which files are written (referenced files first, as a loader would read them).
FILE_ORDER: Final[tuple[str, ...]] = (
    "relationship_managers", "customers", "partners", "products", "scenarios", "campaigns",
    "social", "holdings", "participation", "partner_links", "referrals", "transfers",
    "guarantees", "shareholdings", "identifiers",
)  # fmt: skip
