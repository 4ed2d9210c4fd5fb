"""Reading the types of the served GraphQL schema (for the tests that walk it)."""

from __future__ import annotations

from graphql import GraphQLList, GraphQLNonNull, GraphQLOutputType


def nullable(output: GraphQLOutputType) -> GraphQLOutputType:
    """``output`` without its non-null wrapper."""
    while isinstance(output, GraphQLNonNull):
        output = output.of_type
    return output


def is_list(output: GraphQLOutputType) -> bool:
    """Whether a field of type ``output`` answers a list (of anything, nullable or not)."""
    return isinstance(nullable(output), GraphQLList)
