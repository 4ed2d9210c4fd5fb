"""RiskLinkage nodes: written by the risk algorithms (replacing the previous run's of the same
kind), read by the API with their members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph.queries import risk_linkages as q
from graph.read_models import (
    GuaranteeLink,
    LinkageMembership,
    LinkageRecord,
    ShareholdingRecord,
)
from graph.repositories.customers import clean, collected, grouped
from graph.store import QueryRunner


class RiskLinkageRepository:
    def __init__(self, runner: QueryRunner, *, batch_size: int = 2_000) -> None:
        self.runner = runner
        self.batch_size = batch_size

    async def replace(self, kind: str, linkages: list[dict[str, Any]], run_id: str) -> int:
        """Write this run's linkages of one kind and remove those it no longer finds."""
        written = await self.runner.write_batches(
            f"write {kind}", q.WRITE_LINKAGES, linkages, batch_size=self.batch_size, run_id=run_id
        )
        await self.runner.execute(
            f"drop stale {kind}", q.DELETE_STALE_LINKAGES, kind=kind, run_id=run_id
        )
        return written

    async def of_customers(self, ids: Sequence[str]) -> list[list[LinkageMembership]]:
        """The linkages each customer belongs to (a DataLoader's batch)."""
        page = await collected(
            self.runner, "linkages by customer", q.LINKAGES_BY_CUSTOMERS, ids=list(ids)
        )

        def membership(row: dict[str, Any]) -> LinkageMembership:
            linkage = row["linkage"]
            return LinkageMembership(
                str(linkage["linkage_id"]),
                str(linkage["kind"]),
                linkage["subtype"],
                int(linkage["size"]),
                row["role"],
            )

        return grouped(page["rows"], ids, membership)

    async def listed(
        self, kind: str, *, min_size: int, max_size: int, limit: int, order_by: str = "size"
    ) -> list[LinkageRecord]:
        """Stored linkages of one kind, largest first by ``order_by``: ``size`` (then score),
        ``amount`` (amount_minor), ``score``, ``total_exposure``, ``loan_balance`` or
        ``guarantees_out`` (control groups)."""
        rows = await self.runner.fetch(
            f"{kind} linkages",
            q.linkages(order_by),
            kind=kind,
            min_size=min_size,
            max_size=max_size,
            limit=limit,
        )
        return [LinkageRecord.from_properties(clean(r["linkage"]), r["members"]) for r in rows]

    async def control_groups(
        self, first: int, order_by: str = "total_exposure"
    ) -> list[LinkageRecord]:
        """Related-party (control) groups, largest ``total_exposure_minor`` first by default
        (or ``loan_balance``, ``guarantees_out``, ``size``); the controller at position 0."""
        return await self.listed(
            "CONTROL_GROUP", min_size=1, max_size=1_000_000, limit=first, order_by=order_by
        )

    async def by_id(self, linkage_id: str) -> LinkageRecord | None:
        """One stored linkage (any kind) with its members, or None."""
        row = await self.runner.fetch_one("risk linkage", q.LINKAGE_BY_ID, linkage_id=linkage_id)
        if row is None:
            return None
        return LinkageRecord.from_properties(clean(row["linkage"]), row["members"])

    async def control_group_of(self, customer_id: str) -> LinkageRecord | None:
        """The largest control group ``customer_id`` belongs to, or None."""
        row = await self.runner.fetch_one(
            "related-party group", q.GROUP_OF_CUSTOMER, customer_id=customer_id
        )
        if row is None:
            return None
        return LinkageRecord.from_properties(clean(row["linkage"]), row["members"])

    async def circle_links(self, ids: Sequence[str]) -> list[list[GuaranteeLink]]:
        """The guarantees of each circle in guarantee order (a DataLoader's batch)."""
        page = await collected(self.runner, "circle links", q.CIRCLE_LINKS, ids=list(ids))
        return grouped(page["rows"], ids, GuaranteeLink.from_row)

    async def group_shareholdings(self, ids: Sequence[str]) -> list[list[ShareholdingRecord]]:
        """The shareholdings between the members of each group (a DataLoader's batch)."""
        page = await collected(
            self.runner, "shareholdings in groups", q.SHAREHOLDINGS_IN_GROUPS, ids=list(ids)
        )
        return grouped(
            page["rows"],
            ids,
            lambda r: ShareholdingRecord(
                str(r["holding"]["src"]), str(r["holding"]["dst"]), float(r["holding"]["pct"])
            ),
        )
