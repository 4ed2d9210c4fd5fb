"""Algorithm runs started through the API: background tasks a client polls by id.

One run at a time per process (the algorithms are CPU- and memory-heavy, and two writing the
same result property would interleave); more requests queue. A job's state is written to its
``AlgorithmJob`` node as it moves, so ``job(id)`` answers from any API process and after a
restart. While a process lives it stamps the jobs it owns every
``CRKG_API_JOB_HEARTBEAT_SECONDS``; a queued or running job silent for three times that died
with its process and is marked failed with the reason (at start-up, and when it is read), never
left running forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.errors import CrkgError, DatabaseError, LocalServerError
from graph.read_models import AlgorithmJobRecord
from graph.repositories.jobs import JobRepository
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

    @classmethod
    def from_record(cls, record: AlgorithmJobRecord) -> AlgorithmJob:
        return cls(
            job_id=record.job_id,
            algorithm=record.algorithm,
            parameters=record.parameters,
            engine=Engine(record.engine),
            requested_by=record.requested_by,
            created_at=record.created_at,
            status=JobStatus(record.status),
            run_id=record.run_id,
            error=record.error,
            finished_at=record.finished_at,
        )

    def properties(self) -> dict[str, Any]:
        """What the job's node holds (the model is ``graph.model.AlgorithmJob``)."""
        return {
            "algorithm": self.algorithm,
            "engine": self.engine.value,
            "parameters_json": json.dumps(self.parameters, sort_keys=True, default=str),
            "requested_by": self.requested_by,
            "status": self.status.value,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "run_id": self.run_id,
        }


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
        self.repository = JobRepository(store)
        self.heartbeat = timedelta(seconds=settings.api_job_heartbeat_seconds)
        self._tasks: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Lock()
        self._heartbeat_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Fail the jobs a dead process left behind, then keep this process's jobs stamped."""
        try:
            await self._fail_abandoned()
        except CrkgError as error:  # start anyway: /readyz tells, and a read fails them later
            logger.warning("could not look for abandoned jobs at start-up: %s", error)
        self._heartbeat_task = asyncio.create_task(self._stamp_forever(), name="job-heartbeat")

    async def submit(
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
        await self._record(job)  # durable before the client hears of it
        self.jobs[job.job_id] = job
        self._forget_old()
        task = asyncio.create_task(self._run(job), name=job.job_id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def get(self, job_id: str) -> AlgorithmJob | None:
        """This process's own jobs from memory; any other from the database."""
        if job_id in self.jobs:
            return self.jobs[job_id]
        record = await self.repository.get(job_id)
        if record is not None and self._abandoned(record) and await self._fail_abandoned():
            record = await self.repository.get(job_id)
        return None if record is None else AlgorithmJob.from_record(record)

    def _abandoned(self, record: AlgorithmJobRecord) -> bool:
        """Unfinished and silent for three heartbeats: a poll of a live job writes nothing."""
        silent_since = datetime.now(UTC) - 3 * self.heartbeat
        return (
            record.status in (JobStatus.QUEUED, JobStatus.RUNNING)
            and record.heartbeat_at is not None
            and record.heartbeat_at < silent_since
        )

    async def _record(self, job: AlgorithmJob) -> None:
        properties = job.properties() | {"heartbeat_at": datetime.now(UTC)}
        await self.repository.record(job.job_id, properties)

    async def _fail_abandoned(self) -> int:
        now = datetime.now(UTC)
        failed = await self.repository.fail_abandoned(now - 3 * self.heartbeat, now)
        if failed:
            logger.warning("%d algorithm job(s) were abandoned by a stopped process", failed)
        return failed

    async def _stamp_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.total_seconds())
            live = [j.job_id for j in self.jobs.values() if j.finished_at is None]
            if not live:
                continue
            try:
                await self.repository.heartbeat(live, datetime.now(UTC))
            except CrkgError as error:  # the database is away: stamp again next time
                logger.warning("could not stamp %d running job(s): %s", len(live), error)

    async def _run(self, job: AlgorithmJob) -> None:
        async with self._one_at_a_time:
            job.status = JobStatus.RUNNING
            try:
                await self._record(job)
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
            try:
                await self._record(job)
            except CrkgError as error:  # served from memory here; others see it abandoned
                logger.error("could not record the end of job %s: %s", job.job_id, error)

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.finished_at is not None]
        for job in sorted(finished, key=lambda j: j.created_at)[
            : max(0, len(self.jobs) - self.keep)
        ]:
            del self.jobs[job.job_id]

    async def shutdown(self) -> None:
        tasks = list(self._tasks)
        if self._heartbeat_task is not None:
            tasks.append(self._heartbeat_task)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
