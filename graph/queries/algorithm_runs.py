"""AlgorithmRun nodes: the provenance every algorithm run leaves."""

from __future__ import annotations

from typing import Final, LiteralString

RECORD_ALGORITHM_RUN: Final[LiteralString] = """
MERGE (run:AlgorithmRun {run_id: $run_id})
SET run += $properties
"""

ALGORITHM_RUNS: Final[LiteralString] = """
MATCH (r:AlgorithmRun)
WHERE $name IS NULL OR r.name = $name
RETURN r {.*} AS run
ORDER BY r.started_at DESC
LIMIT $limit
"""

ALGORITHM_RUN: Final[LiteralString] = """
MATCH (r:AlgorithmRun {run_id: $run_id}) RETURN r {.*} AS run
"""
