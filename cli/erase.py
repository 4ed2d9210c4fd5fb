"""``crkg erase CUSTOMER_ID --reason REF``: erase a person and every derived trace (PIPL art. 47).

See ``graph/repositories/erasure.py`` for what goes and what stays. The output names the
erasure record, never the person: the id given on the command line is not printed back.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from cli import common
from cli.common import console, friendly_errors
from graph.errors import CrkgError
from graph.model import Erasure
from graph.repositories.erasure import ErasureRepository, ErasureResult
from graph.store import connected_store


@friendly_errors
def erase(
    customer_id: Annotated[
        str | None, typer.Argument(help="the customer to erase", show_default=False)
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="the request's reference (ticket, letter); required"),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="who asks (default: your login name)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="erase without asking")] = False,
    list_: Annotated[bool, typer.Option("--list", help="list the latest erasures instead")] = False,
) -> None:
    """Erase a customer: the node, what only they own, every mention; the audit keeps that it
    happened (under a pseudonym). Irreversible: backups and exported files are not touched."""
    settings = common.settings()
    if list_:
        _print_erasures()
        return
    if customer_id is None or not customer_id.strip():
        raise CrkgError("give the customer to erase", hint="crkg erase CUSTOMER_ID --reason REF")
    if reason is None or not reason.strip():
        raise CrkgError(
            "--reason is required: the erasure request's reference (ticket or letter)",
            hint="crkg erase CUSTOMER_ID --reason DSR-2026-17",
        )
    if not yes:
        typer.confirm(
            f"erase customer {customer_id} and every trace of them? this cannot be undone",
            abort=True,
        )

    async def go() -> ErasureResult:
        async with connected_store(settings) as store:
            return await ErasureRepository(store).erase(
                customer_id, reason=reason.strip(), requested_by=by or getpass.getuser()
            )

    done = common.run(go())
    record = done.erasure
    if done.already_erased:
        console.print(
            f"already erased by {record.erasure_id} on {record.erased_at:%Y-%m-%d}; "
            f"{done.swept} mention(s) written since were rewritten"
        )
        return
    console.print(
        f"erased: {record.erasure_id} — {record.nodes_deleted} node(s) and "
        f"{record.relationships_deleted} relationship(s) deleted, "
        f"{record.mentions_rewritten + done.swept} mention(s) rewritten to "
        f"ERASED-{record.erasure_id}"
    )


def _print_erasures() -> None:
    async def go() -> list[Erasure]:
        async with connected_store(common.settings()) as store:
            return await ErasureRepository(store).recent()

    table = Table("erasure", "at", "reason", "by", "nodes", "relationships", "mentions")
    for e in common.run(go()):
        table.add_row(
            e.erasure_id,
            f"{e.erased_at:%Y-%m-%d %H:%M}",
            e.reason,
            e.requested_by,
            str(e.nodes_deleted),
            str(e.relationships_deleted),
            str(e.mentions_rewritten),
        )
    console.print(table)
