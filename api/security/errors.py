"""What a GraphQL error may tell the caller: meaning yes, internals never.

Errors a caller can act on keep their message and get an ``extensions.code``: GraphQL's own
(syntax, validation, variable coercion, the abuse limits) and crkg's
:class:`~graph.errors.CrkgError` subclasses. Anything else, and crkg's database and
local-server errors (their messages carry URIs, server detail and Cypher), becomes
``internal error (ref <id>)``; the full error and its traceback are logged under that id.
"""

from __future__ import annotations

import logging
import re
import secrets
from enum import StrEnum
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from api.security.auth import AuthConfigurationError, AuthenticationError, ForbiddenError
from graph.errors import (
    CrkgError,
    DatabaseError,
    LocalServerError,
    NotComputedError,
    NotFoundError,
    QueryTimeoutError,
    ServiceBusyError,
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
    # refused at the HTTP edge, before GraphQL (api.security.requests)
    INVALID_JSON = "INVALID_JSON"
    INVALID_REQUEST_BODY = "INVALID_REQUEST_BODY"
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    INVALID_UNICODE = "INVALID_UNICODE"
    WEBSOCKET_NOT_SUPPORTED = "WEBSOCKET_NOT_SUPPORTED"


# Operator matters: their messages name servers, ports and server-side detail.
_INTERNAL_CRKG_ERRORS = (DatabaseError, LocalServerError, AuthConfigurationError)
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def with_code(error: GraphQLError, code: ErrorCode, **details: Any) -> GraphQLError:
    """The same error with ``extensions.code`` (and details) set; returns it for chaining."""
    error.extensions = {**(error.extensions or {}), "code": str(code), **details}
    return error


def public_error(error: GraphQLError, *, hide_suggestions: bool) -> GraphQLError:
    """The version of ``error`` that may leave the server (logging it when it is masked)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # GraphQL's own, or raised on purpose by a resolver: meant for the caller.
        if hide_suggestions:
            error.message = _SUGGESTION.sub("", error.message)
        return error
    if isinstance(original, CrkgError) and not isinstance(original, _INTERNAL_CRKG_ERRORS):
        extensions: dict[str, Any] = {"code": str(_code_of(original))}
        if original.hint is not None:
            extensions["hint"] = original.hint
        return _replaced(error, original.message, extensions)
    ref = secrets.token_hex(6)
    logger.error(
        "internal error (ref %s) at %s",
        ref,
        ".".join(map(str, error.path or [])) or "<operation>",
        exc_info=(type(original), original, original.__traceback__),
    )
    return _replaced(
        error, f"internal error (ref {ref})", {"code": str(ErrorCode.INTERNAL_ERROR), "ref": ref}
    )


def _code_of(error: CrkgError) -> ErrorCode:
    if isinstance(error, AuthenticationError):
        return ErrorCode.UNAUTHENTICATED
    if isinstance(error, ForbiddenError):
        return ErrorCode.FORBIDDEN
    if isinstance(error, NotFoundError):
        return ErrorCode.NOT_FOUND
    if isinstance(error, NotComputedError):
        return ErrorCode.NOT_COMPUTED
    if isinstance(error, QueryTimeoutError):
        return ErrorCode.TIMEOUT
    if isinstance(error, ServiceBusyError):
        return ErrorCode.BUSY
    return ErrorCode.BAD_REQUEST


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
        return public_error(error, hide_suggestions=self.hide_suggestions)
