"""The ``crkg`` app: every command group, registered in the order ``crkg --help`` lists them.

Errors are one message and a hint, never a traceback, with the exit codes of the README.
"""

from __future__ import annotations

import logging

import typer

from cli import (
    algo,
    backup,
    campaign,
    contract,
    demo,
    erase,
    generate,
    init,
    load,
    neo4j,
    serve,
    token,
)

app = typer.Typer(
    name="crkg",
    help="Customer relationship knowledge graph: Neo4j + graph algorithms + GraphQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(neo4j.app, name="neo4j")
app.command("init")(init.init)
app.command("generate")(generate.generate)
app.command("load")(load.load)
app.add_typer(algo.app, name="algo")
app.add_typer(campaign.app, name="campaign")
app.command("serve")(serve.serve)
app.command("token")(token.token)
app.command("demo")(demo.demo)
app.command("contract")(contract.contract)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("erase")(erase.erase)


def main() -> None:  # pragma: no cover - console script entry
    logging.basicConfig(level=logging.WARNING)
    app()
