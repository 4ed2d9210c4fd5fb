"""AlgorithmJob nodes: written as a job moves, read by id, abandoned ones failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph.queries import jobs as q
from graph.read_models import AlgorithmJobRecord
from graph.repositories.customers import clean
from graph.store import QueryRunner


class JobRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def record(self, job_id: str, properties: dict[str, Any]) -> None:
        """Create the job's node or update it with ``properties``."""
        await self.runner.execute("record job", q.RECORD_JOB, job_id=job_id, properties=properties)

    async def get(self, job_id: str) -> AlgorithmJobRecord | None:
        row = await self.runner.fetch_one("job", q.JOB, job_id=job_id)
        return None if row is None else AlgorithmJobRecord.from_properties(clean(row["job"]))

    async def heartbeat(self, job_ids: list[str], now: datetime) -> None:
        await self.runner.execute("job heartbeat", q.HEARTBEAT, job_ids=job_ids, now=now)

    async def fail_abandoned(self, silent_since: datetime, now: datetime) -> int:
        """Fail the queued or running jobs whose process has not been heard of since then."""
        executed = await self.runner.execute(
            "fail abandoned jobs", q.FAIL_ABANDONED_JOBS, silent_since=silent_since, now=now
        )
        return executed.count("failed")
