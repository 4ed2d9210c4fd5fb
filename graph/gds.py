"""The Graph Data Science client: one per process and server, and the tie-graph projection.

``graphdatascience`` clients are as expensive as a driver (each checks the server and GDS
versions when made), so the process keeps one per connection target and hands it to every
GDS run (:func:`gds_client`). A store replaced underneath (the bulk import) invalidates
what the client remembers, its bookmarks among it: :func:`close_gds_clients` forgets them.

Projections are ``with`` blocks, uniquely named by the caller and dropped on exit; the Cypher
they need (a scoped Cypher projection, the node-id → customer-id map) comes from
``graph.queries.projections``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from graph.model import NodeLabel, TieKind
from graph.queries import projections as q
from graph.store import ConnectionTarget

_CLIENTS: dict[ConnectionTarget, Any] = {}
_LOCK = threading.Lock()


def gds_client(target: ConnectionTarget) -> Any:
    """This process's ``graphdatascience`` client for ``target`` (made on first use).

    Bolt only: the open-source GDS has no Arrow server.
    """
    with _LOCK:
        client = _CLIENTS.get(target)
        if client is None:
            from graphdatascience import GraphDataScience

            client = GraphDataScience(
                target.uri,
                auth=(target.user, target.password),
                database=target.database,
                arrow=False,
                show_progress=False,
            )
            _CLIENTS[target] = client
        return client


def close_gds_clients() -> None:
    """Close and forget every client (at exit, and when the store was replaced)."""
    with _LOCK:
        clients = list(_CLIENTS.values())
        _CLIENTS.clear()
    for client in clients:
        client.close()


def native_tie_projection(tie_kinds: Sequence[TieKind]) -> dict[str, Any]:
    """The relationship projection of the tie graph: undirected, weighted by strength."""
    return {
        kind.value: {
            "type": kind.value,
            "orientation": "UNDIRECTED",
            "properties": {"strength": {"property": "strength", "defaultValue": 1.0}},
        }
        for kind in tie_kinds
    }


def present_relationship_types(gds: Any) -> set[str]:
    """Relationship types the database holds (GDS refuses to project one it never held)."""
    return set(gds.run_cypher(q.RELATIONSHIP_TYPES)["types"][0])


@contextmanager
def projected_ties(
    gds: Any,
    name: str,
    kinds: Sequence[TieKind],
    *,
    cypher_projection: tuple[str, dict[str, Any]] | None = None,
) -> Iterator[Any]:
    """The tie graph projected under ``name``, dropped on exit whatever happens.

    Without ``cypher_projection`` the ``kinds`` are projected natively; with it (the query of
    :func:`graph.queries.projections.gds_cypher_projection` and its parameters) the scoped
    graph is, ``$graph_name`` being added here.
    """
    if cypher_projection is None:
        with gds.graph.project.native(
            name, NodeLabel.CUSTOMER.value, native_tie_projection(kinds)
        ) as graph:
            yield graph
        return
    query, query_params = cypher_projection
    gds.run_cypher(query, {**query_params, "graph_name": name})
    try:
        yield gds.graph.get(name)
    finally:
        gds.graph.drop(name, fail_if_missing=False)


def customer_ids_of(gds: Any, node_ids: Sequence[int]) -> dict[int, str]:
    """GDS node id → customer id, for the nodes a stream returned."""
    keys = gds.run_cypher(q.GDS_NODE_KEYS, {"ids": [int(i) for i in node_ids]})
    return dict(zip(keys["ids"][0], keys["customer_ids"][0], strict=True))
