"""A loaded graph's fingerprint: what two loads must agree on to be "the same graph"."""

from __future__ import annotations

import json
from typing import Any

from graph.store import GraphStore


async def graph_fingerprint(store: GraphStore) -> list[Any]:
    """Every domain node and relationship with its properties, minus load provenance."""
    records, _, _ = await store.driver.execute_query(
        """
        MATCH (n) WHERE NOT n:LoadRun AND NOT n:SchemaVersion
        OPTIONAL MATCH (n)-[r]->(m)
        WITH n, r, m ORDER BY elementId(n), type(r), m.customer_id
        RETURN labels(n) AS labels,
               [k IN keys(n) WHERE NOT k STARTS WITH 'crkg_' | [k, toString(n[k])]] AS props,
               type(r) AS type, coalesce(m.customer_id, m.rm_id, m.key) AS other,
               [k IN keys(r) WHERE NOT k STARTS WITH 'crkg_' | [k, toString(r[k])]] AS rprops
        """,
        database_=store.database,
    )
    return sorted(
        json.dumps(
            [r["labels"], sorted(r["props"]), r["type"], r["other"], sorted(r["rprops"] or [])],
            ensure_ascii=False,
        )
        for r in records
    )
