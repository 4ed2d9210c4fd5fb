"""Community nodes: the profiles of a stored partition, their refresh, and their members."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph.queries import communities as q
from graph.read_models import CommunityRecord, Penetration
from graph.repositories.customers import clean, collected
from graph.store import QueryRunner

MEMBER_KEY_SEPARATOR = "\x1f"  # cannot occur in ids: keys of the community-members loader


def member_key(prop: str, local_id: str, after: str, limit: int) -> str:
    """The key of one page of a community's members (what the members DataLoader batches)."""
    return MEMBER_KEY_SEPARATOR.join((prop, local_id, after, str(limit)))


class CommunityRepository:
    def __init__(self, runner: QueryRunner, *, batch_size: int = 10_000) -> None:
        self.runner = runner
        self.batch_size = batch_size

    # --- what community runs write -----------------------------------------------------------
    async def breakdown(self, prop: str) -> dict[str, dict[str, dict[str, int]]]:
        """community id -> {"tiers"|"products"|"scenarios": {key: customers}}."""
        result: dict[str, dict[str, dict[str, int]]] = {}
        for part, statement in (
            ("tiers", q.read_community_tiers(prop)),
            ("products", q.read_community_products(prop)),
            ("scenarios", q.read_community_scenarios(prop)),
        ):
            for row in await self.runner.fetch(f"read community {part}", statement):
                entry = result.setdefault(str(row["community"]), {})
                entry.setdefault(part, {})[str(row["key"])] = int(row["n"])
        return result

    async def replace(self, algorithm: str, rows: list[dict[str, Any]], run_id: str) -> int:
        """Write this run's Community nodes and delete the algorithm's older ones."""
        written = await self.runner.write_batches(
            "write communities",
            q.WRITE_COMMUNITIES,
            rows,
            batch_size=self.batch_size,
            run_id=run_id,
        )
        await self.runner.execute(
            "drop stale communities",
            q.DELETE_STALE_COMMUNITIES,
            algorithm=algorithm,
            run_id=run_id,
        )
        return written

    async def profiled_algorithms(self) -> list[str]:
        """Community algorithms whose partition has stored Community profiles."""
        page = await collected(self.runner, "read profiled algorithms", q.PROFILED_ALGORITHMS)
        return [str(a) for a in page["algorithms"]]

    async def refresh_profiles(self, rows: list[dict[str, Any]], run_id: str) -> int:
        """Rewrite the tier, product and scenario parts of existing Community profiles."""
        return await self.runner.write_batches(
            "refresh community profiles",
            q.REFRESH_COMMUNITY_PROFILES,
            rows,
            batch_size=self.batch_size,
            run_id=run_id,
        )

    async def mark_stale(self, reason: str, at: datetime) -> int:
        """Flag every Community profile as describing the graph before a load."""
        done = await self.runner.execute(
            "mark community profiles stale", q.MARK_COMMUNITIES_STALE, reason=reason, at=at
        )
        return done.count("marked")

    # --- what the API reads ------------------------------------------------------------------
    async def by_ids(self, ids: Sequence[str]) -> list[CommunityRecord | None]:
        page = await collected(
            self.runner, "communities by id", q.COMMUNITIES_BY_IDS, ids=list(ids)
        )
        found = {
            row["id"]: CommunityRecord.from_properties(clean(row["community"]))
            for row in page["rows"]
        }
        return [found.get(i) for i in ids]

    async def page(
        self, *, algorithm: str | None, min_size: int, offset: int, limit: int
    ) -> list[CommunityRecord]:
        """Largest first, then by id."""
        rows = await self.runner.fetch(
            "list communities",
            q.COMMUNITIES,
            algorithm=algorithm,
            min_size=min_size,
            offset=offset,
            limit=limit,
        )
        return [CommunityRecord.from_properties(clean(row["community"])) for row in rows]

    async def penetration(self, community_id: str, product_id: str) -> Penetration | None:
        """How many of a community's members hold a product (any product, zeros included);
        None when the community or the product does not exist."""
        row = await self.runner.fetch_one(
            "community penetration",
            q.COMMUNITY_PENETRATION,
            community_id=community_id,
            product_id=product_id,
        )
        if row is None or not row["community_found"] or not row["product_found"]:
            return None
        holders = int(json.loads(row["holders"] or "{}").get(product_id, 0))
        size = int(row["size"])
        return Penetration(
            community_id,
            product_id,
            holders,
            size,
            holders / size if size else 0.0,
            bool(row["stale"]),
            row["run_id"],
        )

    async def members(self, keys: Sequence[str]) -> list[list[str]]:
        """Member pages, one per :func:`member_key` (a DataLoader's batch)."""
        pages_by_property: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key in keys:
            prop, local_id, after, limit = key.split(MEMBER_KEY_SEPARATOR)
            pages_by_property[prop].append(
                {"key": key, "local_id": local_id, "after": after, "limit": int(limit)}
            )
        found: dict[str, list[str]] = {}
        for prop, pages in pages_by_property.items():
            page = await collected(
                self.runner, "community members", q.community_members(prop), pages=pages
            )
            found.update({row["key"]: [str(i) for i in row["ids"]] for row in page["rows"]})
        return [found.get(key, []) for key in keys]
