"""AlgorithmJob nodes: a runAlgorithm request's state, kept where every API process sees it."""

from __future__ import annotations

from typing import Final, LiteralString

RECORD_JOB: Final[LiteralString] = """
MERGE (job:AlgorithmJob {job_id: $job_id})
SET job += $properties
"""

JOB: Final[LiteralString] = """
MATCH (job:AlgorithmJob {job_id: $job_id}) RETURN job {.*} AS job
"""

# The process that owns a queued or running job stamps `heartbeat_at` while it lives; a job
# whose owner fell silent died with its process (kill -9, a crash, a redeploy), and is marked
# failed with the reason instead of being left running forever.
FAIL_ABANDONED_JOBS: Final[LiteralString] = """
MATCH (job:AlgorithmJob)
WHERE job.status IN ['QUEUED', 'RUNNING'] AND job.heartbeat_at < $silent_since
SET job.status = 'FAILED',
    job.error = 'the API process running this job stopped (last heard of at '
                + toString(job.heartbeat_at) + '); start it again with runAlgorithm',
    job.finished_at = $now
RETURN count(job) AS failed
"""

HEARTBEAT: Final[LiteralString] = """
UNWIND $job_ids AS job_id
MATCH (job:AlgorithmJob {job_id: job_id})
WHERE job.status IN ['QUEUED', 'RUNNING']
SET job.heartbeat_at = $now
"""
