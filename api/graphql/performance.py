"""Validation once per query text, and quieter error logging.

graphql-core's standard validation walks the whole document with ~30 rules on every request
(a fifth of a customer-360 request's time). Its verdict depends only on the query text and the
schema, so it is cached per text. The request-specific rules that ``api.security.limits``
adds (costs depend on the variables; introspection off) still run on every request.
strawberry's own ``ValidationCache`` cannot be used: it keys on the rule list, which holds
a fresh limits rule per request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, specified_rules, validate
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from graph.errors import CrkgError

_STANDARD_RULES = frozenset(specified_rules)


class _TextCache:
    """A bounded LRU of query text → standard-rule errors (bounded: texts come from users)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.entries: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    def get(self, text: str) -> list[GraphQLError] | None:
        found = self.entries.get(text)
        if found is not None:
            self.entries.move_to_end(text)
        return found

    def put(self, text: str, errors: list[GraphQLError]) -> None:
        self.entries[text] = errors
        self.entries.move_to_end(text)
        while len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)


class CachedStandardValidation(SchemaExtension):
    """Runs the standard rules once per query text and the per-request rules every time.

    Build it with :func:`cached_validation` (one cache per schema, shared by requests).
    """

    def __init__(self, cache: _TextCache) -> None:
        self.cache = cache

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, text = context.graphql_document, context.query
        if document is not None and text is not None and context.pre_execution_errors is None:
            rules = tuple(context.validation_rules)
            standard = tuple(r for r in rules if r in _STANDARD_RULES)
            per_request = tuple(r for r in rules if r not in _STANDARD_RULES)
            schema = context.schema._schema
            errors = self.cache.get(text)
            if errors is None:
                errors = validate_document(schema, document, standard)
                self.cache.put(text, errors)
            extra = validate(schema, document, per_request) if per_request else []
            context.pre_execution_errors = [*errors, *extra]
        yield


def cached_validation(maxsize: int = 512) -> Any:
    """A factory of :class:`CachedStandardValidation` sharing one cache."""
    cache = _TextCache(maxsize)
    return lambda: CachedStandardValidation(cache)


class CrkgSchema(Schema):
    """Refused requests and clients' mistakes are logged as warnings without a traceback;
    only unexpected errors (already logged with their ref by ``MaskedErrors``) are errors."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        import logging

        logger = logging.getLogger("crkg.api.graphql")
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, CrkgError | GraphQLError):
                logger.info("refused: %s", error.message)
            else:
                logger.error("unexpected error: %s", error.message)
