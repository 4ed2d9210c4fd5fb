"""``crkg campaign create|draw|show|approve|export|effect``: campaigns and their immutable
list versions from the command line, with the GraphQL area's rules (issue 12).

Who acts is ``--by`` (default: the login name): a list version is approved by another person
than the one who drew it (maker-checker), and an export with ``--contacts`` needs that
approval and leaves one audit event per customer.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from cli import common
from cli.common import console, friendly_errors
from graph import clock
from graph.errors import CrkgError
from graph.lists import DrawParameters, ListPolicy
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput, CampaignRepository, ListExport
from graph.repositories.effects import SEGMENTS, EffectRepository
from graph.store import connected_store

app = typer.Typer(
    help="Campaigns and their list versions: create, draw, show, approve, export, effect.",
    no_args_is_help=True,
)
T = TypeVar("T")
_DEFAULTS = DrawParameters()
By = Annotated[str, typer.Option("--by", help="who acts (default: your login name)")]


def _me() -> str:
    return getpass.getuser()


def _with_repository(work: Callable[[CampaignRepository], Awaitable[T]]) -> T:
    settings = common.settings()

    async def go() -> T:
        async with connected_store(settings) as store:
            rule = RiskFlagRule.from_settings(settings)
            policy = ListPolicy.from_settings(settings)
            return await work(CampaignRepository(store, risk_rule=rule, policy=policy))

    return common.run(go())


def _print_version(version: dict[str, Any]) -> None:
    console.print(
        f"list version {version['list_version_id']} (hash {version['content_hash'][:16]}…): "
        f"{version['row_count']} rows, {version['suppressed_count']} suppressed; drawn by "
        f"{version['drawn_by']}, approved by {version.get('approved_by') or 'nobody yet'}",
        highlight=False,
    )
    if version.get("holdout_share"):
        warning = "  SRM WARNING: the arms stray from the plan" if version["srm_warning"] else ""
        console.print(
            f"hold-out {version['holdout_share']}: {version['treated_count']} treated (T), "
            f"{version['control_count']} control (C); SRM p = {version['srm_p_value']:.4g}"
            f"{warning}",
            highlight=False,
        )
    counts = json.loads(version["suppression_counts_json"])
    table = Table(title="suppressed by reason")
    table.add_column("reason")
    table.add_column("customers", justify="right")
    for code, count in counts.items():
        table.add_row(code, str(count))
    console.print(table)


@app.command("create")
@friendly_errors
def create(
    campaign_id: Annotated[str, typer.Argument(help="the new campaign's id")],
    name: Annotated[str, typer.Option(help="its name")],
    product: Annotated[str, typer.Option(help="the product it offers")],
    channel: Annotated[str, typer.Option(help="SMS, PHONE, EMAIL, APP or RM")],
    purpose: Annotated[str, typer.Option(help="MARKETING, REFERRAL or SERVICE")] = "MARKETING",
    scenario: Annotated[str | None, typer.Option(help="a scenario's id")] = None,
    start: Annotated[str | None, typer.Option(help="first day (2026-07-01)")] = None,
    end: Annotated[str | None, typer.Option(help="last day")] = None,
    owner: Annotated[str | None, typer.Option(help="default: --by")] = None,
    by: By = "",
) -> None:
    """Create a campaign (the same one again is kept; another with that id is an error)."""
    who = by or _me()
    campaign = CampaignInput(
        campaign_id=campaign_id,
        name=name,
        product_id=product,
        channel=channel.upper(),
        purpose=purpose.upper(),
        owner=owner or who,
        scenario_id=scenario,
        start=_day(start, "--start"),
        end=_day(end, "--end"),
    )
    made = _with_repository(lambda r: r.create(campaign, created_by=who))
    console.print(f"campaign {made['campaign_id']}: {json.dumps(made, default=str)}")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CrkgError(f"{option} {text!r} is not a date like 2026-07-01") from None


@app.command("draw")
@friendly_errors
def draw(
    campaign_id: Annotated[str, typer.Argument(help="the campaign")],
    top_n: Annotated[int, typer.Option(help="rows at most")] = _DEFAULTS.top_n,
    min_score: Annotated[float, typer.Option(help="lowest score listed")] = _DEFAULTS.min_score,
    max_contacts: Annotated[
        int, typer.Option(help="suppressed at this many contacts in the window")
    ] = _DEFAULTS.max_contacts,
    cap_window_days: Annotated[
        int, typer.Option(help="the frequency cap's sliding window")
    ] = _DEFAULTS.cap_window_days,
    complaint_window_days: Annotated[
        int, typer.Option(help="complaints this recent suppress")
    ] = _DEFAULTS.complaint_window_days,
    as_of: Annotated[str | None, typer.Option(help="the day screened (default: today)")] = None,
    seed: Annotated[int, typer.Option(help="recorded; the hold-out's arms draw with it")] = 0,
    holdout_share: Annotated[
        float, typer.Option(help="control share 0-0.5, randomised by community (0: none)")
    ] = 0.0,
    holdout_community: Annotated[
        str, typer.Option(help="the stored community run the hold-out clusters by")
    ] = "louvain",
    by: By = "",
) -> None:
    """Draw a list version: the same inputs give the same version (its hash says so)."""
    parameters = DrawParameters(
        top_n=top_n,
        min_score=min_score,
        max_contacts=max_contacts,
        cap_window_days=cap_window_days,
        complaint_window_days=complaint_window_days,
        as_of=_day(as_of, "--as-of") or clock.today(),
        seed=seed,
        holdout_share=holdout_share,
        holdout_community=holdout_community,
    )
    version, created = _with_repository(
        lambda r: r.draw(campaign_id, parameters, drawn_by=by or _me())
    )
    if not created:
        console.print("the same inputs gave this version already:")
    _print_version(version)


@app.command("show")
@friendly_errors
def show(
    list_version_id: Annotated[str, typer.Argument(help="a list version (K1:v1)")],
    rows: Annotated[int, typer.Option(help="rows to print")] = 10,
    customer: Annotated[
        str | None, typer.Option(help="why is this customer not on the list?")
    ] = None,
) -> None:
    """A list version: its counts by reason, its first rows, or one customer's suppression."""

    async def read(r: CampaignRepository) -> tuple[Any, Any, Any]:
        version = await r.version(list_version_id)
        listed = await r.rows(list_version_id, limit=rows)
        why = await r.suppressions(list_version_id, limit=1, customer_id=customer)
        return version, listed, why if customer else None

    version, listed, why = _with_repository(read)
    _print_version(version)
    if customer is not None:
        if why:
            console.print(f"{customer} is suppressed: {', '.join(why[0]['codes'])}")
        else:
            console.print(f"{customer} is not among the suppressed candidates of this version")
        return
    table = Table(title=f"first {len(listed)} rows")
    for column in ("position", "customer", "treatment", "score", "introducer", "path"):
        table.add_column(column)
    for row in listed:
        reasons = row["reasons"]
        table.add_row(str(row["position"]), row["customer_id"], row["treatment"],
                      f"{reasons['score']:.4f}", reasons["introducer_id"] or "",
                      " > ".join(reasons["path"]))  # fmt: skip
    console.print(table)


@app.command("approve")
@friendly_errors
def approve(
    list_version_id: Annotated[str, typer.Argument(help="a list version (K1:v1)")],
    by: By = "",
) -> None:
    """Approve a list version another person drew (maker-checker)."""
    version = _with_repository(lambda r: r.approve(list_version_id, subject=by or _me()))
    console.print(f"{list_version_id} approved by {version['approved_by']}")


def _estimate_line(name: str, est: dict[str, Any]) -> str:
    line = (
        f"{name}: {est['difference']:+.4f} (treated {est['treated']['rate']:.4f} − control "
        f"{est['control']['rate']:.4f}), {est['level']:.0%} interval [{est['low']:+.4f}, "
        f"{est['high']:+.4f}], p = {est['p_value']:.3g}"
    )
    if est.get("variance_reduction") is not None:
        line += f"; theta {est['theta']:.4g}, variance −{est['variance_reduction']:.1%}"
    return line


@app.command("effect")
@friendly_errors
def effect(
    list_version_id: Annotated[str, typer.Argument(help="a list version (K1:v1)")],
    segment: Annotated[
        str | None, typer.Option(help=f"break down by a customer property: {', '.join(SEGMENTS)}")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the effect as JSON")] = False,
) -> None:
    """The measured effect of a list version on conversion (the loaded outcomes): counts per
    arm, treated − control with its 95% cluster-robust interval, CUPED, per segment."""
    settings = common.settings()

    async def go() -> dict[str, Any]:
        async with connected_store(settings) as store:
            return await EffectRepository(store).effect(list_version_id, segment=segment)

    found = common.run(go())
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{list_version_id}: outcomes per arm")
    for column in ("arm", "rows", "no outcome", "reached", "declined", "converted"):
        table.add_column(column, justify="right")
    keys = ("rows", "without_outcome", "reached", "declined", "converted")
    for arm, counts in found["arms"].items():
        table.add_row(arm, *(str(counts[k]) for k in keys))
    console.print(table)
    if found["error"]:
        typer.echo(f"no estimate: {found['error']}")
        return
    typer.echo(_estimate_line("effect", found["estimate"]))
    typer.echo(f"  method: {found['estimate']['method']}")
    if found["cuped"]:
        typer.echo(_estimate_line("CUPED", found["cuped"]))
    else:
        typer.echo(found["cuped_note"])
    for part in found["segments"]:
        if "error" in part:
            typer.echo(f"  {part['segment']}: no estimate ({part['error']})")
        else:
            typer.echo("  " + _estimate_line(part["segment"], part))


@app.command("export")
@friendly_errors
def export(
    list_version_id: Annotated[str, typer.Argument(help="a list version (K1:v1)")],
    out: Annotated[Path, typer.Option(help="folder for the file and its manifest")] = Path("."),
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    contacts: Annotated[
        bool, typer.Option(help="with name, phone and e-mail (approved versions only; audited)")
    ] = False,
    by: By = "",
) -> None:
    """Write a list version's file and ``<file>.manifest.json``, screened again today."""
    if file_format not in ("csv", "parquet"):
        raise CrkgError(f"--format must be csv or parquet, not {file_format!r}")
    done = _with_repository(
        lambda r: r.export(
            list_version_id,
            "csv" if file_format == "csv" else "parquet",
            contact_details=contacts,
            subject=by or _me(),
            role="channel" if contacts else "marketer",
            as_of=clock.today(),
        )
    )
    target, manifest = _write_export(out, done)
    removed = done.manifest["removed_at_export"]
    console.print(
        f"{target}: {done.manifest['rows']} rows ({removed} suppressed since the draw); "
        f"manifest {manifest}",
        highlight=False,
    )


def _write_export(out: Path, done: ListExport) -> tuple[Path, Path]:
    """The file and ``<file>.manifest.json`` in ``out``, owner-only (a file with contact
    details is personal data, like the rejects): never outside ``out``, never through a
    symbolic link."""
    out.mkdir(parents=True, exist_ok=True)
    folder = out.resolve()
    written = []
    for name, content in (
        (done.file_name, done.content),
        (f"{done.file_name}.manifest.json",
         (json.dumps(done.manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")),
    ):  # fmt: skip
        target = out / name
        if Path(name).name == name and target.is_symlink():
            raise CrkgError(f"{target} is a symbolic link: an export follows no link")
        if Path(name).name != name or (folder / name).resolve().parent != folder:
            raise CrkgError(f"export file {name!r} would be written outside {out}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        descriptor = os.open(target, flags, 0o600)
        os.fchmod(descriptor, 0o600)  # an existing file keeps its mode otherwise
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        written.append(target)
    return written[0], written[1]


async def _demo_draw(settings: Any) -> tuple[dict[str, Any], ListExport] | None:
    """``crkg demo``'s campaign: SMS marketing of the most held product, a list drawn on the
    synthetic bank's reference day (its contact history ends there), its counts by
    suppression reason, and its masked export."""
    from graph.repositories.customers import CustomerRepository
    from synthbank.util import REF_DATE

    async with connected_store(settings) as store:
        product = await CustomerRepository(store).most_held_product()
        if product is None:
            return None
        repository = CampaignRepository(
            store,
            risk_rule=RiskFlagRule.from_settings(settings),
            policy=ListPolicy.from_settings(settings),
        )
        campaign = CampaignInput(
            campaign_id=f"DEMO-SMS-{product}",
            name="演示短信营销",
            product_id=product,
            channel="SMS",
            purpose="MARKETING",
            owner="marketer-demo",
        )
        await repository.create(campaign, created_by="marketer-demo")
        parameters = DrawParameters(top_n=200, as_of=date.fromisoformat(REF_DATE))
        version, _ = await repository.draw(
            campaign.campaign_id, parameters, drawn_by="marketer-demo"
        )
        done = await repository.export(
            version["list_version_id"],
            "csv",
            contact_details=False,
            subject="marketer-demo",
            role="marketer",
            as_of=clock.today(),
        )
    return version, done


def demo_campaign(settings: Any, out: Path) -> None:
    """``crkg demo``'s campaign (see :func:`_demo_draw`), its export written to ``out``."""
    try:
        drawn = common.run(_demo_draw(settings))
    except CrkgError as error:  # e.g. no stored targets: the rest of the demo still runs
        console.print(f"no campaign drawn: {error.message}", highlight=False)
        return
    if drawn is None:
        console.print("no product is held in this bank: no campaign to draw")
        return
    version, done = drawn
    _print_version(version)
    target, manifest = _write_export(out, done)
    console.print(
        f"masked export: {target} ({done.manifest['rows']} rows), manifest {manifest}; "
        "contact details need a second person's approval "
        f"(`crkg campaign approve {version['list_version_id']} --by <someone else>`)",
        highlight=False,
        soft_wrap=True,
    )
