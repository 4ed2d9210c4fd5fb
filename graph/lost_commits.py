"""A commit whose answer was lost (the driver's ``IncompleteCommit``, crkg's
:class:`~graph.errors.WriteOutcomeUnknownError`): the driver never retries it, since the
write may have taken effect. Work that has the effect of once when it runs twice (a ``MERGE``
or ``SET`` of given values) is run again here, a few times; whoever runs it learns that it
was, because what the second run returned describes only that run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from graph.errors import CrkgError, WriteOutcomeUnknownError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# times a transaction whose commit answer was lost is run again: a read (it changed nothing),
# or idempotent writes
LOST_COMMIT_RETRIES = 3


async def retry_lost_commits(operation: str, work: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
    """What ``work()`` returned, and whether it had to run again after a lost commit.

    When running it again fails otherwise (Neo4j unreachable), the outcome is still unknown:
    that is the error raised, never "not carried out".
    """
    unknown: WriteOutcomeUnknownError | None = None
    for lost in range(LOST_COMMIT_RETRIES + 1):
        try:
            return await work(), lost > 0
        except WriteOutcomeUnknownError as error:
            unknown = error
            if lost == LOST_COMMIT_RETRIES:
                raise
            logger.warning("%s: a commit's outcome was lost; writing it again", operation)
        except CrkgError as error:
            if unknown is not None:
                raise unknown from error
            raise
    raise AssertionError("unreachable")
