"""Root fields and mutations of the campaign area (issue 12): create a campaign, draw an
immutable list version, read its rows and suppressions, approve it (maker-checker: not the
person who drew it) and export it, masked for marketers, with contact details for the
``channel`` role only once approved (every such export audited)."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.campaigns.types import (
    Campaign,
    CampaignInput,
    DrawResult,
    ExportFormat,
    ListExport,
    ListVersion,
)
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.permissions import guarded_field, guarded_mutation
from api.security.auth import Permission
from graph.lists import DrawParameters
from graph.repositories.campaigns import CampaignInput as CampaignRecordInput

_DEFAULTS = DrawParameters()


@guarded_field(Permission.READ_LISTS, "Campaigns, by id")
async def campaigns(info: strawberry.Info, first: int | None = 50) -> list[Campaign] | None:
    context = context_value(info)
    found = await context.repositories.campaigns.campaigns(context.page_size(first))
    return [Campaign.from_record(c) for c in found]


@guarded_field(Permission.READ_LISTS, "The list versions of a campaign, oldest first")
async def list_versions(
    info: strawberry.Info, campaign_id: strawberry.ID, first: int | None = 50
) -> list[ListVersion] | None:
    context = context_value(info)
    repository = context.repositories.campaigns
    await repository.get(str(campaign_id))  # NOT_FOUND for an unknown campaign
    found = await repository.versions(str(campaign_id))
    return [ListVersion.from_record(v) for v in found[: context.page_size(first)]]


@guarded_field(Permission.READ_LISTS, "One list version, its rows and suppressions")
async def list_version(info: strawberry.Info, id: strawberry.ID) -> ListVersion | None:
    record = await context_value(info).repositories.campaigns.version(str(id))
    return ListVersion.from_record(record)


# --- mutations ---------------------------------------------------------------------------
@guarded_mutation(Permission.MANAGE_CAMPAIGNS, "Create a campaign (the same one again: kept)")
async def create_campaign(info: strawberry.Info, input: CampaignInput) -> Campaign | None:
    context = context_value(info)
    subject = context.principal.subject
    record = await context.repositories.campaigns.create(
        CampaignRecordInput(
            campaign_id=str(input.campaign_id),
            name=input.name,
            product_id=str(input.product_id),
            channel=input.channel.value,
            purpose=input.purpose.value,
            owner=input.owner or subject,
            scenario_id=None if input.scenario_id is None else str(input.scenario_id),
            start=input.start,
            end=input.end,
        ),
        created_by=subject,
    )
    return Campaign.from_record(record)


@guarded_mutation(
    Permission.MANAGE_CAMPAIGNS,
    "Draw a list version from the stored referral targets, suppressing with reason codes "
    "(the same inputs give the same version); holdoutShare > 0 holds out a control arm "
    "randomised by community (holdoutCommunity: the stored community run, louvain by default)",
)
async def draw_list_version(
    info: strawberry.Info,
    campaign_id: strawberry.ID,
    top_n: int = _DEFAULTS.top_n,
    min_score: float = _DEFAULTS.min_score,
    max_contacts: int = _DEFAULTS.max_contacts,
    cap_window_days: int = _DEFAULTS.cap_window_days,
    complaint_window_days: int = _DEFAULTS.complaint_window_days,
    as_of: date | None = None,
    seed: int = 0,
    holdout_share: float = 0.0,
    holdout_community: str = "louvain",
) -> DrawResult | None:
    context = context_value(info)
    today = context.today()
    if as_of is not None and as_of != today and not context.principal.can(Permission.READ_PII_ALL):
        # another day's screen tells NOT_ELIGIBLE / COMPLAINT / OPTED_OUT apart by date: for
        # a role without unmasked PII, bisecting asOf would read birth and complaint dates
        raise ClientError(
            f"asOf {as_of} is not today ({today}): only a role that reads unmasked PII "
            "draws on another day"
        )
    parameters = DrawParameters(
        top_n=top_n,
        min_score=min_score,
        max_contacts=max_contacts,
        cap_window_days=cap_window_days,
        complaint_window_days=complaint_window_days,
        as_of=as_of or today,
        seed=seed,
        holdout_share=holdout_share,
        holdout_community=holdout_community,
    )
    version, created = await context.repositories.campaigns.draw(
        str(campaign_id), parameters, drawn_by=context.principal.subject
    )
    return DrawResult(version=ListVersion.from_record(version), created=created)


@guarded_mutation(
    Permission.MANAGE_CAMPAIGNS,
    "Approve a list version someone else drew (maker-checker); contact exports need it",
)
async def approve_list_version(info: strawberry.Info, id: strawberry.ID) -> ListVersion | None:
    context = context_value(info)
    record = await context.repositories.campaigns.approve(
        str(id), subject=context.principal.subject
    )
    return ListVersion.from_record(record)


async def _export(
    info: strawberry.Info, id: strawberry.ID, export_format: ExportFormat, *, contact: bool
) -> ListExport:
    context = context_value(info)
    principal = context.principal
    done = await context.repositories.campaigns.export(
        str(id),
        export_format.value,
        contact_details=contact,
        subject=principal.subject,
        role=principal.role.value,
        as_of=context.today(),
        purpose=context.purpose,
        document_sha256=context.document_sha256,
    )
    return ListExport(
        file_name=done.file_name,
        format=export_format,
        content_base64=base64.b64encode(done.content).decode("ascii"),
        sha256=hashlib.sha256(done.content).hexdigest(),
        rows=int(done.manifest["rows"]),
        contact_details=contact,
        manifest=cast(JSON, done.manifest),
    )


@guarded_mutation(
    Permission.MANAGE_CAMPAIGNS,
    "Export a list version masked (ids, treatment codes, reasons; no personal data), "
    "screened again today",
)
async def export_list_version(
    info: strawberry.Info, id: strawberry.ID, format: ExportFormat = ExportFormat.CSV
) -> ListExport | None:
    return await _export(info, id, format, contact=False)


@guarded_mutation(
    Permission.EXPORT_CONTACTS,
    "Export an approved list version with contact details (name, phone, e-mail) for the "
    "channel; audited per customer",
)
async def export_list_contacts(
    info: strawberry.Info, id: strawberry.ID, format: ExportFormat = ExportFormat.CSV
) -> ListExport | None:
    return await _export(info, id, format, contact=True)
