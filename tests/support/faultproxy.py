"""A fault-injecting TCP proxy between crkg and Neo4j (issue 16 item 1), pure Python.

Point crkg at :attr:`FaultProxy.port` instead of Neo4j's Bolt port and break the network on
purpose: :meth:`~FaultProxy.cut` resets every open connection and refuses new ones (Neo4j is
unreachable) until :meth:`~FaultProxy.restore`; :meth:`~FaultProxy.reset` resets the open
connections only (a dropped network, the next connection works); :attr:`~FaultProxy.delay`
holds every chunk of data that long in each direction (a slow network);
:meth:`~FaultProxy.lose_next_commit_answer` lets the next Bolt ``COMMIT`` through to Neo4j, which
commits it, then resets that connection instead of forwarding the answer: the client cannot
know whether its transaction took effect (the driver's ``IncompleteCommit``).
:attr:`~FaultProxy.commits` counts the ``COMMIT`` messages clients sent, for tests that break
things part-way through a run of transactions; :meth:`~FaultProxy.on_statement` breaks the
connection that sends a given statement, at that statement or at its transaction's commit.

Each connection is two threads copying bytes; a reset closes with ``SO_LINGER`` 0, so the
peer sees a TCP RST, as after a network failure, not an orderly close.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from types import TracebackType
from typing import Literal

# A Bolt COMMIT message as the driver sends it: one chunk of two bytes (a struct of no fields,
# signature 0x12) and the end-of-message marker.
BOLT_COMMIT = b"\x00\x02\xb0\x12\x00\x00"
TAIL = 256  # bytes of the last chunk searched again with the next (a marker split in two)
Fault = Literal["reset", "lose-commit"]


def _rst(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset.

    A thread of this proxy may be blocked reading ``sock``: closing the descriptor alone
    would not release the socket while that read lasts (no reset would be sent, and the
    peer would wait for its read timeout), so reading is shut down first, which wakes it.
    """
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream_host``:``upstream_port``, faults on demand."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.delay = 0.0  # seconds each chunk is held, both ways
        self.accepted = 0  # connections taken, refused ones included
        self.refused = 0  # connections reset on arrival while cut
        self.commits = 0  # Bolt COMMIT messages clients sent through the proxy
        self.commits_lost = 0  # commits whose answer lose_next_commit_answer withheld
        self._lose_commits = 0  # armed: the next this many commits lose their answer
        self._awaiting_answer: set[socket.socket] = set()  # server sockets of such commits
        self._on_statement: list[tuple[bytes, Fault]] = []  # armed by on_statement
        self._lose_next_on: set[socket.socket] = set()  # server sockets whose commit is lost
        self.statement_faults = 0  # faults on_statement injected
        self._refusing = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._acceptor = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- faults ------------------------------------------------------------------------------
    def cut(self) -> None:
        """Neo4j becomes unreachable: open connections reset, new ones reset on arrival."""
        self._refusing.set()
        self.reset()

    def restore(self) -> None:
        """Neo4j is reachable again (for new connections)."""
        self._refusing.clear()

    def reset(self) -> int:
        """Reset every open connection (both sides); how many sockets were reset."""
        with self._lock:
            sockets, self._open = set(self._open), set()
        for sock in sockets:
            _rst(sock)
        return len(sockets)

    def lose_next_commit_answer(self) -> None:
        """The next COMMIT reaches Neo4j; the answer to it does not reach the client, whose
        connection is reset instead (the commit took effect, the client cannot know it)."""
        with self._lock:
            self._lose_commits += 1

    def on_statement(self, marker: bytes, fault: Fault) -> None:
        """Arm a fault for the next time a client sends ``marker`` (text of a statement):
        ``"reset"`` resets that connection instead of forwarding the statement (the
        transaction dies part-way, before its commit); ``"lose-commit"`` forwards it and
        loses the answer to that transaction's COMMIT (see :meth:`lose_next_commit_answer`)."""
        with self._lock:
            self._on_statement.append((marker, fault))

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open) // 2

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        self.reset()
        if self._acceptor.is_alive():
            self._acceptor.join(5)

    # --- forwarding --------------------------------------------------------------------------
    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self.accepted += 1
            if self._refusing.is_set():
                self.refused += 1
                _rst(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _rst(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, sink, upstream in ((client, server, True), (server, client, False)):
                threading.Thread(
                    target=self._pump,
                    args=(source, sink, upstream),
                    name="fault-proxy-pump",
                    daemon=True,
                ).start()

    def _saw_commit(self, sink: socket.socket) -> None:
        """A client sent a COMMIT towards ``sink`` (its server socket)."""
        with self._lock:
            self.commits += 1
            if sink in self._lose_next_on:
                self._lose_next_on.discard(sink)
                self._awaiting_answer.add(sink)
            elif self._lose_commits:
                self._lose_commits -= 1
                self._awaiting_answer.add(sink)

    def _statement_fault(self, seen: bytes, new: int, sink: socket.socket) -> Fault | None:
        """The fault armed for a marker that ends in the last ``new`` bytes of ``seen`` (sent
        towards ``sink``), now disarmed."""
        with self._lock:
            for armed in self._on_statement:
                marker, fault = armed
                if marker in seen[-(new + len(marker) - 1) :]:
                    self._on_statement.remove(armed)
                    self.statement_faults += 1
                    if fault == "lose-commit":
                        self._lose_next_on.add(sink)
                    return fault
        return None

    def _withholds(self, source: socket.socket) -> bool:
        """Whether data from server socket ``source`` answers a commit that must be lost."""
        with self._lock:
            if source not in self._awaiting_answer:
                return False
            self._awaiting_answer.discard(source)
            self.commits_lost += 1
            return True

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        tail = b""  # the end of the last chunk, so a marker split between two is still seen
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                if not upstream and self._withholds(source):
                    break  # the commit's answer: reset both sides instead (finally)
                if upstream:
                    seen = tail + data
                    tail = seen[-TAIL:]
                    if (
                        self._on_statement
                        and self._statement_fault(seen, len(data), sink) == "reset"
                    ):
                        break  # the statement never reaches Neo4j: reset both sides (finally)
                    # only the COMMIT's last 5 bytes may come from the previous chunk (a whole
                    # one there was counted then)
                    if BOLT_COMMIT in seen[-(len(data) + len(BOLT_COMMIT) - 1) :]:
                        self._saw_commit(sink)
                sink.sendall(data)
        except OSError:
            pass  # reset by a fault or by the peer
        finally:
            with self._lock:
                gone = {source, sink} & self._open
                self._open -= gone
                self._awaiting_answer -= {source, sink}
                self._lose_next_on -= {source, sink}
            for sock in gone:
                _rst(sock)
