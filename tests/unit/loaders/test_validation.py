"""Row validation, sources and identifier hashing, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from loaders.contract import SPECS
from loaders.pii import IdentifierHasher
from loaders.rejects import Reject, RejectReason
from loaders.sources import RawRow, SourceFile, UnreadableFileError, iter_rows
from loaders.validation import FileValidator, Op, ValidRow


def _customer_row(**values: str) -> RawRow:
    """A customers.csv row (line 2): a minimal valid one with ``values`` over it."""
    return RawRow(2, {"customer_id": "C1", "kind": "PERSON", "name": "张伟", **values})


def _customer(**values: str) -> ValidRow | Reject:
    """That row, validated."""
    return FileValidator(SPECS["customers"]).validate(_customer_row(**values))


@pytest.mark.parametrize(
    ("values", "reason", "column"),
    [
        ({"kind": "ALIEN"}, RejectReason.BAD_ENUM, "kind"),
        ({"name": ""}, RejectReason.MISSING_REQUIRED, "name"),
        ({"aum": "lots"}, RejectReason.BAD_NUMBER, "aum"),
        ({"aum": "nan"}, RejectReason.BAD_NUMBER, "aum"),
        ({"aum": "-1"}, RejectReason.OUT_OF_RANGE, "aum"),
        ({"risk_rating": "2.5"}, RejectReason.BAD_NUMBER, "risk_rating"),
        ({"risk_rating": "9"}, RejectReason.OUT_OF_RANGE, "risk_rating"),
        ({"consent_marketing": "perhaps"}, RejectReason.BAD_BOOLEAN, "consent_marketing"),
        ({"onboarded_at": "2026-13-45"}, RejectReason.BAD_DATE, "onboarded_at"),
        ({"name": "bad\udcff"}, RejectReason.BAD_UTF8, "name"),
        ({"op": "MERGE"}, RejectReason.BAD_ENUM, "op"),
        ({"name": "\x00"}, RejectReason.CONTROL_CHARACTER, "name"),
        ({"city": "上海\x1b[2J"}, RejectReason.CONTROL_CHARACTER, "city"),
        ({"name": "a\x7f"}, RejectReason.CONTROL_CHARACTER, "name"),
    ],
)
def test_each_rule_has_its_reason(
    values: dict[str, str], reason: RejectReason, column: str
) -> None:
    outcome = _customer(**values)
    assert isinstance(outcome, Reject)
    assert (outcome.reason, outcome.column, outcome.line) == (reason, column, 2)


def test_a_control_character_is_named_with_its_position() -> None:
    outcome = _customer(name="张\x07伟")
    assert isinstance(outcome, Reject)
    assert outcome.message == "name holds the control character U+0007 at position 2"
    # tabs and line breaks are text, not control: a multi-line address stays valid
    assert isinstance(_customer(city="上海\t浦东\n张江"), ValidRow)


def test_a_valid_row_is_typed() -> None:
    outcome = _customer(
        aum="12.5", risk_rating="3", consent_marketing="Y", onboarded_at="2024-02-29", kind="person"
    )
    assert isinstance(outcome, ValidRow)
    assert outcome.op is Op.UPSERT
    values = outcome.values
    # money is exact: 12.5 is stored as 1250 minor units (分), never as a float
    assert (values["aum"], values["risk_rating"], values["consent_marketing"]) == (1250, 3, True)
    assert type(values["aum"]) is int
    assert values["onboarded_at"] == date(2024, 2, 29)
    assert values["kind"] == "PERSON"
    assert "city" not in values  # not in the row: left untouched, not cleared


def test_duplicates_first_occurrence_wins() -> None:
    validator = FileValidator(SPECS["customers"])
    assert isinstance(validator.validate(_customer_row()), ValidRow)
    again = validator.validate(RawRow(3, {"customer_id": "C1", "kind": "PERSON", "name": "张伟"}))
    other = validator.validate(RawRow(4, {"customer_id": "C1", "kind": "PERSON", "name": "李"}))
    assert isinstance(again, Reject)
    assert "repeat of line 2" in again.message
    assert isinstance(other, Reject)
    assert "different row" in other.message


def test_self_loops_and_naive_times() -> None:
    validator = FileValidator(SPECS["transfers"])
    loop = validator.validate(
        RawRow(2, {"src_id": "A", "dst_id": "A", "amount": "1", "at": "2026-01-01T00:00:00"})
    )
    assert isinstance(loop, Reject)
    assert loop.reason is RejectReason.SELF_LOOP
    ok = validator.validate(
        RawRow(3, {"src_id": "A", "dst_id": "B", "amount": "1", "at": "2026-01-01T08:30:00"})
    )
    assert isinstance(ok, ValidRow)
    assert ok.values["at"] == datetime(2026, 1, 1, 8, 30, tzinfo=UTC)


def test_a_delete_needs_only_the_key() -> None:
    outcome = FileValidator(SPECS["customers"]).validate(
        RawRow(2, {"customer_id": "C9", "kind": "", "name": "", "op": "delete"})
    )
    assert isinstance(outcome, ValidRow)
    assert outcome.op is Op.DELETE


def test_csv_lines_count_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_bytes(
        b'partner_id,name,category\nP1,"two\nlines",SCHOOL\nP2,short\n\nP3,\xff,MERCHANT\n'
    )
    rows = list(iter_rows(SourceFile("partners", path, "csv")))
    assert [r.line for r in rows] == [2, 4, 6]
    assert rows[1].problem is not None  # two fields where the header has three
    bad = FileValidator(SPECS["partners"]).validate(rows[2])
    assert isinstance(bad, Reject)
    assert bad.reason is RejectReason.BAD_UTF8


def test_identifier_hashes_are_keyed_and_normalised() -> None:
    hasher = IdentifierHasher(b"k" * 32)
    assert hasher.key_for("PHONE", "138 0013-8000") == hasher.key_for("PHONE", "+8613800138000")
    assert hasher.key_for("EMAIL", "A@B.cn") == hasher.key_for("EMAIL", " a@b.cn ")
    assert "13800138000" not in hasher.key_for("PHONE", "13800138000")
    assert hasher.key_for("PHONE", "1") != IdentifierHasher(b"x" * 32).key_for("PHONE", "1")


def test_two_spellings_of_one_identifier_are_one_key() -> None:
    validator = FileValidator(SPECS["identifiers"])
    first = validator.validate(
        RawRow(2, {"customer_id": "C1", "kind": "PHONE", "value": "13800138000"})
    )
    second = validator.validate(
        RawRow(3, {"customer_id": "C1", "kind": "PHONE", "value": "138 0013 8000"})
    )
    assert isinstance(first, ValidRow)
    assert isinstance(second, Reject)
    assert second.reason is RejectReason.DUPLICATE_KEY


def test_columns_absent_from_the_file_are_absent_from_the_row() -> None:
    outcome = FileValidator(SPECS["customers"]).validate(
        RawRow(2, {"customer_id": "C1", "kind": "PERSON", "name": "张伟", "city": ""})
    )
    assert isinstance(outcome, ValidRow)
    assert outcome.values == {"customer_id": "C1", "kind": "PERSON", "name": "张伟", "city": None}


def test_an_unclosed_quote_fails_the_file_instead_of_swallowing_rows(tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_text(
        'partner_id,name,category\nP1,"never closed,SCHOOL\nP2,x,SCHOOL\n', encoding="utf-8"
    )
    with pytest.raises(UnreadableFileError, match="broken CSV structure"):
        list(iter_rows(SourceFile("partners", path, "csv")))


# --- money, product eligibility, defaults (issue 9) -------------------------------------------
@pytest.mark.parametrize(
    ("spec", "column", "text", "minor"),
    [
        ("customers", "aum", "14365721.54", 1436572154),
        ("customers", "aum", "0.1", 10),
        ("customers", "aum", "1e3", 100000),
        ("holdings", "balance", "-20.05", -2005),
        ("transfers", "amount", "99999999999.99", 9999999999999),
        ("guarantees", "amount", "7", 700),
    ],
)
def test_money_is_parsed_exactly_into_minor_units(
    spec: str, column: str, text: str, minor: int
) -> None:
    row = {
        "customers": {"customer_id": "C1", "kind": "PERSON", "name": "张"},
        "holdings": {"customer_id": "C1", "product_id": "P1"},
        "transfers": {"src_id": "A", "dst_id": "B", "at": "2026-01-01T00:00:00"},
        "guarantees": {"guarantor_id": "A", "borrower_id": "B", "start": "2026-01-01"},
    }[spec]
    outcome = FileValidator(SPECS[spec]).validate(RawRow(2, {**row, column: text}))
    assert isinstance(outcome, ValidRow), outcome
    assert outcome.values[column] == minor
    assert type(outcome.values[column]) is int
    assert SPECS[spec].property_of(column) == f"{column}_minor"


def test_money_with_more_than_two_places_is_refused_and_says_so() -> None:
    outcome = _customer(aum="10.005")
    assert isinstance(outcome, Reject)
    assert (outcome.reason, outcome.column) == (RejectReason.BAD_NUMBER, "aum")
    assert "more than 2 decimal places" in outcome.message


def _product(**values: str) -> ValidRow | Reject:
    """A products.csv row (line 2): a minimal valid one with ``values`` over it, validated."""
    row = {"product_id": "P1", "name": "校园信用卡", "category": "CREDIT_CARD", **values}
    return FileValidator(SPECS["products"]).validate(RawRow(2, row))


def test_product_eligibility_columns_are_typed() -> None:
    outcome = _product(
        eligible_kinds="person",
        min_age="16",
        max_age="28",
        eligible_scenario_kinds="CAMPUS; PAYROLL",
        min_tier="affluent",
    )
    assert isinstance(outcome, ValidRow), outcome
    values = outcome.values
    assert values["eligible_kinds"] == ("PERSON",)
    assert (values["min_age"], values["max_age"]) == (16, 28)
    assert values["eligible_scenario_kinds"] == ("CAMPUS", "PAYROLL")
    assert values["min_tier"] == "AFFLUENT"
    both = _product(eligible_kinds="COMPANY;PERSON")
    assert isinstance(both, ValidRow)
    assert both.values["eligible_kinds"] == ("COMPANY", "PERSON")


@pytest.mark.parametrize(
    ("values", "reason", "column", "says"),
    [
        ({"eligible_kinds": "PERSON;ROBOT"}, RejectReason.BAD_ENUM, "eligible_kinds", "ROBOT"),
        ({"eligible_kinds": ";"}, RejectReason.BAD_ENUM, "eligible_kinds", "empty"),
        ({"eligible_scenario_kinds": "MOON"}, RejectReason.BAD_ENUM, "eligible_scenario_kinds", ""),
        ({"min_tier": "GOLD"}, RejectReason.BAD_ENUM, "min_tier", "GOLD"),
        ({"min_age": "sixteen"}, RejectReason.BAD_NUMBER, "min_age", ""),
        ({"max_age": "200"}, RejectReason.OUT_OF_RANGE, "max_age", ""),
        ({"min_age": "30", "max_age": "20"}, RejectReason.OUT_OF_RANGE, "min_age", "above max_age"),
    ],
)
def test_bad_eligibility_rules_are_rejected_with_a_reason(
    values: dict[str, str], reason: RejectReason, column: str, says: str
) -> None:
    outcome = _product(**values)
    assert isinstance(outcome, Reject)
    assert (outcome.reason, outcome.column) == (reason, column)
    assert says in outcome.message


def test_customers_carry_birth_and_default_dates() -> None:
    outcome = _customer(birth_date="1990-05-04", defaulted_at="2025-11-30")
    assert isinstance(outcome, ValidRow)
    assert outcome.values["birth_date"] == date(1990, 5, 4)
    assert outcome.values["defaulted_at"] == date(2025, 11, 30)
    bad = _customer(defaulted_at="2025-02-30")
    assert isinstance(bad, Reject)
    assert (bad.reason, bad.column) == (RejectReason.BAD_DATE, "defaulted_at")
