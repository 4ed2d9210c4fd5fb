"""AlgorithmRun nodes: the provenance of every run, written as it progresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph.queries import algorithm_runs as q
from graph.read_models import AlgorithmRunRecord
from graph.repositories.customers import clean
from graph.store import QueryRunner


class AlgorithmRunRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def record(self, run_id: str, properties: dict[str, Any]) -> None:
        """Create the run's node or update it with ``properties``."""
        await self.runner.execute_idempotent(  # MERGE on the run id, SET of given values
            "record algorithm run", q.RECORD_ALGORITHM_RUN, run_id=run_id, properties=properties
        )

    async def latest(self, name: str | None, limit: int) -> list[AlgorithmRunRecord]:
        """Runs (of one algorithm, or all), newest first."""
        rows = await self.runner.fetch("algorithm runs", q.ALGORITHM_RUNS, name=name, limit=limit)
        return [AlgorithmRunRecord.from_properties(clean(row["run"])) for row in rows]

    async def get(self, run_id: str) -> AlgorithmRunRecord | None:
        row = await self.runner.fetch_one("algorithm run", q.ALGORITHM_RUN, run_id=run_id)
        return None if row is None else AlgorithmRunRecord.from_properties(clean(row["run"]))

    async def fail_abandoned(self, silent_since: datetime, now: datetime) -> int:
        """Fail the running runs whose process has not been heard of since then."""
        executed = await self.runner.execute(
            "fail abandoned runs", q.FAIL_ABANDONED_RUNS, silent_since=silent_since, now=now
        )
        return executed.count("failed")
