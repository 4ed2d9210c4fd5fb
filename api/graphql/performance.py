"""Parsing and validation off the event loop, each once per query text; quieter logs.

graphql-core's standard validation walks the whole document with ~30 rules on every request
(a fifth of a customer-360 request's time), and some documents make it slow (the
overlapping-fields rule compares the fields of a selection set pairwise). So:

* parsing and the standard rules run in one worker thread of their own, never on the event
  loop, which keeps answering other requests and ``/healthz`` meanwhile. One thread, not a
  pool: Python threads share one interpreter lock, and every extra CPU-bound thread would
  take a share of it from the event loop; documents wait their turn instead;
* the field limit of ``api.security.limits`` refuses the documents that are slow to validate
  before they get here;
* a document and the standard rules' verdict depend only on the query text and the schema,
  so both are cached per text. The request-specific rules (introspection off) still run on
  every request. strawberry's own ``ValidationCache`` cannot be used: it keys on the rule
  list, which holds fresh rules per request;
* the caches are bounded by the bytes of the texts they hold (:data:`CACHE_TEXT_BYTES`), not
  only by their number of entries, and a text longer than :data:`CACHE_LARGEST_TEXT` is not
  cached at all: a parsed document takes about a hundred times its text in memory, and
  every fresh comment makes a fresh text, so a count alone let a few hundred large texts
  hold gigabytes;
* parsing or validating that still waits for the worker is dropped when its request is
  cancelled (its client went away: ``api.security.requests.CancelOnDisconnect``); work the
  worker has started runs to its end (a Python thread cannot be stopped), which the
  document size limit keeps short;
* GraphQL's validation errors carry ``extensions.code = GRAPHQL_VALIDATION_FAILED``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from graphql import DocumentNode, GraphQLError, parse, specified_rules, validate
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from api.security.errors import ErrorCode, with_code
from api.security.limits import enforce_list_bounds
from graph.errors import CrkgError

_STANDARD_RULES = frozenset(specified_rules)
# The caches hold at most this many bytes of query text (a parsed document is ~100× its
# text), and never a text longer than the second: the documents clients send again and
# again are short (a customer 360 is ~500 bytes).
CACHE_TEXT_BYTES = 512 * 1024
CACHE_LARGEST_TEXT = 8 * 1024
logger = logging.getLogger("crkg.api.graphql")
T = TypeVar("T")

# Parsing and validation of every schema of the process: one thread (see the module's doc).
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crkg-graphql-validate")


async def _in_worker(function: Callable[..., T], *arguments: Any) -> T:
    # Cancelling the await (the request was cancelled) cancels the executor's future too:
    # work still queued behind other documents is then never started.
    return await asyncio.get_running_loop().run_in_executor(_WORKER, function, *arguments)


class _TextCache(Generic[T]):
    """An LRU keyed by query text, bounded by entries and by the bytes of the texts it
    holds; a text longer than ``largest`` is never kept (texts come from users).

    Used from the event loop only: the worker computes, it does not touch the cache.
    """

    def __init__(
        self,
        maxsize: int,
        *,
        max_bytes: int = CACHE_TEXT_BYTES,
        largest: int = CACHE_LARGEST_TEXT,
    ) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.largest = largest
        self.bytes = 0
        self.entries: OrderedDict[str, T] = OrderedDict()

    def get(self, text: str) -> T | None:
        found = self.entries.get(text)
        if found is not None:
            self.entries.move_to_end(text)
        return found

    def put(self, text: str, value: T) -> None:
        size = _size(text)
        if size > self.largest:
            return
        if text not in self.entries:
            self.bytes += size
        self.entries[text] = value
        self.entries.move_to_end(text)
        while len(self.entries) > self.maxsize or self.bytes > self.max_bytes:
            evicted, _ = self.entries.popitem(last=False)
            self.bytes -= _size(evicted)


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


class CachedStandardValidation(SchemaExtension):
    """Parses and runs the standard rules in the worker thread, each once per query text;
    runs the per-request rules every time.

    Build it with :func:`cached_validation` (one cache per schema, shared by requests). Its
    hooks are asynchronous: the schema is executed with ``execute``, never ``execute_sync``.
    """

    def __init__(
        self, documents: _TextCache[DocumentNode], verdicts: _TextCache[list[GraphQLError]]
    ) -> None:
        self.documents = documents
        self.verdicts = verdicts

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        text = context.query
        if context.graphql_document is None and text:
            document = self.documents.get(text)
            if document is None:
                try:
                    document = await _in_worker(lambda: parse(text, **context.parse_options))
                except GraphQLError:
                    document = None  # strawberry parses it again and reports it as usual
                else:
                    self.documents.put(text, document)
            context.graphql_document = document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document, text = context.graphql_document, context.query
        if document is not None and text is not None and context.pre_execution_errors is None:
            rules = tuple(context.validation_rules)
            standard = tuple(r for r in rules if r in _STANDARD_RULES)
            per_request = tuple(r for r in rules if r not in _STANDARD_RULES)
            schema = context.schema._schema
            errors = self.verdicts.get(text)
            if errors is None:
                errors = await _in_worker(validate_document, schema, document, standard)
                for error in errors:  # tagged once, before the verdict is shared
                    if not (error.extensions or {}).get("code"):
                        with_code(error, ErrorCode.GRAPHQL_VALIDATION_FAILED)
                self.verdicts.put(text, errors)
            extra = validate(schema, document, per_request) if per_request else []
            context.pre_execution_errors = [*errors, *extra]
        yield


def cached_validation(maxsize: int = 512) -> Any:
    """A factory of :class:`CachedStandardValidation` sharing one pair of caches."""
    documents: _TextCache[DocumentNode] = _TextCache(maxsize)
    verdicts: _TextCache[list[GraphQLError]] = _TextCache(maxsize)
    return lambda: CachedStandardValidation(documents, verdicts)


class CrkgSchema(Schema):
    """strawberry's schema with every bounded list field held to its declared length
    (``api.security.limits.LIST_BOUNDS``, which the cost estimate counts), and quieter logs:
    refused requests and clients' mistakes are warnings without a traceback; only
    unexpected errors (already logged with their ref by ``MaskedErrors``) are errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        enforce_list_bounds(self._schema)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, CrkgError | GraphQLError):
                logger.info("refused: %s", error.message)
            else:
                logger.error("unexpected error: %s", error.message)
