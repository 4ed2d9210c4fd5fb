"""All of crkg's Cypher, one module per aggregate (the only place Cypher is written).

Queries are module-level ``LiteralString`` constants; values always travel as parameters.
Where a label or relationship type varies it comes from the enums in ``graph.model`` through a
small builder, never from user text.
"""
