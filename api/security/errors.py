"""What a GraphQL error may tell the caller: meaning yes, internals never.

Errors a caller can act on keep their message and get an ``extensions.code``: GraphQL's own
(syntax ``GRAPHQL_PARSE_FAILED``, validation ``GRAPHQL_VALIDATION_FAILED``, variable
coercion ``BAD_USER_INPUT``, the abuse limits their own codes) and crkg's
:class:`~graph.errors.CrkgError` subclasses (with any ``details`` one carries, such as the
``coverage`` a question went beyond). Anything else, and crkg's database and
local-server errors (their messages carry URIs, server detail and Cypher), becomes
``internal error (ref <id>)``; the full error and its traceback are logged under that id,
and the request's context is told of it (``record_internal_error(field path)``) so that
``/metrics`` counts internal errors by the field they happened at.
"""

from __future__ import annotations

import logging
import re
import secrets
from enum import StrEnum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import MaskErrors

from api.security.auth import AuthConfigurationError, AuthenticationError, ForbiddenError
from graph.errors import (
    CrkgError,
    DatabaseError,
    DatabaseUnavailableError,
    LocalServerError,
    NotComputedError,
    NotFoundError,
    QueryTimeoutError,
    ServiceBusyError,
    WriteOutcomeUnknownError,
)

logger = logging.getLogger("crkg.api.errors")


class ErrorCode(StrEnum):
    """``extensions.code`` of the errors the API returns."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    NOT_COMPUTED = "NOT_COMPUTED"
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_MANY_FIELDS = "TOO_MANY_FIELDS"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    PAGE_SIZE_TOO_LARGE = "PAGE_SIZE_TOO_LARGE"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    TIMEOUT = "TIMEOUT"
    BUSY = "BUSY"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    ARGUMENT_TOO_LONG = "ARGUMENT_TOO_LONG"
    # GraphQL's own refusals of a document or its variables
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    # refused at the HTTP edge, before GraphQL (api.security.requests, api.graphql.router)
    INVALID_JSON = "INVALID_JSON"
    INVALID_REQUEST_BODY = "INVALID_REQUEST_BODY"
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    INVALID_UNICODE = "INVALID_UNICODE"
    WEBSOCKET_NOT_SUPPORTED = "WEBSOCKET_NOT_SUPPORTED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    GET_NOT_ALLOWED = "GET_NOT_ALLOWED"
    INVALID_PURPOSE = "INVALID_PURPOSE"
    # Neo4j does not answer: HTTP 503 with Retry-After; the API recovers by itself
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    # the connection was lost while a write committed: it may or may not have taken effect
    WRITE_OUTCOME_UNKNOWN = "WRITE_OUTCOME_UNKNOWN"


# Operator matters: their messages name servers, ports and server-side detail.
_INTERNAL_CRKG_ERRORS = (DatabaseError, LocalServerError, AuthConfigurationError)
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def with_code(error: GraphQLError, code: ErrorCode, **details: Any) -> GraphQLError:
    """The same error with ``extensions.code`` (and details) set; returns it for chaining."""
    error.extensions = {**(error.extensions or {}), "code": str(code), **details}
    return error


def graphql_code(error: GraphQLError) -> ErrorCode:
    """The code of one of GraphQL's own errors that carries none.

    A syntax error is ``GRAPHQL_PARSE_FAILED``; a variable the operation cannot take
    (graphql-core's ``Variable '$x' has invalid value …``) ``BAD_USER_INPUT``; any other
    error without a path (before execution: validation, an unknown operation name)
    ``GRAPHQL_VALIDATION_FAILED``. One with a path arose while executing a valid document
    (e.g. a null for a non-null field): a defect of the server, ``INTERNAL_ERROR``.
    """
    if isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.message.startswith(("Variable '$", 'Variable "$')):
        return ErrorCode.BAD_USER_INPUT
    if not error.path:
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    return ErrorCode.INTERNAL_ERROR


def public_error(
    error: GraphQLError,
    *,
    hide_suggestions: bool,
    on_internal: Any = None,
) -> GraphQLError:
    """The version of ``error`` that may leave the server (logging it when it is masked).

    ``on_internal``, if given, is called with no arguments for every error answered as
    ``INTERNAL_ERROR`` (the caller counts them).
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # GraphQL's own, or raised on purpose by a resolver: meant for the caller.
        if hide_suggestions:
            error.message = _SUGGESTION.sub("", error.message)
        if (error.extensions or {}).get("code"):
            return error
        code = graphql_code(error)
        if code is not ErrorCode.INTERNAL_ERROR:
            return with_code(error, code)
        return _internal(error, None, on_internal)
    if isinstance(original, WriteOutcomeUnknownError):
        logger.warning("write outcome unknown at %s: %s", error.path, original.message)
        return _replaced(
            error,
            "the outcome of the write is unknown (the database connection was lost while it "
            "committed); upsertCustomers and upsertTies are idempotent and safe to retry, "
            "check other writes before retrying them",
            {"code": str(ErrorCode.WRITE_OUTCOME_UNKNOWN), "hint": "try again shortly"},
        )
    if isinstance(original, DatabaseUnavailableError):
        # the server's address stays in the log; the caller learns only that it is away
        logger.warning("database unavailable at %s: %s", error.path, original.message)
        return _replaced(
            error,
            "the database is not reachable right now; this field was not carried out",
            {"code": str(ErrorCode.DATABASE_UNAVAILABLE), "hint": "try again shortly"},
        )
    if isinstance(original, CrkgError) and not isinstance(original, _INTERNAL_CRKG_ERRORS):
        # details a domain error offers the caller (e.g. the coverage a question went beyond)
        details: dict[str, Any] = dict(getattr(original, "details", None) or {})
        extensions: dict[str, Any] = {**details, "code": str(_code_of(original))}
        if original.hint is not None:
            extensions["hint"] = original.hint
        return _replaced(error, original.message, extensions)
    return _internal(error, original, on_internal)


def _internal(
    error: GraphQLError, original: BaseException | None, on_internal: Any
) -> GraphQLError:
    ref = secrets.token_hex(6)
    where = ".".join(map(str, error.path or [])) or "<operation>"
    if original is None:
        logger.error("internal error (ref %s) at %s: %s", ref, where, error.message)
    else:
        logger.error(
            "internal error (ref %s) at %s",
            ref,
            where,
            exc_info=(type(original), original, original.__traceback__),
        )
    if on_internal is not None:
        on_internal()
    return _replaced(
        error, f"internal error (ref {ref})", {"code": str(ErrorCode.INTERNAL_ERROR), "ref": ref}
    )


def field_path(
    document: DocumentNode | None, operation_name: str | None, path: list[str | int] | None
) -> str:
    """The schema's field names along a response path, list indices left out.

    Response keys are the client's aliases, so a metric labelled by them would take any
    label a client sends; the field names come from the schema (the document was valid), so
    the labels stay few: ``{ a0: community(id: …) { members … } }`` at ``a0.members`` is
    ``community.members``.

    >>> from graphql import parse
    >>> field_path(parse("{ a0: community(id: 1) { ... on Community { m: members } } }"),
    ...            None, ["a0", "m"])
    'community.members'
    """
    if not path:
        return "<operation>"
    if document is None:
        return "<unknown>"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(
        (o for o in operations if o.name and o.name.value == operation_name),
        operations[0] if len(operations) == 1 else None,
    )
    if operation is None:
        return "<unknown>"
    names: list[str] = []
    selections: list[SelectionSetNode] = [operation.selection_set]
    for key in path:
        if isinstance(key, int):
            continue
        found = _field_with_key(selections, key, fragments)
        if not found:
            return ".".join([*names, "<unknown>"])
        names.append(found[0].name.value)
        selections = [f.selection_set for f in found if f.selection_set is not None]
    return ".".join(names)


def _field_with_key(
    selection_sets: list[SelectionSetNode],
    key: str,
    fragments: dict[str, FragmentDefinitionNode],
) -> list[FieldNode]:
    """The field nodes answering response key ``key`` in these selection sets (merged, as
    GraphQL merges fields of one response key), looking into fragments once each."""
    found: list[FieldNode] = []
    pending = list(selection_sets)
    seen_fragments: set[str] = set()
    while pending:
        selection_set = pending.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if (selection.alias or selection.name).value == key:
                    found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen_fragments:
                    seen_fragments.add(name)
                    pending.append(fragments[name].selection_set)
    return found


# The code of a client-facing domain error (first match; any other: BAD_REQUEST).
_CODES: tuple[tuple[type[CrkgError], ErrorCode], ...] = (
    (AuthenticationError, ErrorCode.UNAUTHENTICATED),
    (ForbiddenError, ErrorCode.FORBIDDEN),
    (NotFoundError, ErrorCode.NOT_FOUND),
    (NotComputedError, ErrorCode.NOT_COMPUTED),
    (QueryTimeoutError, ErrorCode.TIMEOUT),
    (ServiceBusyError, ErrorCode.BUSY),
)


def _code_of(error: CrkgError) -> ErrorCode:
    return next((code for kind, code in _CODES if isinstance(error, kind)), ErrorCode.BAD_REQUEST)


def _replaced(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    # A new error without ``original_error``: nothing of the exception travels further.
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class MaskedErrors(MaskErrors):
    """Strawberry's ``MaskErrors`` with :func:`public_error` deciding each error's fate.

    Parameters
    ----------
    hide_suggestions : bool
        Strip "Did you mean …?" from every GraphQL error, not only from unknown fields
        (which ``StrawberryConfig(disable_field_suggestions=True)`` covers): arguments, types
        and enum values leak the schema the same way.
    """

    def __init__(self, *, hide_suggestions: bool = True) -> None:
        super().__init__(should_mask_error=lambda _: True)
        self.hide_suggestions = hide_suggestions

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return public_error(
            error,
            hide_suggestions=self.hide_suggestions,
            on_internal=lambda: self._tell_context(error),
        )

    def _tell_context(self, error: GraphQLError) -> None:
        """The request's context, if it counts internal errors, learns the field path."""
        execution = self.execution_context
        record = getattr(execution.context, "record_internal_error", None)
        if callable(record):
            record(field_path(execution.graphql_document, execution.operation_name, error.path))
