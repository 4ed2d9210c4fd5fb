"""Abuse limits that reject a GraphQL document before validation and before any resolver.

One walk over the operation measures what the limits need:

* **fields**: field selections, with every fragment spread counted as the fields it brings
  (``{ me { role } me { role } }`` has 4). GraphQL's standard validation compares the fields
  of a selection set pairwise (the overlapping-fields rule), so a small document repeating
  one field hundreds of times costs seconds of CPU; it is refused here first;
* **depth**: how deep fields nest below the root fields (``{ customer { id } }`` is 1),
  the same count as strawberry's ``QueryDepthLimiter``;
* **aliases**: aliased fields, counting a fragment once per spread;
* **cost**: an upper bound on the values the response can hold. Every field costs 1; a list
  field multiplies the cost of its sub-selection (or, for a list of scalars, adds one per
  item) by its largest length: a page-size argument (``first``, ``limit``, ``k``: the
  literal, the variable's value, or, when absent, the field's default, else
  ``api_max_page_size``), or else the maximum declared for it in :data:`LIST_BOUNDS`.
  Lengths along a path multiply: ``customers(first: 1000)`` × ``connections(first: 100)``
  asks for 100,000 rows, and ``customers(first: 1000) { … communities { community {
  centralMembers … } } }`` for 1000 × 4 × 5 customers. A declared bound is enforced too:
  :func:`enforce_list_bounds` cuts a list that would be longer (and the response says so),
  so the estimate stays an upper bound whatever the data;
* **page sizes**: above ``api_max_page_size`` is refused outright and then counted at that
  maximum, so a cost error, if any, is about the shape of the query;
* **argument lengths**: every ``ID`` argument (or input field) at most :data:`MAX_ID_LENGTH`
  characters (the model's key length) and every ``String`` at most
  :data:`MAX_STRING_LENGTH` (the model's longest name), whether written in the document or
  passed as a variable, inside lists and input objects too (``ARGUMENT_TOO_LONG``; the
  message repeats only a short prefix of the value).

Before any of that, :class:`ParseLimiter` refuses a document longer than
``api_max_document_bytes`` (``DOCUMENT_TOO_LARGE``) without parsing it: comments and
whitespace are not tokens, so the token limit alone lets a document of megabytes through to
the parser.

Why not strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter``: both expand every
fragment spread anew, so a few hundred bytes of fragments that each spread the next one
twice take 2^n steps to check (checked with strawberry 0.341: 18 levels take ~1 s, and the
token limit leaves room for ~200). The walk here measures each fragment once and scales it
at every spread. The token limit is strawberry's (the parser enforces it, cheaply), and the
parser also refuses documents nested more than 200 levels.

The cost needs the request's variables, so :class:`QueryLimiter` measures per request, in
the validation step but before any validation rule runs: a refused document is never
validated. Do not add ``ValidationCache``: it would reuse one request's verdict for
another's variables.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, TypeAlias, TypeGuard, cast

from graphql import (
    ASTValidationRule,
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
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValueNode,
    VariableNode,
    default_field_resolver,
    get_named_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from api.security.errors import ErrorCode, MaskedErrors, with_code
from api.security.requests import shown
from graph.settings import CrkgSettings, Environment

logger = logging.getLogger("crkg.api.limits")

ExtensionFactory: TypeAlias = type[SchemaExtension] | Callable[[], SchemaExtension]

PAGE_SIZE_ARGUMENTS = ("first", "limit")
# Longest ID and String a request may pass: the model's key and name lengths (graph.model's
# Key and Name), so nothing longer than the graph can hold reaches a resolver or the driver.
MAX_ID_LENGTH: Final = 128
MAX_STRING_LENGTH: Final = 512
# An Int literal longer than this is beyond any page size (and beyond what int() reads
# cheaply): it is measured as "too large", never converted.
_LONGEST_INT_LITERAL = 18
# Nesting of selection sets the walk follows. The parser stops documents nested deeper, but
# not chains of fragment spreads; those are refused as too deep here instead of being
# recursed into without bound.
MAX_WALK_NESTING = 200


# --- how long each list can be ----------------------------------------------------------------
@dataclass(frozen=True)
class ListBound:
    """The most items one list field returns, as the cost counts and the resolvers keep.

    ``most`` items per parent object; with ``per``, ``most`` items per item of the parent's
    list field of that name (which the page size above it already multiplied); with
    ``page_above``, the list *is* the page of the field that returned its parent (a
    connection's ``edges``): that field's page size has counted it, so it adds no factor.
    """

    most: int = 1
    per: str | None = None
    page_above: bool = False
    why: str = ""

    @property
    def factor(self) -> int:
        return 1 if self.page_above else self.most


# Every list field of the schema has a page-size argument or a bound here; the unit test
# tests/unit/api/test_list_bounds.py walks the schema and fails on a list with neither.
LIST_BOUNDS: Final[Mapping[tuple[str, str], ListBound]] = {
    ("CustomerConnection", "edges"): ListBound(page_above=True, why="the page (`first`)"),
    ("CommunityConnection", "edges"): ListBound(page_above=True, why="the page (`first`)"),
    ("Subgraph", "nodes"): ListBound(page_above=True, why="connections(first)"),
    ("Subgraph", "ties"): ListBound(10, per="nodes", why="ties among the page's customers"),
    ("Customer", "products"): ListBound(30, why="products held by one customer"),
    ("Customer", "scenarios"): ListBound(10, why="scenarios one customer takes part in"),
    ("Customer", "communities"): ListBound(4, why="one per community algorithm"),
    ("Customer", "influenceExplanation"): ListBound(5, why="the 5 top contributors"),
    ("Customer", "identifiers"): ListBound(10, why="phones, devices, addresses, e-mails"),
    ("Customer", "riskLinkages"): ListBound(20, why="risk linkages of one customer"),
    ("Community", "centralMembers"): ListBound(5, why="the 5 members with most ties inside"),
    ("Community", "centralMemberIds"): ListBound(5, why="the 5 members with most ties inside"),
    ("Community", "dominantScenarios"): ListBound(3, why="the 3 scenarios with most members"),
    ("Path", "customerIds"): ListBound(7, why="maxHops <= 6"),
    ("Path", "customers"): ListBound(7, why="maxHops <= 6"),
    ("Path", "uncontactableIds"): ListBound(7, why="a subset of customerIds"),
    ("ReferralTarget", "introducers"): ListBound(10, why="top_introducers <= 10"),
    ("Introducer", "pathIds"): ListBound(3, why="introducers are within two ties"),
    ("Exposure", "byHop"): ListBound(4, why="hops <= 4"),
    ("RelatedPartyGroup", "shareholdings"): ListBound(200, why="shareholdings inside a group"),
    ("Principal", "permissions"): ListBound(20, why="the permission table"),
    ("InfluenceScore", "riskFlags"): ListBound(3, why="RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT"),
    ("RiskRing", "sharedKinds"): ListBound(4, why="phone, device, address, e-mail"),
    ("UpsertResult", "rejected"): ListBound(1_000, why="at most 1,000 input rows"),
}


# Lists cut to their declared bound while resolving a request, by request context: the
# router reports them in the response's extensions (weak keys: a context lives one request).
_TRUNCATED: weakref.WeakKeyDictionary[Any, list[dict[str, Any]]] = weakref.WeakKeyDictionary()


def truncated_lists(context: Any) -> list[dict[str, Any]]:
    """The lists :func:`enforce_list_bounds` cut while resolving with this context."""
    try:
        return _TRUNCATED.get(context, [])
    except TypeError:  # a context that cannot be weakly referenced records nothing
        return []


def enforce_list_bounds(
    schema: GraphQLSchema, bounds: Mapping[tuple[str, str], ListBound] = LIST_BOUNDS
) -> None:
    """Wrap the resolver of every bounded list field so that it returns at most its bound.

    The cost estimate assumed the bound, so a list the data makes longer (a customer with
    more products than declared) is cut, logged, and named in the response's
    ``extensions.truncated``; nothing is cut silently. Lists that are a page of the field
    above (``page_above``) are already cut by their resolvers.
    """
    for (type_name, field_name), bound in bounds.items():
        if bound.page_above:
            continue
        owner = schema.type_map.get(type_name)
        if not isinstance(owner, GraphQLObjectType) or field_name not in owner.fields:
            continue  # a bound for a field this schema does not have: nothing to wrap
        definition = owner.fields[field_name]
        definition.resolve = _bounded(definition.resolve or default_field_resolver, bound)


def _bounded(resolve: Callable[..., Any], bound: ListBound) -> Callable[..., Any]:
    def cut(result: Any, root: Any, info: GraphQLResolveInfo[Any]) -> Any:
        if not isinstance(result, list):
            return result
        most = bound.most
        if bound.per is not None:
            most *= len(getattr(root, bound.per, None) or ())
        if len(result) <= most:
            return result
        path = ".".join(str(key) for key in info.path.as_list())
        logger.warning("%s returned %d items; cut to its bound %d", path, len(result), most)
        with contextlib.suppress(TypeError):  # a context without weak references
            _TRUNCATED.setdefault(info.context, []).append(
                {"path": info.path.as_list(), "returned": most, "available": len(result)}
            )
        return result[:most]

    def bounded(root: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        result = resolve(root, info, **arguments)
        if inspect.isawaitable(result):

            async def awaited() -> Any:
                return cut(await result, root, info)

            return awaited()
        return cut(result, root, info)

    return bounded


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
        max_fields=settings.api_max_fields,
        # k (paths) multiplies what is under it like a page size does
        page_size_arguments=("first", "limit", "k"),
    )
    extensions: list[ExtensionFactory] = [
        partial(MaskedErrors, hide_suggestions=not in_development),
        partial(
            ParseLimiter,
            max_token_count=settings.api_max_tokens,
            max_document_bytes=settings.api_max_document_bytes,
        ),
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
    """A document size limit before parsing, and strawberry's token limit with codes on the
    errors of the parser's own limits.

    A document longer than ``max_document_bytes`` (UTF-8) is refused unparsed with
    ``DOCUMENT_TOO_LARGE``: comments and whitespace cost the parser time but are not tokens.
    graphql-core's parser stops at ``max_tokens`` and at 200 levels of nesting; both are
    syntax errors without a code, tagged here ``TOO_MANY_TOKENS`` and ``QUERY_TOO_DEEP``.
    """

    def __init__(self, max_token_count: int, max_document_bytes: int | None = None) -> None:
        super().__init__(max_token_count=max_token_count)
        self.max_document_bytes = max_document_bytes

    def on_parse(self) -> Iterator[None]:
        text = self.execution_context.query
        if self.max_document_bytes is not None and text is not None:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.max_document_bytes:
                # raised before the parser runs: strawberry answers it as the only error
                raise with_code(
                    GraphQLError(
                        f"the document is {size} bytes; at most {self.max_document_bytes} "
                        "are parsed (CRKG_API_MAX_DOCUMENT_BYTES)"
                    ),
                    ErrorCode.DOCUMENT_TOO_LARGE,
                    bytes=size,
                    limit=self.max_document_bytes,
                )
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


# --- wiring into strawberry ------------------------------------------------------------------
def limit_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    *,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> list[GraphQLError]:
    """The errors refusing ``document`` (too many fields, too deep, too aliased, too costly,
    pages too large); empty when it is within every limit."""
    measures = measure_operations(
        schema, document, limits, variables=variables, operation_name=operation_name
    )
    return [v.as_graphql_error() for m in measures for v in m.violations(limits)]


class QueryLimiter(SchemaExtension):
    """Refuses a document beyond the limits at the start of validation, before any rule.

    Measuring is one linear walk (fragments once each), so it is cheap where validation is
    not; a refused document is never validated, let alone executed.
    """

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        self.operation_name: str | None = None

    def on_operation(self) -> Iterator[None]:
        # Before parsing, operation_name is the one the request names, or None (then every
        # operation of the document is measured, not only the first that strawberry picks).
        self.operation_name = self.execution_context.operation_name
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            errors = limit_errors(
                context.schema._schema,
                document,
                self.limits,
                variables=context.variables or {},
                operation_name=self.operation_name,
            )
            if errors:
                # strawberry (and the cached validation) run no rule once errors are set
                context.pre_execution_errors = errors
        yield
