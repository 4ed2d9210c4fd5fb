"""Kill -9 of a real ``crkg serve`` amid a stream of requests (the crash tests of issue 16).

A stream is anything with ``work()`` (requests in a loop until ``stopped`` is set or the
server is gone), ``answered()`` (how many were answered so far) and ``stopped``;
:func:`kill_amid` runs it from several threads, SIGKILLs the server once enough were
answered, and returns when every thread has seen the server go.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import httpx

from graph.settings import CrkgSettings
from tests.conftest import cli_env


class Stream(Protocol):
    stopped: threading.Event

    def work(self) -> None: ...

    def answered(self) -> int: ...


def until_gone(
    base: str,
    stopped: threading.Event,
    numbers: Iterator[int],
    one: Callable[[httpx.Client, int], None],
) -> None:
    """A stream's ``work``: ``one(http, next number)`` in a loop until ``stopped`` or the
    server is gone."""
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stopped.is_set():
            try:
                one(http, next(numbers))
            except httpx.TransportError:
                return  # the server is gone


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(settings: CrkgSettings, port: int) -> subprocess.Popen[bytes]:
    """``crkg serve`` on ``port`` for the instance of ``settings``, once it answers."""
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("crkg")), "serve", "--port", str(port)],
        env=cli_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise AssertionError("crkg serve did not start")
        time.sleep(0.2)


def kill_amid(
    server: subprocess.Popen[bytes],
    stream: Stream,
    *,
    answered_before: int,
    workers: int = 4,
    seconds: float = 180,
) -> None:
    """Run ``stream`` from ``workers`` threads; SIGKILL ``server`` after ``answered_before``
    answers."""
    try:
        with ThreadPoolExecutor(workers) as pool:
            running = [pool.submit(stream.work) for _ in range(workers)]
            deadline = time.monotonic() + seconds
            while stream.answered() < answered_before:
                assert time.monotonic() < deadline, "the stream never got going"
                assert not any(w.done() for w in running), [w.exception() for w in running]
                time.sleep(0.05)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            stream.stopped.set()
            for worker in running:
                worker.result(60)
    finally:
        stream.stopped.set()
        if server.poll() is None:
            server.kill()
            server.wait(10)
