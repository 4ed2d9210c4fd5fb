"""Abuse limits that reject a GraphQL document before any resolver runs.

One walk over the operation measures what the limits need:

* **depth**: how deep fields nest below the root fields (``{ customer { id } }`` is 1),
  the same count as strawberry's ``QueryDepthLimiter``;
* **aliases**: aliased fields, counting a fragment once per spread;
* **cost**: every field costs 1; a field with a page-size argument (``first`` or
  ``limit``) multiplies the cost of its sub-selection by that page size: the literal, the
  variable's value, or, when the argument is absent, the field's default
  (``api_max_page_size`` if it has none). Page sizes along a path multiply:
  ``customers(first: 1000)`` × ``connections(first: 100)`` asks for 100,000 rows.
  Lists without a page-size argument (a connection's ``edges``, a customer's products)
  count once: their length is bounded by the page above them or by the data model;
* **page sizes**: above ``api_max_page_size`` is refused outright and then counted at that
  maximum, so a cost error, if any, is about the shape of the query.

Why not strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter``: both expand every
fragment spread anew, so a few hundred bytes of fragments that each spread the next one
twice take 2^n steps to check (checked with strawberry 0.341: 18 levels take ~1 s, and the
token limit leaves room for ~200). The walk here measures each fragment once and scales it
at every spread. The token limit is strawberry's (the parser enforces it, cheaply), and the
parser also refuses documents nested more than 200 levels.

The cost needs the request's variables, so the rule is built per request by
:class:`QueryLimiter` and runs with the validation rules, after parsing and before
execution. Do not add ``ValidationCache``: it would reuse one request's verdict for
another's variables.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeAlias, TypeGuard, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from api.security.errors import ErrorCode, MaskedErrors, with_code
from graph.settings import CrkgSettings, Environment

ExtensionFactory: TypeAlias = type[SchemaExtension] | Callable[[], SchemaExtension]

PAGE_SIZE_ARGUMENTS = ("first", "limit")
# Nesting of selection sets the walk follows. The parser stops documents nested deeper, but
# not chains of fragment spreads; those are refused as too deep here instead of being
# recursed into without bound.
MAX_WALK_NESTING = 200


# --- configuration ----------------------------------------------------------------------
def security_extensions(settings: CrkgSettings) -> list[ExtensionFactory]:
    """The extensions the schema is built with: limits, error masking, introspection.

    Each entry is a factory, so strawberry makes fresh extension instances per request.
    """
    in_development = settings.environment is Environment.DEVELOPMENT
    limits = QueryLimits(
        max_depth=settings.api_max_depth,
        max_aliases=settings.api_max_aliases,
        max_cost=settings.api_max_cost,
        max_page_size=settings.api_max_page_size,
        # k (paths) multiplies what is under it like a page size does
        page_size_arguments=("first", "limit", "k"),
    )
    extensions: list[ExtensionFactory] = [
        partial(MaskedErrors, hide_suggestions=not in_development),
        partial(ParseLimiter, max_token_count=settings.api_max_tokens),
        partial(QueryLimiter, limits),
    ]
    if not in_development:
        no_introspection = _tag_errors(
            NoSchemaIntrospectionCustomRule, ErrorCode.INTROSPECTION_DISABLED
        )
        extensions.append(partial(AddValidationRules, [no_introspection]))
    return extensions


def schema_config(settings: CrkgSettings) -> StrawberryConfig:
    """Strawberry's config with field suggestions off outside development.

    Strawberry strips only "Did you mean" on unknown fields; :class:`MaskedErrors` strips
    the rest (arguments, types, enum values).
    """
    return StrawberryConfig(
        disable_field_suggestions=settings.environment is not Environment.DEVELOPMENT
    )


def _tag_errors(rule: type[ASTValidationRule], code: ErrorCode) -> type[ASTValidationRule]:
    """``rule`` whose reported errors carry ``extensions.code``.

    The rule gets its own shallow copy of the validation context whose ``on_error`` adds the
    code, so it applies whether the rule reports while constructed or while visiting, and
    the other rules' errors stay untouched.
    """

    def __init__(self: ASTValidationRule, context: ValidationContext) -> None:
        tagging = copy.copy(context)
        tagging.on_error = lambda error: context.report_error(with_code(error, code))  # type: ignore[method-assign]
        rule.__init__(self, tagging)

    name = f"{rule.__name__}With{code.title().replace('_', '')}"
    return type(name, (rule,), {"__init__": __init__})


class ParseLimiter(MaxTokensLimiter):
    """Strawberry's token limit, with codes on the errors of the parser's own limits.

    graphql-core's parser stops at ``max_tokens`` and at 200 levels of nesting; both are
    syntax errors without a code, tagged here ``TOO_MANY_TOKENS`` and ``QUERY_TOO_DEEP``.
    """

    def on_parse(self) -> Iterator[None]:
        yield
        too_many_tokens = f"more than {self.max_token_count} tokens"
        for error in self.execution_context.pre_execution_errors or ():
            if not isinstance(error, GraphQLSyntaxError):
                continue
            if too_many_tokens in error.message:
                with_code(error, ErrorCode.TOO_MANY_TOKENS, limit=self.max_token_count)
            elif "nested too deeply" in error.message:
                with_code(error, ErrorCode.QUERY_TOO_DEEP)


# --- measuring an operation ---------------------------------------------------------------
@dataclass(frozen=True)
class QueryLimits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int
    page_size_arguments: Sequence[str] = PAGE_SIZE_ARGUMENTS


@dataclass(frozen=True)
class PageStep:
    """One paginated field on the way to the most multiplied part of a query."""

    field: str
    argument: str
    page_size: int

    def __str__(self) -> str:
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

    def violations(self, limits: QueryLimits) -> list[LimitViolation]:
        found = list(self.page_size_violations)
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

    def add(self, part: _Measure) -> None:
        self.cost += part.cost
        self.depth = max(self.depth, part.depth)
        self.aliases += part.aliases
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
            # __typename, introspection (ignored for depth, like strawberry does), or a
            # field that validation rejects: one unit each.
            return _Measure(cost=1, aliases=aliases)
        page = self._page_size(node, definition)
        if node.selection_set is None:
            if page is None:
                return _Measure(cost=1, aliases=aliases)
            # A paginated list of scalars costs one per item.
            return _Measure(
                cost=1 + page.page_size, aliases=aliases, product=page.page_size, chain=(page,)
            )
        below = self._selections(node.selection_set, get_named_type(definition.type), nesting + 1)
        factor = page.page_size if page else 1
        return _Measure(
            cost=1 + factor * below.cost,
            depth=1 + below.depth,
            aliases=aliases + below.aliases,
            product=factor * below.product,
            chain=(page, *below.chain) if page else below.chain,
        )

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

    def _refuse_page(self, code: ErrorCode, message: str, node: FieldNode) -> None:
        details = {"limit": self.limits.max_page_size}
        self.page_size_violations.append(LimitViolation(code, message, node, details))

    def _argument_value(self, value: ValueNode | None) -> object:
        """The argument's value; ``_ABSENT`` when GraphQL would use the field's default."""
        if value is None:
            return _ABSENT
        if isinstance(value, IntValueNode):
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


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return cast("GraphQLField | None", parent.fields.get(name))
    return None


# --- wiring into strawberry ------------------------------------------------------------------
def query_limits_rule(
    limits: QueryLimits, variables: Mapping[str, Any], operation_name: str | None
) -> type[ValidationRule]:
    """A validation rule refusing documents too deep, too aliased, too costly, or too paged."""

    class QueryLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measures = measure_operations(
                context.schema,
                context.document,
                limits,
                variables=variables,
                operation_name=operation_name,
            )
            for measure in measures:
                for violation in measure.violations(limits):
                    context.report_error(violation.as_graphql_error())

    return QueryLimitsRule


class QueryLimiter(SchemaExtension):
    """Adds this request's :func:`query_limits_rule` (it needs the variables) to validation."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # Before parsing, operation_name is the one the request names, or None.
        rule = query_limits_rule(self.limits, context.variables or {}, context.operation_name)
        context.validation_rules = (*context.validation_rules, rule)
        yield
