"""Development links to the explorer, one per role, with the token in the URL fragment.

The fragment (after ``#``) never leaves the browser: it is not sent to the server, so it
never reaches an access log or a proxy, and the page removes it from the address bar at once
and keeps the token in memory only. A query string would be logged everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings, Environment
from graph.store import connected_store

# The subjects `crkg demo` mints tokens for (the RM's is the RM with the largest book).
DEMO_SUBJECTS: dict[Role, str] = {
    Role.MARKETER: "marketer-demo",
    Role.RISK: "risk-demo",
    Role.ADMIN: "admin-demo",
}


@dataclass(frozen=True)
class ExplorerLink:
    role: Role
    subject: str
    url: str


def explorer_url(base_url: str, token: str | None = None) -> str:
    """``base_url/explorer``, with ``#token=…`` when a token is given."""
    page = f"{base_url.rstrip('/')}/explorer"
    return page if token is None else f"{page}#token={quote(token, safe='')}"


def explorer_links(settings: CrkgSettings, base_url: str, rm_id: str) -> list[ExplorerLink]:
    """One link per role with a freshly minted development token (not in production)."""
    subjects = {Role.RM: rm_id, **DEMO_SUBJECTS}
    return [
        ExplorerLink(
            role, subject, explorer_url(base_url, mint_token(settings, role=role, subject=subject))
        )
        for role, subject in subjects.items()
    ]


async def largest_book_rm(settings: CrkgSettings) -> str | None:
    from graph.repositories.customers import CustomerRepository

    async with connected_store(settings) as store:
        return await CustomerRepository(store).largest_book_rm()


def print_explorer_links(settings: CrkgSettings, host: str, port: int) -> None:
    """Print the explorer's address and, outside production with HS256, a link per role."""
    import asyncio

    from rich.console import Console

    console = Console()
    display_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base = f"http://{display_host}:{port}"
    if settings.environment is Environment.PRODUCTION or settings.auth_jwt_algorithm != "HS256":
        console.print(f"explorer at [bold]{explorer_url(base)}[/bold] (paste your bearer token)")
        return
    rm_id = asyncio.run(largest_book_rm(settings)) or "RM0001"
    console.print(
        "\nexplorer links (development tokens in the URL fragment, which is never sent to "
        "the server; the page drops it from the address at once):"
    )
    for link in explorer_links(settings, base, rm_id):
        console.print(f"[bold]{link.role.value}[/bold] ({link.subject}):")
        print(link.url)  # unwrapped, for copying
