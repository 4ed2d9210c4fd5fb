"""How much an operation may cost, measured before it runs: depth, aliases, fields, page
sizes multiplied down the selection, argument lengths (see :mod:`api.security.limits` for the
bounds), and the strawberry extension that refuses an operation over them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

from api.security.errors import ErrorCode, with_code
from api.security.limits import (
    _LONGEST_INT_LITERAL,
    LIST_BOUNDS,
    MAX_ID_LENGTH,
    MAX_STRING_LENGTH,
    MAX_WALK_NESTING,
    PAGE_SIZE_ARGUMENTS,
    ListBound,
)
from api.security.requests import shown


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int
    max_fields: int = 300
    page_size_arguments: Sequence[str] = PAGE_SIZE_ARGUMENTS
    list_bounds: Mapping[tuple[str, str], ListBound] = field(default_factory=lambda: LIST_BOUNDS)
    max_id_length: int = MAX_ID_LENGTH
    max_string_length: int = MAX_STRING_LENGTH


@dataclass(frozen=True)
class PageStep:
    """One list field (paginated, or of declared length) on the way to the most multiplied
    part of a query."""

    field: str
    argument: str | None  # None: the list's declared maximum length
    page_size: int

    def __str__(self) -> str:
        if self.argument is None:
            return f"{self.field}: at most {self.page_size}"
        return f"{self.field}: {self.argument}={self.page_size}"


@dataclass(frozen=True)
class LimitViolation:
    code: ErrorCode
    message: str
    node: FieldNode | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_graphql_error(self) -> GraphQLError:
        return with_code(GraphQLError(self.message, self.node), self.code, **self.details)


@dataclass(frozen=True)
class OperationMeasure:
    """What one operation asks for, and the chain of page sizes that multiplies the most."""

    operation: str | None
    cost: int
    depth: int
    aliases: int
    heaviest: tuple[PageStep, ...]
    page_size_violations: tuple[LimitViolation, ...]
    nesting_exceeded: bool = False
    fields: int = 0
    argument_violations: tuple[LimitViolation, ...] = ()

    def violations(self, limits: QueryLimits) -> list[LimitViolation]:
        found = list(self.argument_violations)
        if self.fields > limits.max_fields:
            found.append(
                LimitViolation(
                    ErrorCode.TOO_MANY_FIELDS,
                    f"{self._name} selects {self.fields} fields (fragments counted where "
                    f"spread), above the limit {limits.max_fields}",
                    details={"fields": self.fields, "limit": limits.max_fields},
                )
            )
        found.extend(self.page_size_violations)
        if self.nesting_exceeded:
            found.append(
                LimitViolation(
                    ErrorCode.QUERY_TOO_DEEP,
                    f"{self._name} nests selections more than {MAX_WALK_NESTING} levels deep",
                )
            )
        elif self.depth > limits.max_depth:
            found.append(
                LimitViolation(
                    ErrorCode.QUERY_TOO_DEEP,
                    f"{self._name} has depth {self.depth}, above the limit {limits.max_depth}",
                    details={"depth": self.depth, "limit": limits.max_depth},
                )
            )
        if self.aliases > limits.max_aliases:
            found.append(
                LimitViolation(
                    ErrorCode.TOO_MANY_ALIASES,
                    f"{self._name} uses {self.aliases} aliases, above the limit "
                    f"{limits.max_aliases}",
                    details={"aliases": self.aliases, "limit": limits.max_aliases},
                )
            )
        if self.cost > limits.max_cost:
            chain = " × ".join(map(str, self.heaviest)) or "no paginated fields"
            found.append(
                LimitViolation(
                    ErrorCode.QUERY_TOO_COSTLY,
                    f"query cost {self.cost} exceeds the limit {limits.max_cost} ({chain})",
                    details={"cost": self.cost, "limit": limits.max_cost},
                )
            )
        return found

    @property
    def _name(self) -> str:
        return f"operation '{self.operation}'" if self.operation else "the query"


def measure_operations(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    *,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> list[OperationMeasure]:
    """The measure of the operation that would run (of every operation, if that is unclear)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if op.name and op.name.value == operation_name]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return [
        _OperationWalk(schema, fragments, limits, variables or {}, operation).measure()
        for operation in (chosen or operations)
    ]


@dataclass
class _Measure:
    """A selection set fetched once: its cost, depth below it, aliases, heaviest chain."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0
    product: int = 1
    chain: tuple[PageStep, ...] = ()
    fields: int = 0

    def add(self, part: _Measure) -> None:
        self.cost += part.cost
        self.depth = max(self.depth, part.depth)
        self.aliases += part.aliases
        self.fields += part.fields
        if part.product > self.product:
            self.product, self.chain = part.product, part.chain


_ABSENT = object()


@dataclass
class _OperationWalk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    limits: QueryLimits
    variables: Mapping[str, Any]
    operation: OperationDefinitionNode
    page_size_violations: list[LimitViolation] = field(default_factory=list)
    argument_violations: list[LimitViolation] = field(default_factory=list)
    nesting_exceeded: bool = False
    # Cost, depth and aliases are linear in how often a fragment is spread, so each fragment
    # is measured once: a fragment spread twice in a fragment spread twice ... stays cheap.
    _fragment_measures: dict[str, _Measure] = field(default_factory=dict)
    _fragments_in_progress: set[str] = field(default_factory=set)

    def measure(self) -> OperationMeasure:
        root = self.schema.get_root_type(self.operation.operation)
        total = self._selections(self.operation.selection_set, root, nesting=0)
        return OperationMeasure(
            operation=self.operation.name.value if self.operation.name else None,
            cost=total.cost,
            depth=total.depth,
            aliases=total.aliases,
            heaviest=total.chain,
            page_size_violations=tuple(self.page_size_violations),
            nesting_exceeded=self.nesting_exceeded,
            fields=total.fields,
            argument_violations=tuple(self.argument_violations),
        )

    def _selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, nesting: int
    ) -> _Measure:
        total = _Measure()
        if nesting > MAX_WALK_NESTING:
            self.nesting_exceeded = True
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total.add(self._field(selection, parent, nesting))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total.add(self._selections(selection.selection_set, inner, nesting + 1))
            elif isinstance(selection, FragmentSpreadNode):
                total.add(self._fragment(selection.name.value, nesting))
        return total

    def _fragment(self, name: str, nesting: int) -> _Measure:
        if name in self._fragment_measures:
            return self._fragment_measures[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._fragments_in_progress:
            return _Measure()  # unknown or cyclic: validation reports it
        self._fragments_in_progress.add(name)
        condition = self.schema.get_type(fragment.type_condition.name.value)
        measure = self._selections(fragment.selection_set, condition, nesting + 1)
        self._fragments_in_progress.discard(name)
        self._fragment_measures[name] = measure
        return measure

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, nesting: int) -> _Measure:
        aliases = 1 if node.alias else 0
        definition = _field_definition(parent, node.name.value)
        if definition is None:
            # __typename, introspection (ignored for depth and cost, like strawberry does),
            # or a field that validation rejects: one unit each, but every field below it
            # still counts towards the fields the validation would compare.
            below = (
                self._selections(node.selection_set, None, nesting + 1)
                if node.selection_set is not None
                else _Measure()
            )
            return _Measure(cost=1, aliases=aliases + below.aliases, fields=1 + below.fields)
        assert parent is not None  # a definition was found on it
        self._check_arguments(node, parent, definition)
        page = self._page_size(node, definition) or self._declared_length(node, parent, definition)
        if node.selection_set is None:
            if page is None:
                return _Measure(cost=1, aliases=aliases, fields=1)
            # A list of scalars costs one per item.
            return _Measure(
                cost=1 + page.page_size,
                aliases=aliases,
                product=page.page_size,
                chain=(page,),
                fields=1,
            )
        below = self._selections(node.selection_set, get_named_type(definition.type), nesting + 1)
        factor = page.page_size if page else 1
        return _Measure(
            cost=1 + factor * below.cost,
            depth=1 + below.depth,
            aliases=aliases + below.aliases,
            product=factor * below.product,
            chain=(page, *below.chain) if page else below.chain,
            fields=1 + below.fields,
        )

    def _declared_length(
        self, node: FieldNode, parent: GraphQLNamedType, definition: GraphQLField
    ) -> PageStep | None:
        """The declared bound of a list field without a page-size argument (else the
        maximum page size: an undeclared list is assumed as long as a list can be)."""
        if not _is_list(definition.type):
            return None
        key = node.alias.value if node.alias else node.name.value
        bound = self.limits.list_bounds.get((parent.name, node.name.value))
        if bound is None:
            return PageStep(key, None, self.limits.max_page_size)
        if bound.factor == 1:
            return None
        return PageStep(key, None, bound.factor)

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> PageStep | None:
        argument = next((a for a in self.limits.page_size_arguments if a in definition.args), None)
        if argument is None:
            return None
        maximum = self.limits.max_page_size
        key = node.alias.value if node.alias else node.name.value
        given = next((a.value for a in node.arguments or () if a.name.value == argument), None)
        requested = self._argument_value(given)
        if requested is _ABSENT:
            default = definition.args[argument].default_value
            size = min(default, maximum) if _is_int(default) else maximum
        elif not _is_int(requested):
            size = maximum  # null, or a value coercion will refuse: assume the worst
        elif requested > maximum:
            self._refuse_page(
                ErrorCode.PAGE_SIZE_TOO_LARGE,
                f"{key}: {argument}={requested} exceeds the maximum page size {maximum}",
                node,
            )
            size = maximum
        elif requested < 0:
            self._refuse_page(
                ErrorCode.INVALID_PAGE_SIZE,
                f"{key}: {argument}={requested} must not be negative",
                node,
            )
            size = 0
        else:
            size = requested
        return PageStep(key, argument, size)

    # --- argument lengths --------------------------------------------------------------
    def _check_arguments(
        self, node: FieldNode, parent: GraphQLNamedType, definition: GraphQLField
    ) -> None:
        for argument in node.arguments or ():
            declared = definition.args.get(argument.name.value)
            if declared is None:
                continue  # validation reports it
            where = f"{parent.name}.{node.name.value}({argument.name.value}:)"
            self._check_value(argument.value, declared.type, where, node)

    def _check_value(
        self, value: ValueNode, of_type: GraphQLInputType, where: str, node: FieldNode
    ) -> None:
        """A literal, or the variable's value, against its type's longest length."""
        if isinstance(value, VariableNode):
            given = self.variables.get(value.name.value)
            self._check_python(given, of_type, where, node, depth=0)
            return
        inner = of_type.of_type if isinstance(of_type, GraphQLNonNull) else of_type
        if isinstance(value, ListValueNode) and isinstance(inner, GraphQLList):
            for item in value.values:
                self._check_value(item, inner.of_type, where, node)
            return
        named = get_named_type(of_type)
        if isinstance(value, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
            for member in value.fields:
                declared = named.fields.get(member.name.value)
                if declared is not None:
                    self._check_value(
                        member.value, declared.type, f"{where}.{member.name.value}", node
                    )
            return
        if isinstance(value, StringValueNode | IntValueNode):
            self._check_text(value.value, named, where, node)

    def _check_python(
        self, value: Any, of_type: GraphQLInputType, where: str, node: FieldNode, depth: int
    ) -> None:
        if value is None or depth > MAX_WALK_NESTING:
            return
        inner = of_type.of_type if isinstance(of_type, GraphQLNonNull) else of_type
        named = get_named_type(of_type)
        if isinstance(inner, GraphQLList):
            for item in value if isinstance(value, list) else [value]:
                self._check_python(item, inner.of_type, where, node, depth + 1)
        elif isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
            for key, item in value.items():
                declared = named.fields.get(key)
                if declared is not None:
                    self._check_python(item, declared.type, f"{where}.{key}", node, depth + 1)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            self._check_text(str(value), named, where, node)

    def _check_text(self, text: str, named: GraphQLNamedType, where: str, node: FieldNode) -> None:
        most = {"ID": self.limits.max_id_length, "String": self.limits.max_string_length}.get(
            named.name
        )
        if most is None or len(text) <= most:
            return
        self.argument_violations.append(
            LimitViolation(
                ErrorCode.ARGUMENT_TOO_LONG,
                f"{where}: {len(text)} characters, at most {most} for {named.name} "
                f"({shown(text, 16)!r})",
                node,
                {"length": len(text), "limit": most},
            )
        )

    def _refuse_page(self, code: ErrorCode, message: str, node: FieldNode) -> None:
        details = {"limit": self.limits.max_page_size}
        self.page_size_violations.append(LimitViolation(code, message, node, details))

    def _argument_value(self, value: ValueNode | None) -> object:
        """The argument's value; ``_ABSENT`` when GraphQL would use the field's default."""
        if value is None:
            return _ABSENT
        if isinstance(value, IntValueNode):
            if len(value.value.lstrip("-")) > _LONGEST_INT_LITERAL:
                return (
                    -(10**_LONGEST_INT_LITERAL)
                    if value.value.startswith("-")
                    else 10**_LONGEST_INT_LITERAL
                )
            return int(value.value)
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                return self.variables[name]
            declared = next(
                (
                    d
                    for d in self.operation.variable_definitions or ()
                    if d.variable.name.value == name
                ),
                None,
            )
            if declared is None or declared.default_value is None:
                return _ABSENT
            return self._argument_value(declared.default_value)
        return None  # null, or a literal of the wrong type


def _is_list(output: GraphQLOutputType) -> bool:
    while isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return cast("GraphQLField | None", parent.fields.get(name))
    return None
