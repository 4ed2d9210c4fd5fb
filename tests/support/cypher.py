"""What a Cypher statement names: its node labels and relationship types (for the tests that
check every query against the model's enums)."""

from __future__ import annotations

import re

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
# (c:Customer ...), (:Product {...}), NOT n:SchemaVersion
_NODE = re.compile(
    r"\(\s*[A-Za-z_][A-Za-z0-9_]*\s*:\s*([A-Za-z_][A-Za-z0-9_]*)|\(\s*:\s*([A-Za-z_]+)"
)
_LABEL_TEST = re.compile(r"\b(?:WHERE|NOT|AND|OR)\s+[a-z][A-Za-z0-9_]*:([A-Z][A-Za-z0-9]*)\b")
# [r:FRIEND|FAMILY*1..3], [:MEMBER_OF], [rels:GUARANTEES*1..2]
_REL = re.compile(r"\[\s*[A-Za-z_]*\s*:\s*([A-Z_][A-Z0-9_|]*)")


def labels_and_types(query: str) -> tuple[set[str], set[str]]:
    """(node labels, relationship types) a statement names literally."""
    text = _QUOTED.sub("''", query)
    labels = {a or b for a, b in _NODE.findall(text)}
    labels |= set(_LABEL_TEST.findall(text))
    types = {t for group in _REL.findall(text) for t in group.split("|") if t}
    return labels, types
