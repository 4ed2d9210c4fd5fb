"""The security extensions the schema is built with: error masking, the document-size and
token limits before parsing, the cost limits, and introspection off outside development."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, TypeAlias

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    ValidationContext,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from api.security.cost import QueryLimits, measure_operations
from api.security.errors import ErrorCode, MaskedErrors, with_code
from graph.settings import CrkgSettings, Environment

ExtensionFactory: TypeAlias = type[SchemaExtension] | Callable[[], SchemaExtension]


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
