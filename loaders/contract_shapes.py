"""The shapes of the input contract (:mod:`loaders.contract`): a file's spec, its numeric
rules, the columns stored as relationships. Kept apart so the contract's files can be declared
in more than one module (:mod:`loaders.contract_campaign`) without an import cycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from graph.model import NodeLabel, RelType
from graph.targets import NodeTarget, RelationshipTarget

MONEY_SUFFIX: Final = "_minor"


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

    def describe(self) -> str:
        """The range in words: ``1..5``, ``>= 0``, ``> 0 and <= 100``, ``any``."""
        low = None if self.low is None else _number(self.low)
        high = None if self.high is None else _number(self.high)
        if low is not None and high is not None and self.low_inclusive:
            return f"{low}..{high}"
        parts = []
        if low is not None:
            parts.append(f"{'>=' if self.low_inclusive else '>'} {low}")
        if high is not None:
            parts.append(f"<= {high}")
        return " and ".join(parts) or "any"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class LinkColumn:
    """A column of a node file stored as a relationship, not a property (a customer's rm_id
    is its MANAGED_BY; a scenario's partner_id is the partner's HOSTS)."""

    column: str
    target: RelationshipTarget
    owner_is_source: bool  # the row's node is the relationship's source (MANAGED_BY)


@dataclass(frozen=True)
class RelationshipColumns:
    """Which columns of a relationship file hold its two ends."""

    source_column: str
    target_column: str
    target: RelationshipTarget | None  # None: the type comes from the row (social ties)


@dataclass(frozen=True)
class FileSpec:
    """One file of the contract: columns in order, the rules a validator enforces and what
    its rows become in the graph (``node`` for node files, ``relationship`` for the others;
    ``identifiers`` become USES relationships to keyed-hash Identifier nodes)."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]
    enums: dict[str, str] = field(default_factory=dict)  # column -> ENUM_DOMAINS entry
    numbers: dict[str, NumberRule] = field(default_factory=dict)
    booleans: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    refs: dict[str, str] = field(default_factory=dict)  # column -> referenced file
    loop: tuple[str, str] | None = None  # the two endpoints that must differ
    text: tuple[str, ...] = ()  # free-text columns (where invalid UTF-8 is planted)
    enum_lists: dict[str, str] = field(default_factory=dict)  # column -> ENUM_DOMAINS entry
    ordered: tuple[tuple[str, str], ...] = ()  # (low, high) columns: low <= high when both set
    node: NodeTarget | None = None
    links: tuple[LinkColumn, ...] = ()
    relationship: RelationshipColumns | None = None
    profile_input: bool = False  # a change makes the stored community profiles stale

    def property_of(self, column: str) -> str:
        """The graph property a column is stored in (money: ``<column>_minor``)."""
        rule = self.numbers.get(column)
        return f"{column}{MONEY_SUFFIX}" if rule is not None and rule.money else column

    @property
    def link(self) -> LinkColumn | None:
        return self.links[0] if self.links else None

    def graph_target(self) -> str:
        """What a row becomes, as a Cypher pattern."""
        if self.node is not None:
            return f"(:{self.node.label.value})"
        if self.name == "identifiers":
            return f"(:Customer)-[:{RelType.USES.value}]->(:{NodeLabel.IDENTIFIER.value})"
        assert self.relationship is not None
        rel = self.relationship.target
        if rel is None:
            return "(:Customer)-[:<kind>]->(:Customer)"
        return f"(:{rel.source.label.value})-[:{rel.rel_type.value}]->(:{rel.target.label.value})"
