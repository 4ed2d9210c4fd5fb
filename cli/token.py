"""``crkg token``: a development bearer token for a role (production tokens come from your IdP)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.security.auth import Role
from cli import common
from cli.common import err_console, friendly_errors
from graph.errors import CrkgError
from graph.settings import CrkgSettings
from graph.store import connected_store


@friendly_errors
def token(
    role: Annotated[Role, typer.Option(help="what the token may do")],
    subject: Annotated[
        str, typer.Option(help="who it is for; for role rm, the RM's rm_id (their book)")
    ],
    ttl_minutes: Annotated[
        int | None, typer.Option(help="lifetime (default CRKG_AUTH_TOKEN_TTL_MINUTES)", min=1)
    ] = None,
) -> None:
    """Mint a development bearer token (HS256; production tokens come from your IdP)."""
    from api.security.tokens import mint_token

    settings = common.settings()
    print(mint_token(settings, role=role, subject=subject, ttl_minutes=ttl_minutes))
    if role is Role.RM and common.run(_rm_missing(settings, subject)):
        err_console.print(
            f"[bold yellow]warning:[/] the database has no RelationshipManager {subject!r}: "
            "the API refuses this token (rm_ids are case-sensitive)",
            highlight=False,
        )


async def _rm_missing(settings: CrkgSettings, rm_id: str) -> bool:
    """True when the database answers and has no such RM (unreachable: nothing to say)."""
    from graph.model import NodeLabel
    from graph.repositories.customers import CustomerRepository

    quick = settings.model_copy(
        update={"neo4j_connection_timeout_seconds": 2.0, "neo4j_max_transaction_retry_seconds": 2.0}
    )
    try:
        async with connected_store(quick) as store:
            return bool(
                await CustomerRepository(store).missing(NodeLabel.RELATIONSHIP_MANAGER, [rm_id])
            )
    except CrkgError:
        return False
