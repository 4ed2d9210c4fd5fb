"""A warm-path search stops at its deadline, and the process runs only so many at once.

The graph: a clique of strong ties around the source and one weak tie to the target, so a
hop-limited best-first search expands millions of cheap partial paths inside the clique
before any reaches the target: seconds of work, unless the deadline stops it.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from algorithms.graphdata import GraphData
from algorithms.inproc.paths import SearchDeadlineExceeded, warmest_paths
from algorithms.paths import SearchSlots
from graph.errors import ServiceBusyError


def _clique_then_a_weak_tie(size: int) -> GraphData:
    members = [f"m{i}" for i in range(size)]
    edges = [*itertools.combinations(members, 2), ("m1", "target")]
    weight = [0.99] * (len(edges) - 1) + [0.01]
    return GraphData.from_edges(edges, weight=weight, directed=False)


def test_a_search_stops_at_its_deadline() -> None:
    graph = _clique_then_a_weak_tie(40)
    started = time.monotonic()
    with pytest.raises(SearchDeadlineExceeded):
        warmest_paths(graph, "m0", "target", k=10, max_hops=6, deadline=started + 0.3)
    # Without the deadline this search runs for hours; the bound only has to tell "stopped near
    # its deadline" from that, with room for a loaded CI machine (2.6 s seen at load 10).
    assert time.monotonic() - started < 10.0


def test_without_a_deadline_the_search_still_finds_paths() -> None:
    graph = _clique_then_a_weak_tie(6)
    paths = warmest_paths(graph, "m0", "target", k=3, max_hops=3, deadline=time.monotonic() + 60)
    assert paths[0].nodes == ("m0", "m1", "target")
    assert all(p.nodes[-1] == "target" for p in paths)


def test_search_slots_refuse_beyond_their_limit_and_free_on_release() -> None:
    slots = SearchSlots(2)
    first, _second = slots.take(), slots.take()
    with pytest.raises(ServiceBusyError, match="2 warm-path searches already running"):
        slots.take()
    first.release()
    first.release()  # releasing twice frees one slot, not two
    slots.take()
    with pytest.raises(ServiceBusyError):
        slots.take()


def test_a_slot_handed_to_a_worker_thread_frees_when_the_thread_ends() -> None:
    slots = SearchSlots(1)
    go_on = threading.Event()
    future = slots.take().run_in_thread(lambda: go_on.wait(5) and "done")
    assert not future.cancel()  # running: cancelling the caller does not stop it ...
    with pytest.raises(ServiceBusyError):
        slots.take()  # ... and it keeps its slot until it ends
    go_on.set()
    assert future.result(5) == "done"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            slots.take()
            break
        except ServiceBusyError:
            time.sleep(0.01)
    else:
        pytest.fail("the slot was not freed when the thread ended")


def test_one_owner_cannot_take_every_slot() -> None:
    # the attacker review: three threads of one marketer kept every RM's paths BUSY
    slots = SearchSlots(2, per_owner=1)
    mine = slots.take("marketer-1")
    with pytest.raises(ServiceBusyError, match="you already have 1 warm-path search running"):
        slots.take("marketer-1")  # a second thread, or a second alias, of the same user
    theirs = slots.take("RM0047")  # another user still gets the free slot
    with pytest.raises(ServiceBusyError, match="2 warm-path searches already running"):
        slots.take("RM0001")  # the process-wide limit still holds
    mine.release()
    slots.take("RM0001").release()
    again = slots.take("marketer-1")  # released: the owner may search again
    again.release()
    theirs.release()
    assert [slots.take(f"u{i}") for i in range(2)]  # every slot free again
