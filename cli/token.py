"""``crkg token``: a development bearer token for a role (production tokens come from your IdP)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.security.auth import Role
from cli import common
from cli.common import friendly_errors


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
    from api.security.auth import mint_token

    settings = common.settings()
    print(mint_token(settings, role=role, subject=subject, ttl_minutes=ttl_minutes))
