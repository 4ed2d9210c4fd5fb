"""Probes generated from the GraphQL schema itself: every (type, field) reachable from a root.

Each object type is reached at its shallowest path from a root field (breadth first, cycles
cut: a type is expanded once), and one probe per type selects every field of it there —
object fields with ``__typename`` only. Arguments come from a fill table; a required argument
the table cannot fill is an error, so no field is skipped silently. New fields and types are
probed without anyone writing a test for them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from tests.support.graphql_types import is_list

Fills = Mapping[str, Any]
"""Argument values by ``Type.field.argument`` or by plain argument name (the fallback)."""


class UnfillableArgumentError(Exception):
    """A required argument that the fill table has no value for."""


@dataclass(frozen=True)
class Step:
    field: str
    arguments: str  # "(a: 1, b: \"x\")" or ""
    is_list: bool


@dataclass(frozen=True)
class Probe:
    """Every field of ``type_name`` selected at ``path`` below the ``operation`` root."""

    operation: str  # "query" or "mutation"
    type_name: str
    path: tuple[Step, ...]
    fields: tuple[str, ...]  # response keys selected on the type (fields in schema spelling)
    document: str


def _literal(value: Any, arg_type: GraphQLInputType) -> str:
    """A GraphQL literal for a Python value of the argument's type."""
    named = get_named_type(arg_type)
    if value is None:
        return "null"
    if isinstance(named, GraphQLEnumType):
        if isinstance(value, list):
            return "[" + ", ".join(str(v) for v in value) + "]"
        return str(value)
    if isinstance(value, list):
        inner = arg_type.of_type if isinstance(arg_type, GraphQLNonNull) else arg_type
        item_type = inner.of_type if isinstance(inner, GraphQLList) else inner
        return "[" + ", ".join(_literal(v, item_type) for v in value) + "]"
    if isinstance(value, dict):
        if isinstance(named, GraphQLInputObjectType):
            parts = [
                f"{k}: {_literal(v, named.fields[k].type)}"
                for k, v in value.items()
                if k in named.fields
            ]
            return "{" + ", ".join(parts) + "}"
        # a JSON scalar: an object literal with its keys bare
        return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _arguments(type_name: str, field_name: str, field: GraphQLField, fills: Fills) -> str:
    parts = []
    for arg_name, arg in field.args.items():
        for key in (f"{type_name}.{field_name}.{arg_name}", arg_name):
            if key in fills:
                value = fills[key]
                break
        else:
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined:
                raise UnfillableArgumentError(f"{type_name}.{field_name}({arg_name}:) has no fill")
            continue
        if value is _LEAVE_OUT:
            continue
        parts.append(f"{arg_name}: {_literal(value, arg.type)}")
    return f"({', '.join(parts)})" if parts else ""


_LEAVE_OUT = object()
LEAVE_OUT: Any = _LEAVE_OUT
"""A fill value meaning "do not pass this optional argument here"."""


def _all_leaves(object_type: GraphQLObjectType) -> bool:
    return all(
        is_leaf_type(get_named_type(f.type)) and not f.args for f in object_type.fields.values()
    )


def _document(operation: str, path: tuple[Step, ...], selection: str) -> str:
    text = selection
    for step in reversed(path):
        text = f"{step.field}{step.arguments} {{ {text} }}"
    return f"{operation} {{ {text} }}"


def probes(schema: GraphQLSchema, fills: Fills) -> list[Probe]:
    """One probe per object type reachable from Query and Mutation, at its shallowest path."""
    found: list[Probe] = []
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    seen: set[str] = set()
    queue: deque[tuple[str, GraphQLObjectType, tuple[Step, ...]]] = deque()
    for operation, root in roots:
        if root is not None:
            queue.append((operation, root, ()))
            seen.add(root.name)
    # small value types: the path each is probed at, and whether that field is non-null
    value_paths: dict[str, tuple[str, tuple[Step, ...], bool]] = {}
    while queue:
        operation, object_type, path = queue.popleft()
        selections = []
        for field_name, field in object_type.fields.items():
            arguments = _arguments(object_type.name, field_name, field, fills)
            named = get_named_type(field.type)
            if is_leaf_type(named):
                selections.append(f"{field_name}{arguments}")
            elif isinstance(named, GraphQLObjectType) and _all_leaves(named):
                # small value types (a masked string, money) in full wherever they appear, so
                # every PII field is read, not only the first that reaches the type; their own
                # probe goes where the schema promises a value (a non-null field) if anywhere,
                # not where the field may rightly be null (money of a non-money metric)
                leaves = " ".join(named.fields)
                selections.append(f"{field_name}{arguments} {{ {leaves} }}")
                step = Step(field_name, arguments, is_list(field.type))
                if named.name not in seen:
                    seen.add(named.name)
                    value_paths[named.name] = (operation, (*path, step), False)
                non_null = isinstance(field.type, GraphQLNonNull)
                if non_null and not value_paths[named.name][2]:
                    value_paths[named.name] = (operation, (*path, step), True)
            else:
                selections.append(f"{field_name}{arguments} {{ __typename }}")
                if isinstance(named, GraphQLObjectType) and named.name not in seen:
                    seen.add(named.name)
                    step = Step(field_name, arguments, is_list(field.type))
                    queue.append((operation, named, (*path, step)))
        if path:  # the roots themselves are probed field by field, as their children's parents
            found.append(
                Probe(
                    operation,
                    object_type.name,
                    path,
                    tuple(object_type.fields),
                    _document(operation, path, " ".join(selections)),
                )
            )
        else:
            for field_name, selection in zip(object_type.fields, selections, strict=True):
                found.append(
                    Probe(
                        operation,
                        object_type.name,
                        (),
                        (field_name,),
                        f"{operation} {{ {selection} }}",
                    )
                )
    for type_name, (operation, path, _) in value_paths.items():
        value_type = schema.type_map[type_name]
        assert isinstance(value_type, GraphQLObjectType)
        leaves = " ".join(value_type.fields)
        found.append(
            Probe(
                operation,
                type_name,
                path,
                tuple(value_type.fields),
                _document(operation, path, leaves),
            )
        )
    return found
