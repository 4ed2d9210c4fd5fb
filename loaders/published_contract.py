"""The input contract in words: each column's type, whether it is required and the values it
accepts, as data (``crkg contract --json``) and as the README's Markdown table (a test keeps
the two equal). Everything here is read from :mod:`loaders.contract`.

Examples
--------
>>> from loaders.contract import SPECS
>>> describe_column(SPECS["customers"], "risk_rating").domain
'1..5'
>>> describe_column(SPECS["social"], "kind").domain
'FAMILY, SPOUSE, FRIEND, COLLEAGUE, CLASSMATE, BUSINESS'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from loaders.contract import (
    ACCEPTED_ENUMS,
    CONTRACT_VERSION,
    FILE_ORDER,
    LIST_SEPARATOR,
    OPS,
    SPECS,
    FileSpec,
)

ColumnType = Literal[
    "text", "enum", "enum list", "integer", "decimal", "money", "boolean", "date", "datetime"
]


@dataclass(frozen=True)
class ColumnDescription:
    name: str
    type: ColumnType
    required: bool
    domain: str  # enum values, a range, a reference, or "" (free text)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "domain": self.domain,
        }


def describe_column(spec: FileSpec, column: str) -> ColumnDescription:
    """One column of the contract in words: its type and the values it accepts."""
    required = column in spec.required
    kind: ColumnType
    if column in spec.enums:
        kind, domain = "enum", ", ".join(ACCEPTED_ENUMS[spec.enums[column]])
    elif column in spec.enum_lists:
        values = ", ".join(ACCEPTED_ENUMS[spec.enum_lists[column]])
        kind, domain = "enum list", f"{LIST_SEPARATOR!r}-separated: {values}"
    elif column in spec.numbers:
        rule = spec.numbers[column]
        kind = "money" if rule.money else ("integer" if rule.integer else "decimal")
        domain = rule.describe()
        if rule.money:
            domain = f"{domain}, at most 2 decimal places"
    elif column in spec.booleans:
        kind, domain = "boolean", "true/false (also t/f, yes/no, y/n, 1/0)"
    elif column in spec.dates:
        kind, domain = "date", "ISO 8601 (2024-03-01)"
    elif column in spec.datetimes:
        kind, domain = "datetime", "ISO 8601 (2024-03-01T09:30:00, naive = UTC)"
    else:
        kind, domain = "text", ""
    if column in spec.refs:
        referenced = SPECS[spec.refs[column]]
        reference = f"a {referenced.name}.{referenced.key[0]}"
        domain = f"{domain}; {reference}" if domain else reference
    for low, high in spec.ordered:
        if column == high:
            domain = f"{domain}; >= {low}"
    return ColumnDescription(column, kind, required, domain)


def describe() -> dict[str, Any]:
    """The whole contract as data (``crkg contract --json``)."""
    return {
        "version": CONTRACT_VERSION,
        "formats": ["csv", "jsonl", "parquet"],
        "op": {"column": "op", "values": list(OPS), "default": OPS[0]},
        "files": [
            {
                "name": name,
                "graph": SPECS[name].graph_target(),
                "key": list(SPECS[name].key),
                "columns": [describe_column(SPECS[name], c).to_json() for c in SPECS[name].columns],
            }
            for name in FILE_ORDER
        ],
    }


def markdown_table() -> str:
    """The contract as the Markdown table the README shows (a test keeps the two equal)."""
    lines = ["| file | column | type | required | domain |", "|---|---|---|---|---|"]
    for name in FILE_ORDER:
        spec = SPECS[name]
        for position, column in enumerate(spec.columns):
            described = describe_column(spec, column)
            lines.append(
                f"| {name if position == 0 else ''} | `{column}` | {described.type} | "
                f"{'yes' if described.required else ''} | {_cell(described.domain)} |"
            )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
