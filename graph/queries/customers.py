"""Customer nodes and their relationship-manager link."""

from __future__ import annotations

from typing import Final, LiteralString

# One statement per batch: MERGE on the unique key, then set what the row carries. A row's
# rm_id links the customer to an existing RM (replacing a previous one); loaders check RMs
# exist before they get here.
UPSERT_CUSTOMERS: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (c:Customer {customer_id: row.customer_id})
SET c += row.properties
WITH c, row
CALL (c, row) {
  WITH c, row WHERE row.rm_id IS NOT NULL
  MATCH (rm:RelationshipManager {rm_id: row.rm_id})
  OPTIONAL MATCH (c)-[old:MANAGED_BY]->(other:RelationshipManager)
  WHERE other.rm_id <> row.rm_id
  DELETE old
  MERGE (c)-[:MANAGED_BY]->(rm)
}
RETURN count(c) AS upserted
"""

GET_CUSTOMER: Final[LiteralString] = """
MATCH (c:Customer {customer_id: $customer_id})
OPTIONAL MATCH (c)-[:MANAGED_BY]->(rm:RelationshipManager)
RETURN c {.*} AS customer, rm.rm_id AS rm_id
"""

COUNT_CUSTOMERS: Final[LiteralString] = "MATCH (c:Customer) RETURN count(c) AS count"

COUNT_CUSTOMERS_WITH_ID: Final[LiteralString] = """
MATCH (c:Customer {customer_id: $customer_id}) RETURN count(c) AS count
"""
