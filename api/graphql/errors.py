"""Errors a client may see verbatim: each has a GraphQL ``extensions.code``."""

from __future__ import annotations

from graph.errors import CrkgError


class ClientError(CrkgError):
    """A problem with the request itself; its message is safe to return."""

    code = "BAD_USER_INPUT"


class NotFoundError(ClientError):
    code = "NOT_FOUND"


class QueryTimeoutError(ClientError):
    code = "QUERY_TIMEOUT"
