"""Algorithm runs started through the API: background tasks a client polls by id.

One run at a time per process (the algorithms are CPU- and memory-heavy, and two writing the
same result property would interleave); more requests queue. A job lives in this process;
its ``AlgorithmRun`` node in Neo4j is the durable record and outlives a restart.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.errors import CrkgError, DatabaseError, LocalServerError
from graph.settings import CrkgSettings
from graph.store import GraphStore

logger = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass
class AlgorithmJob:
    job_id: str
    algorithm: str
    parameters: dict[str, Any]
    engine: Engine
    requested_by: str
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    run_id: str | None = None
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None


def _public_message(job: AlgorithmJob, error: CrkgError | None) -> str:
    """What a client may read about a failed job: the reason when it is about the request,
    else a reference to the server log (database and server errors carry URIs and Cypher)."""
    if error is not None and not isinstance(error, DatabaseError | LocalServerError):
        return error.message
    ref = secrets.token_hex(6)
    logger.error("job %s (%s) failed (ref %s)", job.job_id, job.algorithm, ref, exc_info=True)
    return f"internal error (ref {ref})"


class JobRegistry:
    def __init__(self, store: GraphStore, settings: CrkgSettings, *, keep: int = 500) -> None:
        self.store = store
        self.settings = settings
        self.keep = keep
        self.jobs: dict[str, AlgorithmJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Lock()

    def submit(
        self, algorithm: str, parameters: Mapping[str, Any], engine: Engine, requested_by: str
    ) -> AlgorithmJob:
        job = AlgorithmJob(
            job_id=f"job-{secrets.token_hex(8)}",
            algorithm=algorithm,
            parameters=dict(parameters),
            engine=engine,
            requested_by=requested_by,
            created_at=datetime.now(UTC),
        )
        self.jobs[job.job_id] = job
        self._forget_old()
        task = asyncio.create_task(self._run(job), name=job.job_id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> AlgorithmJob | None:
        return self.jobs.get(job_id)

    async def _run(self, job: AlgorithmJob) -> None:
        async with self._one_at_a_time:
            job.status = JobStatus.RUNNING
            try:
                result = await run_algorithm(
                    self.store, self.settings, job.algorithm, job.parameters, engine=job.engine
                )
            except CrkgError as error:
                job.status, job.error = JobStatus.FAILED, _public_message(job, error)
            except Exception:  # the job fails, the server keeps serving
                job.status, job.error = JobStatus.FAILED, _public_message(job, None)
            else:
                job.status, job.run_id, job.summary = (
                    JobStatus.SUCCEEDED,
                    result.run_id,
                    result.summary,
                )
            finally:
                job.finished_at = datetime.now(UTC)

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.finished_at is not None]
        for job in sorted(finished, key=lambda j: j.created_at)[
            : max(0, len(self.jobs) - self.keep)
        ]:
            del self.jobs[job.job_id]

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
