"""Mapping files (validated with line-exact errors), encodings and source formats, without a
database. The GBK fixture under ``tests/support/exports`` is hand-written, not generated."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from loaders.contract import SPECS
from loaders.encoding import canonical_encoding, detect_encoding, detect_file_encoding
from loaders.formats import DateFormat, FormatError, NumberFormat, guess_date_format
from loaders.mapping import MappingError, SkipRule, load_mapping
from loaders.rejects import Reject, RejectReason
from loaders.sources import RawRow, discover, iter_rows, read_header
from loaders.validation import FileValidator, ValidRow

EXPORTS = Path(__file__).resolve().parents[2] / "support" / "exports"
GBK_EXPORT = EXPORTS / "core_banking_gbk"
GBK_MAPPING = EXPORTS / "core_banking.yaml"


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


HEAD = """
mapping_version: "1"
source_system: crm
files:
  customers:
"""


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("    colums: {a: b}\n", 5, "unknown key 'colums'"),
        ("    columns:\n      客户号: customer_idd\n", 6, "'customer_idd' is not a column"),
        ("    values:\n      risk_rating: {HIGH: 9}\n", 6, "outside risk_rating's domain 1..5"),
        ("    values:\n      kind: {个人: HUMAN}\n", 6, "'HUMAN' is not one of PERSON, COMPANY"),
        ("    numbers:\n      name: {thousands: ','}\n", 6, "'name' is not a numbers column"),
        ("    numbers:\n      aum: {thousands: ',', decimal: ','}\n", 6, "must differ"),
        ("    dates:\n      onboarded_at: YYYY/MM/DD\n", 6, "neither a strptime pattern"),
        ("    encoding: klingon\n", 5, "unknown encoding 'klingon'"),
        ("    skip:\n      - {column: customer_id, matches: '(['}\n", 6, "not a regular expr"),
        ("    columns: {a: name, b: name}\n", 5, "several source columns become 'name'"),
        ("    source: ../etc/customers.csv\n", 5, "must be a file name"),
        ("    constants: {kind: ROBOT}\n", 5, "'ROBOT' is not one of"),
    ],
)
def test_mistakes_are_reported_at_their_line(
    tmp_path: Path, body: str, line: int, words: str
) -> None:
    path = _mapping(tmp_path, HEAD + body)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert f"{path}:{line}:" in str(caught.value)
    assert words in str(caught.value)


def test_unknown_contract_file_and_duplicate_keys_name_their_line(tmp_path: Path) -> None:
    path = _mapping(tmp_path, 'mapping_version: "1"\nsource_system: crm\nfiles:\n  custmers: {}\n')
    with pytest.raises(
        MappingError, match=r"(?s)m.yaml:4:3: 'custmers' is not a file.*'customers'"
    ):
        load_mapping(path)
    path = _mapping(tmp_path, HEAD + "    columns:\n      a: name\n      a: city\n")
    with pytest.raises(MappingError, match=r":7:7: 'a' appears twice .*first at line 6"):
        load_mapping(path)
    path = _mapping(tmp_path, "source_system: crm\nfiles: {}\n")
    with pytest.raises(MappingError, match="needs 'mapping_version'"):
        load_mapping(path)
    path = _mapping(tmp_path, "mapping_version: 1\n  bad: [\n")
    with pytest.raises(MappingError, match=r"m.yaml:\d+:\d+: not valid YAML"):
        load_mapping(path)


def test_scalars_are_read_as_written_not_as_yaml_guesses(tmp_path: Path) -> None:
    # YAML 1.1 would read NO as false and 010 as 8; a value map must keep the text
    path = _mapping(
        tmp_path,
        HEAD + "    values:\n      consent_marketing: {NO: false, 'Y': true}\n"
        "      risk_rating: {010: 1}\n",
    )
    customers = load_mapping(path).files["customers"]
    assert customers.values["consent_marketing"] == {"NO": "false", "Y": "true"}
    assert customers.values["risk_rating"] == {"010": "1"}


def test_the_mapping_version_and_hash_are_its_provenance() -> None:
    import hashlib

    mapping = load_mapping(GBK_MAPPING)
    assert mapping.provenance() == {
        "mapping_path": str(GBK_MAPPING),
        "mapping_source_system": "core_banking",
        "mapping_version": "2026.12.1",
        "mapping_sha256": hashlib.sha256(GBK_MAPPING.read_bytes()).hexdigest(),
    }
    assert mapping.files["relationship_managers"].encoding == "gb18030"  # declared gbk


def _mapped_rows(name: str) -> list[ValidRow | Reject | SkipRule]:
    mapping = load_mapping(GBK_MAPPING)
    renamed = {n: f.source for n, f in mapping.files.items() if f.source}
    (source,) = [s for s in discover(GBK_EXPORT, renamed) if s.name == name]
    source = replace(source, encoding=detect_file_encoding(source.path).encoding)
    file_mapping = mapping.files[name]
    spec = SPECS[name]
    validator = FileValidator(spec, encoding=source.encoding, mapped=True)
    assert set(file_mapping.rename(read_header(source))) >= set(spec.required)
    out: list[ValidRow | Reject | SkipRule] = []
    for raw in iter_rows(source):
        mapped = file_mapping.apply(raw, datetimes=frozenset(spec.datetimes))
        out.append(mapped if not isinstance(mapped, RawRow) else validator.validate(mapped))
    return out


def test_the_gbk_export_maps_to_the_contract_without_a_reject() -> None:
    rows = _mapped_rows("customers")
    assert [type(r).__name__ for r in rows] == ["ValidRow"] * 5 + ["SkipRule"]
    first = rows[0]
    assert isinstance(first, ValidRow)
    assert first.values["name"] == "张伟"
    assert first.values["kind"] == "PERSON"
    assert first.values["aum"] == 120050  # "1,200.50" in minor units
    assert first.values["risk_rating"] == 1  # LOW
    assert first.values["consent_marketing"] is True  # 是
    assert str(first.values["onboarded_at"]) == "2019-03-01"
    second = rows[1]
    assert isinstance(second, ValidRow)
    assert (second.values["kind"], second.values["risk_rating"]) == ("COMPANY", 5)  # 对公, 高
    guarantees = _mapped_rows("guarantees")
    assert all(isinstance(r, ValidRow) for r in guarantees)
    amounts = [r.values["amount"] for r in guarantees if isinstance(r, ValidRow)]
    assert amounts == [50_000_000, 1_200_000]  # ¥50万, ¥12,000.00
    starts = [str(r.values["start"]) for r in guarantees if isinstance(r, ValidRow)]
    assert starts == ["2019-03-01", "2019-05-15"]  # Excel serials 43525, 43600


def test_without_a_mapping_each_reject_says_what_to_map() -> None:
    validator = FileValidator(SPECS["customers"])
    base = {"customer_id": "C1", "kind": "PERSON", "name": "张伟"}
    cases = {
        "aum": ("1,200.50", RejectReason.BAD_NUMBER, 'numbers: {aum: {thousands: ","}}'),
        "risk_rating": ("HIGH", RejectReason.BAD_NUMBER, "(domain 1..5)"),
        "kind": ("个人", RejectReason.BAD_ENUM, "values: {kind: {个人: PERSON}}"),
        "onboarded_at": ("2019/03/01", RejectReason.BAD_DATE, "dates: {onboarded_at: '%Y/%m/%d'}"),
    }
    for column, (value, reason, hint) in cases.items():
        outcome = validator.validate(RawRow(2, {**base, column: value}))
        assert isinstance(outcome, Reject)
        assert (outcome.column, outcome.reason) == (column, reason)
        assert "mapping file (--mapping)" in outcome.message
        assert hint in outcome.message
    risk = validator.validate(RawRow(2, {**base, "risk_rating": "HIGH"}))
    assert isinstance(risk, Reject)
    assert "values: {risk_rating: {HIGH:" in risk.message


def test_a_mapped_value_that_breaks_its_format_is_rejected_with_the_mapping_named() -> None:
    mapping = load_mapping(GBK_MAPPING).files["customers"]
    raw = RawRow(3, {"客户号": "C9", "客户类型": "个人", "客户名称": "x", "资产余额": "1,2,3"})
    outcome = mapping.apply(raw, datetimes=frozenset())
    assert isinstance(outcome, Reject)
    assert outcome.reason is RejectReason.BAD_NUMBER
    assert "misplaced ','" in outcome.message
    assert "numbers.aum" in outcome.message


def test_undecodable_rows_are_rejected_one_by_one_in_any_encoding() -> None:
    validator = FileValidator(SPECS["customers"], encoding="gb18030")
    text = b"\x80".decode("gb18030", "surrogateescape")
    outcome = validator.validate(RawRow(4, {"customer_id": "C1", "kind": "PERSON", "name": text}))
    assert isinstance(outcome, Reject)
    assert outcome.reason is RejectReason.BAD_ENCODING
    assert "not gb18030" in outcome.message


def test_encodings_declared_and_detected() -> None:
    assert canonical_encoding("GB2312") == canonical_encoding("cp936") == "gb18030"
    assert canonical_encoding("utf-8-sig") == "utf-8"
    for path in GBK_EXPORT.iterdir():
        assert detect_file_encoding(path).encoding == "gb18030", path.name
    utf8 = "客户号,名称\r\nC1,张伟\r\n".encode()
    assert detect_encoding(utf8).encoding == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + utf8).confidence == 1.0
    # one damaged row in a UTF-8 file stays UTF-8 (that row alone is rejected)
    damaged = utf8 * 20 + b"C9,\xff\xfe\r\n"
    assert detect_encoding(damaged).encoding == "utf-8"
    big = ("客户号,客户名称,城市\n" + "C1,北京华盛科技有限公司,上海\n" * 50).encode("gb18030")
    choice = detect_encoding(big)
    assert (choice.encoding, choice.how) == ("gb18030", "detected")
    assert choice.confidence > 0.9


def test_number_and_date_formats() -> None:
    assert NumberFormat(thousands=",").parse("-1,234,567.8") == "-1234567.8"
    assert NumberFormat(thousands=".", decimal=",").parse("1.234,50") == "1234.50"
    assert NumberFormat(scale=NumberFormat().scale * 10000).parse("1.25") == "12500.00"
    with pytest.raises(FormatError):
        NumberFormat(thousands=",").parse("12,34")
    with pytest.raises(FormatError):
        NumberFormat().parse("¥12")  # a currency sign the mapping did not declare
    assert DateFormat("%Y%m%d").parse("20240229") == "2024-02-29"
    assert DateFormat("excel").parse("45351.5", with_time=True) == "2024-02-29T12:00:00"
    with pytest.raises(FormatError):
        DateFormat("%Y/%m/%d").parse("2024-02-30")
    assert guess_date_format(["2019.03.01", "2020.12.31"]) == ("%Y.%m.%d", 1.0)
    # ISO 8601's basic form is read by the contract as it is: nothing to map
    assert guess_date_format(["20190301"]) == ("%Y-%m-%d", 1.0)
    assert guess_date_format(["45000", "43525"]) == ("excel", 1.0)
    assert guess_date_format(["2019-03-01"]) == ("%Y-%m-%d", 1.0)
    assert guess_date_format(["soon"]) is None
