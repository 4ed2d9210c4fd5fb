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

# Published with the values (the same transaction): which result properties a run made the
# served ones, so a run that stopped afterwards still says what it left behind.
MARK_PUBLISHED: Final[LiteralString] = """
MATCH (run:AlgorithmRun {run_id: $run_id})
SET run.published = coalesce(run.published, []) + $properties, run.published_at = $now
"""

# What the run has published (read when the answer to its publish commit was lost).
PUBLISHED_PROPERTIES: Final[LiteralString] = """
MATCH (run:AlgorithmRun {run_id: $run_id}) RETURN coalesce(run.published, []) AS published
"""

# The process running an algorithm stamps `heartbeat_at` while it lives; a run that fell
# silent died with its process (kill -9, a crash, a redeploy) and is marked failed with the
# reason: what it had published, if anything, or that the served values are an earlier run's.
FAIL_ABANDONED_RUNS: Final[LiteralString] = """
MATCH (run:AlgorithmRun)
WHERE run.status = 'RUNNING' AND coalesce(run.heartbeat_at, run.started_at) < $silent_since
SET run.status = 'FAILED',
    run.finished_at = $now,
    run.summary_json = '{"error": "abandoned: the process running it stopped (last heard of at '
        + toString(coalesce(run.heartbeat_at, run.started_at)) + ', at stage '
        + coalesce(run.stage, '?') + '); '
        + CASE WHEN run.published IS NULL
               THEN 'nothing it computed was published: the served results are those of '
                    + 'an earlier run'
               ELSE 'it had published ' + reduce(s = '', p IN run.published | s + p + ' ')
                    + 'before it stopped (its other results are those of an earlier run)' END
        + '"}'
RETURN count(run) AS failed
"""
