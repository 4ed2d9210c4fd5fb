"""``crkg demo``: all of it, end to end — Neo4j, the schema, a synthetic bank loaded, every
algorithm run, one campaign's list drawn and exported, a development token per role, and the
API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import Progress
from rich.table import Table

from cli import common, serve
from cli.algo import run_with_progress
from cli.common import console, err_console, friendly_errors
from cli.init import initialise_schema
from cli.load import load_with_bars
from cli.neo4j import print_status
from graph.localserver.manager import LocalNeo4j
from graph.repositories.customers import CustomerRepository
from graph.settings import CrkgSettings
from graph.store import connected_store
from synthbank.limits import MIN_CUSTOMERS


async def _largest_book_rm(settings: CrkgSettings) -> str | None:
    """The RM with the largest book, to mint the demo's RM token for."""
    async with connected_store(settings) as store:
        return await CustomerRepository(store).largest_book_rm()


async def _demo_examples(settings: CrkgSettings) -> dict[str, dict[str, Any]]:
    """Parameters for the algorithms that need a subject: seeds, an RM and a prospect."""
    async with connected_store(settings) as store:
        views = CustomerRepository(store)
        product = await views.most_held_product()
        rm_id = await views.largest_book_rm()
        prospect = None if rm_id is None else await views.prospect_near_book(rm_id)
        targeting = await views.scenario_targeting_example()
    examples: dict[str, dict[str, Any]] = {}
    if product is not None:
        examples["personalized_pagerank"] = {"seed_product_id": product}
    if rm_id is not None and prospect is not None:
        examples["referral_paths"] = {"from_rm_id": rm_id, "to_customer_id": prospect}
    if targeting is not None:  # a second referral_targets run: one scenario's own targets
        examples["referral_targets@scenario"] = {
            "product_id": targeting[0],
            "scenario_id": targeting[1],
        }
    return examples


def _print_demo_tokens(settings: CrkgSettings) -> None:
    from api.security.auth import Role
    from api.security.tokens import mint_token

    rm_id = common.run(_largest_book_rm(settings)) or "RM0001"
    url = f"http://{settings.api_host}:{settings.api_port}/graphql"
    console.print(f"GraphQL at [bold]{url}[/bold]; development tokens, one per role:")
    for role, subject in (
        (Role.RM, rm_id),
        (Role.MARKETER, "marketer-demo"),
        (Role.RISK, "risk-demo"),
        (Role.ADMIN, "admin-demo"),
        (Role.CHANNEL, "channel-demo"),
    ):
        console.print(f"\n[bold]{role.value}[/bold] (subject {subject}):")
        print(mint_token(settings, role=role, subject=subject))  # unwrapped, for copying
    console.print(
        "\ntry: curl -s " + url + " -H 'Content-Type: application/json' "
        "-H 'Authorization: Bearer <token>' -d '{\"query\": \"{ me { subject role } }\"}'",
        soft_wrap=True,
    )


@friendly_errors
def demo(
    customers: Annotated[
        int, typer.Option(help="size of the synthetic bank", min=MIN_CUSTOMERS)
    ] = 10_000,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="keep serving the API at the end")
    ] = True,
) -> None:
    """End to end: Neo4j, schema, a synthetic bank loaded, every algorithm run, the API."""
    from algorithms.registry import REGISTRY
    from synthbank.bank import bank_is_current, generate_bank  # numpy: only when generating

    settings = common.settings()
    if settings.uses_local_server:
        console.rule("1. the managed Neo4j")
        with err_console.status("starting the managed Neo4j …"):
            status = LocalNeo4j(settings).start(progress=common.say)
        print_status(status)
    console.rule("2. the schema")
    result = common.run(initialise_schema(settings))
    console.print(
        f"schema version {result.version}: {len(result.created)} created, "
        f"{len(result.already_present)} already present"
    )
    console.rule(f"3. a synthetic bank of {customers:,} customers")
    bank = settings.resolved_data_dir / "demo" / f"bank-{customers}"
    if not bank_is_current(bank):  # missing, or written by an older generator
        summary = generate_bank(bank, customers=customers, seed=42, bad_row_rate=0.002)
        console.print(f"generated in {summary.elapsed_seconds:.1f}s: {bank}")
    else:
        console.print(f"reusing {bank}")
    console.rule("4. loading it (idempotent: a second demo changes nothing)")
    load_with_bars(settings, bank, None, None, False)
    console.rule("5. the algorithms")
    table = Table()
    for column in ("algorithm", "engine", "seconds", "summary"):
        table.add_column(column)
    examples = common.run(_demo_examples(settings))
    runs = [(name, name) for name in REGISTRY] + [
        (label, label.partition("@")[0]) for label in examples if "@" in label
    ]
    for label, name in runs:
        spec = REGISTRY[name]
        params = examples.get(label, {})
        try:
            spec.params.model_validate(params)
        except ValidationError:  # needs a subject this bank does not have (no RM, no product)
            table.add_row(label, "-", "-", "skipped: no example subject in this bank")
            continue
        with Progress(*common.bar_columns(), console=err_console, transient=True) as bar:
            run = common.run(run_with_progress(settings, name, params, "auto", [], bar))
        brief = json.dumps(
            {k: v for k, v in run.summary.items() if k != "top"}, ensure_ascii=False, default=str
        )
        table.add_row(label, run.engine.value, f"{run.seconds:.1f}", brief[:120])
    console.print(table)
    console.rule("6. a campaign: a list drawn, suppressed with reasons, exported")
    from cli.campaign import demo_campaign

    demo_campaign(settings, settings.resolved_data_dir / "demo" / "exports")
    console.rule("7. the API")
    _print_demo_tokens(settings)
    if serve_api:
        serve.serve_api(settings, None, None)
