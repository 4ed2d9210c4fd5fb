"""``crkg serve``: the API (GraphQL at /graphql, /healthz, /readyz, /metrics)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import common
from cli.common import console, friendly_errors
from graph.production_checks import check_production_settings
from graph.settings import CrkgSettings
from graph.store import connected_store


@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (CRKG_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (CRKG_API_PORT)")] = None,
) -> None:
    """Serve the API: GraphQL at /graphql, /healthz, /readyz, /metrics."""
    serve_api(common.settings(), host, port)


async def _check_database(settings: CrkgSettings) -> None:
    async with connected_store(settings):
        pass


def serve_api(settings: CrkgSettings, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import check_bind_host, create_app
    from api.explorer.links import print_explorer_links

    bind_host = host or settings.api_host
    bind_port = port or settings.api_port
    check_production_settings(settings)  # every unsafe production setting, one line each
    check_bind_host(settings, bind_host)  # development stays on this machine
    common.run(_check_database(settings))  # a clear error now, not a lifespan traceback later
    console.print(
        f"crkg API on http://{bind_host}:{bind_port}/graphql  "
        "(/explorer, /healthz, /readyz, /metrics) — Ctrl+C stops"
    )
    print_explorer_links(settings, bind_host, bind_port)
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")
