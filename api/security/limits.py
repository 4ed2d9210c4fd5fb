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

Where the parts live: the bounds themselves (argument lengths, ``LIST_BOUNDS``) and the list
cutting are here; the walk that measures an operation is :mod:`api.security.cost`; the
strawberry extensions built from the settings (:class:`ParseLimiter`, :class:`QueryLimiter`,
masked errors, introspection) are :mod:`api.security.extensions`.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    default_field_resolver,
)

logger = logging.getLogger("crkg.api.limits")


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
    ("Customer", "riskFlags"): ListBound(3, why="RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT"),
    ("Community", "centralMembers"): ListBound(5, why="the 5 members with most ties inside"),
    ("Community", "centralMemberIds"): ListBound(5, why="the 5 members with most ties inside"),
    ("Community", "dominantScenarios"): ListBound(3, why="the 3 scenarios with most members"),
    ("Path", "customerIds"): ListBound(7, why="maxHops <= 6"),
    ("Path", "customers"): ListBound(7, why="maxHops <= 6"),
    ("Path", "uncontactableIds"): ListBound(7, why="a subset of customerIds"),
    ("ReferralTarget", "introducers"): ListBound(10, why="top_introducers <= 10"),
    ("ReferralTarget", "leftOutIntroducers"): ListBound(20, why="introducers and path members"),
    ("ReferralTarget", "parts"): ListBound(14, why="the model's features (fixed-weight: 4)"),
    ("LeftOut", "riskFlags"): ListBound(3, why="RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT"),
    ("Introducer", "pathIds"): ListBound(3, why="introducers are within two ties"),
    ("Exposure", "byHop"): ListBound(4, why="hops <= 4"),
    ("ExposedParty", "guarantees"): ListBound(20, why="guarantees into one party from a hop"),
    ("GuaranteeCircle", "links"): ListBound(10, why="maxLength <= 10"),
    ("RelatedPartyGroup", "shareholdings"): ListBound(200, why="shareholdings inside a group"),
    ("Principal", "permissions"): ListBound(20, why="the permission table"),
    ("InfluenceScore", "riskFlags"): ListBound(3, why="RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT"),
    ("RiskRing", "sharedKinds"): ListBound(4, why="phone, device, address, e-mail"),
    ("RiskRing", "sharedKeys"): ListBound(50, why="identifiers shared inside one ring"),
    ("RiskRing", "transfers"): ListBound(10, why="fund cycles have max_length <= 10"),
    ("UpsertResult", "rejected"): ListBound(1_000, why="at most 1,000 input rows"),
    # the campaign area (api/graphql/campaigns/)
    ("ListVersion", "algorithmRunIds"): ListBound(10, why="referral_targets and Louvain runs"),
    ("ListVersion", "loadRunIds"): ListBound(100, why="the loads whose rows a draw read"),
    ("ListVersion", "suppressedByReason"): ListBound(8, why="one per suppression reason"),
    ("ListRow", "pathIds"): ListBound(3, why="introducers are within two ties"),
    ("SuppressedCustomer", "codes"): ListBound(8, why="the suppression reasons"),
    ("SuppressedCustomer", "riskFlags"): ListBound(
        3, why="RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT"
    ),
    ("ListVersionEffect", "segments"): ListBound(
        200, why="the values of one customer property (kind, tier, lifecycle stage, branch)"
    ),
    ("ConversionCredit", "rejected"): ListBound(20, why="referrals a conversion never credits"),
    ("ConversionCredit", "chain"): ListBound(8, why="graph.attribution.MAX_CHAIN hops"),
    # the explorer page's fields (api/graphql/explorer/)
    ("Query", "explorerTies"): ListBound(60, why="at most 60 pairs"),
    ("ExplorerLinkage", "edges"): ListBound(200, why="relationships drawn per linkage"),
    ("ExplorerLinkage", "identifiers"): ListBound(20, why="identifiers shared in a ring"),
    ("SharedIdentifier", "customerIds"): ListBound(100, why="users listed per identifier"),
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
