"""A fault-injecting TCP proxy between crkg and Neo4j (issue 16 item 1), pure Python.

Point crkg at :attr:`FaultProxy.port` instead of Neo4j's Bolt port and break the network on
purpose: :meth:`~FaultProxy.cut` resets every open connection and refuses new ones (Neo4j is
unreachable) until :meth:`~FaultProxy.restore`; :meth:`~FaultProxy.reset` resets the open
connections only (a dropped network, the next connection works); :attr:`~FaultProxy.delay`
holds every chunk of data that long in each direction (a slow network).

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


def _rst(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
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
            for source, sink in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), name="fault-proxy-pump", daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                sink.sendall(data)
        except OSError:
            pass  # reset by a fault or by the peer
        finally:
            with self._lock:
                gone = {source, sink} & self._open
                self._open -= gone
            for sock in gone:
                _rst(sock)
