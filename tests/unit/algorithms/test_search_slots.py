"""A warm-path search waits a moment for a free slot instead of being refused at once (the
load benchmark: 16 users, 10% paths, 2 slots — 2% of all requests answered BUSY)."""

from __future__ import annotations

import asyncio
import time

import pytest

from algorithms.paths import OwnerBusyError, SearchSlots
from graph.errors import ServiceBusyError


async def test_a_search_gets_the_slot_another_frees_while_it_waits() -> None:
    slots = SearchSlots(1)
    held = slots.take("alice")
    asyncio.get_running_loop().call_later(0.1, held.release)
    started = time.monotonic()
    slot = await slots.take_waiting("bob", wait=2.0)
    assert 0.09 <= time.monotonic() - started < 2.0
    slot.release()


async def test_the_wait_ends_in_busy_and_an_owners_second_is_refused_at_once() -> None:
    slots = SearchSlots(2)
    mine = slots.take("alice")
    started = time.monotonic()
    with pytest.raises(OwnerBusyError):
        await slots.take_waiting("alice", wait=5.0)
    assert time.monotonic() - started < 0.5, "the owner's own second search does not queue"
    other = slots.take("bob")
    with pytest.raises(ServiceBusyError):
        await slots.take_waiting("carol", wait=0.1)
    mine.release()
    other.release()
