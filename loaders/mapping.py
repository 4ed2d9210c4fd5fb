"""A source system's mapping file: how its export becomes the input contract.

One YAML file per source system (core banking, cards, CRM, …), kept in version control and
reviewed like code. YAML rather than TOML because a reviewer reads Chinese column names as
plain keys (``客户号: customer_id``, TOML needs them quoted), and because PyYAML's composer
gives every key and value its line, so each mistake is reported at its line. The file is
*composed*, never constructed: every scalar is read as the text written, so ``NO``, ``010``
or ``2019-03-01`` stay exactly those characters (YAML 1.1 would make them ``False``, 8 and a
date).

What a file may say, per contract file (see the README for a full example): ``source`` (the
source system's file name), ``encoding`` (declared always wins; else detected), ``columns``
(source column → contract column), ``values`` (per contract column, source value → contract
value), ``numbers`` (thousands separator, decimal mark, currency signs, ``万`` units, a
scale), ``dates`` (a ``strptime`` pattern or ``excel``), ``constants`` (a contract column
every row gets) and ``skip`` (rows that are not data, such as a footer of totals: a column and
a regular expression). The mapping's version and SHA-256 are recorded in the ``LoadRun``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from graph.errors import CrkgError
from loaders.contract import (
    ACCEPTED_ENUMS,
    CONTRACT_VERSION,
    FALSE_WORDS,
    SPECS,
    TRUE_WORDS,
    FileSpec,
)
from loaders.encoding import EncodingError, canonical_encoding
from loaders.formats import EXCEL, DateFormat, FormatError, NumberFormat
from loaders.rejects import Reject, RejectReason
from loaders.sources import FORMATS, RawRow

_TOP_KEYS: Final = ("mapping_version", "source_system", "contract_version", "description", "files")
_FILE_KEYS: Final = (
    "source", "encoding", "columns", "values", "numbers", "dates", "constants", "skip",
)  # fmt: skip
_NUMBER_KEYS: Final = ("thousands", "decimal", "currency", "units", "scale")
_SYSTEM_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class MappingError(CrkgError):
    """A mapping file that cannot be used; the message names the file, line and column."""

    exit_code = 2


@dataclass(frozen=True)
class SkipRule:
    column: str  # a contract column (after renames)
    pattern: re.Pattern[str]

    def __str__(self) -> str:
        return f"{self.column} matches {self.pattern.pattern!r}"


@dataclass(frozen=True)
class FileMapping:
    """How one source file becomes one contract file."""

    contract_file: str
    source: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # source column -> contract column
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    numbers: dict[str, NumberFormat] = field(default_factory=dict)
    dates: dict[str, DateFormat] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    skip: tuple[SkipRule, ...] = ()

    def rename(self, header: list[str]) -> list[str]:
        """The header in contract names, with the constant columns appended."""
        renamed = [self.columns.get(name, name) for name in header]
        doubled = sorted({c for c in renamed if renamed.count(c) > 1})
        if doubled:
            sources = [n for n in header if self.columns.get(n, n) in doubled]
            raise MappingError(
                f"{self.contract_file}: {', '.join(sources)} all become "
                f"{', '.join(doubled)} after the mapping's renames",
                hint="map one source column to each contract column",
            )
        clash = [c for c in self.constants if c in renamed]
        if clash:
            raise MappingError(
                f"{self.contract_file}: {', '.join(clash)} is both a constant of the mapping "
                "and a column of the file",
                hint="drop the constant, or the column's rename",
            )
        return renamed + list(self.constants)

    def apply(self, row: RawRow, *, datetimes: frozenset[str]) -> RawRow | Reject | SkipRule:
        """The row in contract names and formats, a reject, or the rule that skips it."""
        if row.problem is not None:
            return row
        values = {self.columns.get(k, k): v for k, v in row.values.items()}
        for rule in self.skip:
            cell = values.get(rule.column)
            if cell is not None and rule.pattern.search(str(cell)):
                return rule
        for column, table in self.values.items():
            cell = values.get(column)
            if cell is None:
                continue
            text = str(cell).strip()
            mapped = table.get(text)
            if mapped is None:
                mapped = table.get(text.upper())
            if mapped is not None:
                values[column] = mapped
        for column, number in self.numbers.items():
            cell = values.get(column)
            if isinstance(cell, str) and cell.strip():
                try:
                    values[column] = number.parse(cell)
                except FormatError as error:
                    return self._reject(row, column, RejectReason.BAD_NUMBER, str(error))
        for column, date_format in self.dates.items():
            cell = values.get(column)
            if cell is not None and str(cell).strip():
                try:
                    values[column] = date_format.parse(str(cell), with_time=column in datetimes)
                except FormatError as error:
                    return self._reject(row, column, RejectReason.BAD_DATE, str(error))
        values.update(self.constants)
        return RawRow(row.line, values)

    def _reject(self, row: RawRow, column: str, reason: RejectReason, detail: str) -> Reject:
        return Reject(
            self.contract_file,
            row.line,
            column,
            reason,
            f"{column} {detail} (the mapping's {_SECTION[reason]}.{column})",
            row.values,
        )


_SECTION: Final = {RejectReason.BAD_NUMBER: "numbers", RejectReason.BAD_DATE: "dates"}


@dataclass(frozen=True)
class Mapping:
    """One source system's mapping, as validated."""

    path: Path
    source_system: str
    version: str
    sha256: str
    contract_version: str
    files: dict[str, FileMapping]

    def provenance(self) -> dict[str, str]:
        """What the ``LoadRun`` records about the mapping."""
        return {
            "mapping_path": str(self.path),
            "mapping_source_system": self.source_system,
            "mapping_version": self.version,
            "mapping_sha256": self.sha256,
        }


# --- reading and validating -------------------------------------------------------------
class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Node, message: str, hint: str | None = None) -> MappingError:
        mark = node.start_mark
        return MappingError(f"{self.path}:{mark.line + 1}:{mark.column + 1}: {message}", hint=hint)

    def mapping(self, node: Node, what: str) -> list[tuple[ScalarNode, Node]]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping (key: value lines)")
        seen: dict[str, ScalarNode] = {}
        pairs = []
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                raise self.fail(key, f"a key of {what} must be plain text")
            if key.value in seen:
                first = seen[key.value].start_mark.line + 1
                raise self.fail(
                    key, f"{key.value!r} appears twice in {what} (first at line {first})"
                )
            seen[key.value] = key
            pairs.append((key, value))
        return pairs

    def text(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be a single value")
        if node.value.strip() == "":
            raise self.fail(node, f"{what} is empty")
        return str(node.value)

    def keys(
        self, pairs: list[tuple[ScalarNode, Node]], allowed: tuple[str, ...], what: str
    ) -> None:
        for key, _ in pairs:
            if key.value not in allowed:
                raise self.fail(
                    key, f"unknown key {key.value!r} in {what}", _did_you_mean(key.value, allowed)
                )


def _did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(options)}"


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; any mistake fails with its line and column."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MappingError(f"cannot read mapping {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MappingError(f"{path}: a mapping file is UTF-8 (byte {error.start} is not)") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark is not None else "?"
        raise MappingError(f"{path}:{where}: not valid YAML: {error.problem}") from None
    reader = _Reader(path)
    if root is None:
        raise MappingError(f"{path}: the mapping is empty", hint="see the README's example")
    top = reader.mapping(root, "the mapping")
    reader.keys(top, _TOP_KEYS, "the mapping")
    found = {key.value: (key, value) for key, value in top}
    for required in ("mapping_version", "source_system", "files"):
        if required not in found:
            raise reader.fail(root, f"the mapping needs {required!r}")
    system_node = found["source_system"][1]
    system = reader.text(system_node, "source_system")
    if not _SYSTEM_NAME.fullmatch(system):
        raise reader.fail(system_node, f"source_system {system!r} must be letters, digits, _ . -")
    contract = CONTRACT_VERSION
    if "contract_version" in found:
        node = found["contract_version"][1]
        contract = reader.text(node, "contract_version")
        if _version(contract) > _version(CONTRACT_VERSION):
            raise reader.fail(
                node, f"written for contract {contract}; this crkg reads {CONTRACT_VERSION}"
            )
    files: dict[str, FileMapping] = {}
    sources: dict[str, ScalarNode] = {}
    for key, body in reader.mapping(found["files"][1], "files"):
        if key.value not in SPECS:
            raise reader.fail(
                key,
                f"{key.value!r} is not a file of the contract",
                _did_you_mean(key.value, sorted(SPECS)),
            )
        mapped = _file_mapping(reader, SPECS[key.value], body)
        if mapped.source is not None:
            if mapped.source in sources:
                raise reader.fail(
                    key,
                    f"source {mapped.source!r} is mapped twice "
                    f"(also at line {sources[mapped.source].start_mark.line + 1})",
                )
            sources[mapped.source] = key
        files[key.value] = mapped
    return Mapping(
        path=path,
        source_system=system,
        version=reader.text(found["mapping_version"][1], "mapping_version"),
        sha256=hashlib.sha256(raw).hexdigest(),
        contract_version=contract,
        files=files,
    )


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (999,)  # not a version at all: refused as newer than any


def _file_mapping(reader: _Reader, spec: FileSpec, node: Node) -> FileMapping:
    what = f"files.{spec.name}"
    pairs = reader.mapping(node, what)
    reader.keys(pairs, _FILE_KEYS, what)
    parts: dict[str, Any] = {}
    contract_columns = (*spec.columns, "op")

    def column(key: ScalarNode, section: str, allowed: tuple[str, ...] = contract_columns) -> str:
        if key.value not in allowed:
            noun = "a column" if allowed == contract_columns else f"a {section} column"
            raise reader.fail(
                key,
                f"{key.value!r} is not {noun} of {spec.name}",
                _did_you_mean(key.value, list(allowed)),
            )
        return str(key.value)

    for key, value in pairs:
        section = key.value
        if section == "source":
            name = reader.text(value, f"{what}.source")
            if Path(name).name != name or Path(name).suffix not in FORMATS:
                raise reader.fail(
                    value, f"source {name!r} must be a file name ending in {', '.join(FORMATS)}"
                )
            parts["source"] = name
        elif section == "encoding":
            try:
                parts["encoding"] = canonical_encoding(reader.text(value, f"{what}.encoding"))
            except EncodingError as error:
                raise reader.fail(value, error.message, error.hint) from None
        elif section == "columns":
            renames: dict[str, str] = {}
            for source, target in reader.mapping(value, f"{what}.columns"):
                if not isinstance(target, ScalarNode):
                    raise reader.fail(
                        target, "a rename maps one source column to one contract column"
                    )
                renames[source.value] = column(target, section)
            doubled = [t for t in set(renames.values()) if list(renames.values()).count(t) > 1]
            if doubled:
                raise reader.fail(value, f"several source columns become {doubled[0]!r}")
            parts["columns"] = renames
        elif section == "values":
            parts["values"] = {
                column(col, section): {
                    src.value: _checked_value(reader, spec, col.value, dst)
                    for src, dst in reader.mapping(table, f"{what}.values.{col.value}")
                }
                for col, table in reader.mapping(value, f"{what}.values")
            }
        elif section == "numbers":
            parts["numbers"] = {
                column(col, section, tuple(spec.numbers)): _number_format(
                    reader, body, f"{what}.numbers.{col.value}"
                )
                for col, body in reader.mapping(value, f"{what}.numbers")
            }
        elif section == "dates":
            parts["dates"] = {
                column(col, section, (*spec.dates, *spec.datetimes)): _date_format(reader, pattern)
                for col, pattern in reader.mapping(value, f"{what}.dates")
            }
        elif section == "constants":
            parts["constants"] = {
                column(col, section): _checked_value(reader, spec, col.value, constant)
                for col, constant in reader.mapping(value, f"{what}.constants")
            }
        else:  # skip
            parts["skip"] = tuple(
                _skip_rule(reader, spec, rule, column)
                for rule in _sequence(reader, value, f"{what}.skip")
            )
    mapped = FileMapping(spec.name, **parts)
    renamed_targets = set(mapped.columns.values())
    for constant in mapped.constants:
        if constant in renamed_targets:
            raise reader.fail(
                node, f"{constant!r} is both a constant and a renamed column of {spec.name}"
            )
    return mapped


def _sequence(reader: _Reader, node: Node, what: str) -> list[Node]:
    if not isinstance(node, SequenceNode):
        raise reader.fail(node, f"{what} must be a list (lines starting with '- ')")
    return list(node.value)


def _skip_rule(reader: _Reader, spec: FileSpec, node: Node, column: Any) -> SkipRule:
    pairs = reader.mapping(node, "a skip rule")
    reader.keys(pairs, ("column", "matches"), "a skip rule")
    found = dict((k.value, (k, v)) for k, v in pairs)
    if set(found) != {"column", "matches"}:
        raise reader.fail(
            node,
            "a skip rule needs 'column' (a contract column) and 'matches' (a regular expression)",
        )
    target = found["column"][1]
    if not isinstance(target, ScalarNode):
        raise reader.fail(target, "column must be a single value")
    pattern_node = found["matches"][1]
    try:
        pattern = re.compile(reader.text(pattern_node, "matches"))
    except re.error as error:
        raise reader.fail(pattern_node, f"matches is not a regular expression: {error}") from None
    return SkipRule(column(target, "skip"), pattern)


def _number_format(reader: _Reader, node: Node, what: str) -> NumberFormat:
    pairs = reader.mapping(node, what)
    reader.keys(pairs, _NUMBER_KEYS, what)
    parts: dict[str, Any] = {}
    for key, value in pairs:
        if key.value == "currency":
            items = (
                _sequence(reader, value, f"{what}.currency")
                if isinstance(value, SequenceNode)
                else [value]
            )
            parts["currency"] = tuple(reader.text(item, "a currency sign") for item in items)
        elif key.value == "units":
            units = {}
            for unit, times in reader.mapping(value, f"{what}.units"):
                count = reader.text(times, f"unit {unit.value}")
                if not count.isdigit() or int(count) < 1:
                    raise reader.fail(
                        times, f"unit {unit.value!r} must multiply by a whole number, not {count!r}"
                    )
                units[str(unit.value)] = int(count)
            parts["units"] = units
        elif key.value == "scale":
            try:
                parts["scale"] = Decimal(reader.text(value, "scale"))
            except InvalidOperation:
                raise reader.fail(value, "scale must be a number") from None
        else:
            mark = value.value if isinstance(value, ScalarNode) else None
            if mark is None or len(mark) != 1 or mark.isdigit():
                raise reader.fail(value, f'{key.value} must be one character (quote it: ",")')
            parts[key.value] = mark
    number = NumberFormat(**parts)
    if number.thousands and number.thousands == number.decimal:
        raise reader.fail(node, "the thousands separator and the decimal mark must differ")
    return number


def _date_format(reader: _Reader, node: Node) -> DateFormat:
    pattern = reader.text(node, "a date format")
    if pattern != EXCEL:
        if "%" not in pattern:
            raise reader.fail(
                node, f"{pattern!r} is neither a strptime pattern (%Y/%m/%d) nor 'excel'"
            )
        probe = DateFormat(pattern)
        from datetime import datetime

        try:
            probe.parse(datetime(2001, 12, 31, 23, 59, 58).strftime(pattern))
        except (FormatError, ValueError):
            raise reader.fail(node, f"{pattern!r} cannot read back the dates it writes") from None
    return DateFormat(pattern)


def _checked_value(reader: _Reader, spec: FileSpec, column: str, node: Node) -> str:
    """A value the mapping writes into a contract column, checked against the column's rule."""
    value = reader.text(node, f"the value for {column}")
    problem = None
    if column in spec.enums:
        allowed = ACCEPTED_ENUMS[spec.enums[column]]
        value = value.upper()
        if value not in allowed:
            problem = f"{value!r} is not one of {', '.join(allowed)}"
    elif column in spec.numbers:
        rule = spec.numbers[column]
        try:
            number = float(value)
            if not rule.in_range(number) or (rule.integer and not number.is_integer()):
                problem = f"{value} is outside {column}'s domain {rule.describe()}"
        except ValueError:
            problem = f"{value!r} is not a number ({column}'s domain is {rule.describe()})"
    elif column in spec.booleans and value.lower() not in TRUE_WORDS | FALSE_WORDS:
        problem = f"{value!r} is not true/false"
    if problem is not None:
        raise reader.fail(node, f"{spec.name}.{column}: {problem}")
    return value
