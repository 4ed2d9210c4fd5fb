"""The input contract is one source: the model's enums, each file's graph target, and the
table the README publishes (checked here to be the one ``crkg contract`` prints)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from graph.model import CustomerKind, PartnerCategory, TieKind, Tier
from loaders.contract import (
    ACCEPTED_ENUMS,
    CONTRACT_VERSION,
    FILE_ORDER,
    NODE_FILES,
    SPECS,
)
from loaders.published_contract import describe, describe_column, markdown_table

README = Path(__file__).resolve().parents[3] / "README.md"
BEGIN, END = "<!-- contract table: begin -->", "<!-- contract table: end -->"


def test_enum_domains_are_the_models() -> None:
    assert ACCEPTED_ENUMS["customer_kind"] == tuple(k.value for k in CustomerKind)
    assert ACCEPTED_ENUMS["tie_kind"] == tuple(k.value for k in TieKind)
    assert ACCEPTED_ENUMS["partner_category"] == tuple(k.value for k in PartnerCategory)
    assert ACCEPTED_ENUMS["tier"] == tuple(t.value for t in Tier)


def test_every_file_has_a_graph_target_and_is_loaded_in_order() -> None:
    assert sorted(FILE_ORDER) == sorted(SPECS)
    for name in FILE_ORDER:
        spec = SPECS[name]
        assert (spec.node is None) != (spec.relationship is None) or name == "identifiers"
        assert spec.graph_target().startswith("(:")
        for referenced in spec.refs.values():  # references point at earlier node files
            assert referenced in NODE_FILES
            assert FILE_ORDER.index(referenced) < FILE_ORDER.index(name) or referenced == name


def test_domains_say_what_a_bank_export_must_write() -> None:
    assert describe_column(SPECS["customers"], "risk_rating").domain == "1..5"
    assert describe_column(SPECS["shareholdings"], "pct").domain == "> 0 and <= 100"
    assert describe_column(SPECS["customers"], "rm_id").domain == "a relationship_managers.rm_id"
    assert "HIGH_NET_WORTH" in describe_column(SPECS["products"], "min_tier").domain
    assert describe_column(SPECS["transfers"], "amount").type == "money"


def test_the_json_names_every_file_column_and_required_one() -> None:
    published = json.loads(json.dumps(describe()))
    assert published["version"] == CONTRACT_VERSION
    assert [f["name"] for f in published["files"]] == list(FILE_ORDER)
    for entry in published["files"]:
        spec = SPECS[entry["name"]]
        assert [c["name"] for c in entry["columns"]] == list(spec.columns)
        assert {c["name"] for c in entry["columns"] if c["required"]} == set(spec.required)


def test_the_readme_publishes_the_same_table() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.DOTALL)
    assert match is not None, f"README.md lacks the {BEGIN} … {END} block"
    assert match.group(1).strip() == markdown_table(), (
        "the README's contract table differs from loaders/contract.py: paste the output of "
        "`python -c 'from loaders.published_contract import markdown_table; "
        "print(markdown_table())'`"
    )
