"""What the explorer's browser tests share: the API served on a free loopback port, Debian's
Chromium driven by Playwright, and the page opened as one role.

Chromium comes from Debian (``/usr/bin/chromium``; ``.ci/run`` installs it), never from a
download: Playwright 1.64 speaks the protocol of Chromium 156, the version Debian ships.
It starts with the flags this machine's closed network needs (no background networking, no
component updates, no sync, no QUIC) and, through ``launch()``, a fresh temporary profile.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from api.app import create_app
from api.explorer.links import explorer_url
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings

CHROMIUM = Path(os.environ.get("CRKG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--font-render-hinting=none",
]
VIEWPORT = {"width": 1400, "height": 850}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_api(settings: CrkgSettings) -> Iterator[str]:
    """The real app under uvicorn in a background thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="explorer-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start for the browser tests")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class Opened:
    """A page signed in as one role, with what it asked the network and what came back."""

    page: Any
    context: Any
    base: str
    token: str
    requests: list[str] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)  # (url, body text)
    console: list[str] = field(default_factory=list)
    page_headers: dict[str, str] = field(default_factory=dict)  # of GET /explorer

    async def hook(self, expression: str, *args: Any) -> Any:
        """Evaluate ``expression`` (a function of ``hook`` and the arguments) in the page."""
        return await self.page.evaluate(
            f"async (args) => {{ const hook = window.crkgExplorer; return await ({expression})(hook, ...args); }}",
            list(args),
        )

    async def show(self, view: str, args: dict[str, Any]) -> None:
        await self.hook("(h, v, a) => h.show(v, a)", view, args)

    async def graph(self) -> dict[str, Any]:
        graph: dict[str, Any] = await self.hook("(h) => h.graph()")
        return graph

    async def status(self) -> dict[str, Any]:
        return dict(
            await self.page.evaluate(
                "() => { const s = document.getElementById('status');"
                " return {text: s.textContent, code: s.dataset.errorCode || null,"
                " error: s.classList.contains('error')}; }"
            )
        )

    async def body_text(self) -> str:
        return str(await self.page.evaluate("() => document.body.innerText"))

    async def shot(self, directory: Path, name: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        await self.page.screenshot(path=str(path))
        return path


async def open_page(
    browser: Any, base: str, settings: CrkgSettings, role: Role, subject: str
) -> Opened:
    """A fresh context (no cookies, no storage) and the explorer link for ``role``."""
    token = mint_token(settings, role=role, subject=subject)
    context = await browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-GB")
    page = await context.new_page()
    opened = Opened(page, context, base, token)
    # every CSP violation would be an attempt to load or run something the policy refuses
    await context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    context.on("request", lambda request: opened.requests.append(request.url))

    async def keep(response: Any) -> None:
        if "/graphql" in response.url:
            try:
                opened.responses.append((response.url, await response.text()))
            except Exception:
                opened.responses.append((response.url, ""))

    context.on("response", lambda response: asyncio.ensure_future(keep(response)))
    page.on("console", lambda message: opened.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: opened.console.append(f"pageerror: {error}"))
    response = await page.goto(explorer_url(base, token))
    opened.page_headers = dict(await response.all_headers())
    await page.wait_for_function("() => window.crkgExplorer !== undefined")
    await opened.hook("(h) => h.ready()")
    return opened


async def downloaded(opened: Opened, button: str) -> bytes:
    """Click an export button; the file the page offered."""
    async with opened.page.expect_download() as info:
        await opened.page.click(button)
    download = await info.value
    path = await download.path()
    return Path(path).read_bytes()


def graphql(base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """The same API the page uses, asked directly (the answer the drawing must equal)."""
    import httpx

    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), json.dumps(body["errors"], ensure_ascii=False)[:2000]
    data: dict[str, Any] = body["data"]
    return data
