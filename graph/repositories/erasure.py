"""``crkg erase``: remove a person and every trace derived from them (PIPL art. 47).

What goes, in one write transaction: the customer node with all its relationships (ties,
holdings, memberships, list rows, referral targets, scores and community labels are on them),
what only the person owns (consents, opt-outs, complaints, contacts, identifiers nobody else
uses), and every mention of the id elsewhere (reasons and introducers in other people's list
rows and targets, central members of communities, audit events), rewritten as whole tokens to
``ERASED-<erasure id>``. Linkage, community and list-version counts are recounted. What stays is
an :class:`~graph.model.Erasure` record: that an erasure happened, when, why and by whom, under
a pseudonym of the id (so a later load can refuse the person's rows) — never the person's data.

Not covered here, and said so in the README: database backups and files already exported
(channel files, rejects files of earlier loads) hold what they held.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graph.errors import NotFoundError
from graph.model import Erasure, NodeLabel
from graph.queries import erasure as q
from graph.store import Executed, QueryRunner, to_native

_SWEEPS = 3  # post-commit rounds that catch mentions written concurrently


def subject_pseudonym(customer_id: str) -> str:
    """The pseudonym an :class:`Erasure` keeps of the erased id (and the loader checks).

    >>> subject_pseudonym("C1") == subject_pseudonym(" C1 ")
    True
    >>> len(subject_pseudonym("C1"))
    64
    """
    return hashlib.sha256(b"crkg-erasure\0" + customer_id.strip().encode("utf-8")).hexdigest()


# Properties that hold the bank's own values of another kind (a product's id, a city, a name,
# a phone) and never a reference to a customer: the contract's columns other than the
# customer references. An erased ``P1`` or ``Shanghai`` is not the product P1 or the city of
# everyone else; rewriting those would change other people's data (and break the product).
# tests/unit/test_erasure_kept_keys.py checks this against the contract.
KEPT_KEYS: frozenset[str] = frozenset(
    {
        "activity", "amount", "at", "aum", "balance", "birth_date", "branch_id", "campaign_id",
        "category", "channel", "city", "complaint_id", "consent_id", "consent_marketing",
        "contact_id", "converted", "day", "defaulted_at", "eligible_kinds",
        "eligible_scenario_kinds", "email", "end", "id_number", "kind", "last_active_at",
        "list_version_id", "max_age", "min_age", "min_tier", "name", "onboarded_at",
        "opt_out_id", "outcome", "partner_id", "pct", "phone", "pre_metric", "product_id",
        "purpose", "referred_at", "risk_rating", "rm_id", "role", "scenario_id", "since",
        "start", "status", "strength", "treatment", "value",
    }
)  # fmt: skip


def mention_forms(customer_id: str) -> list[str]:
    """The id as it is written in text and inside JSON strings (escaped, with and without
    ``ensure_ascii``): an id holding ``"``, ``\\`` or non-ASCII characters is stored escaped.

    >>> mention_forms('H"1')
    ['H"1', 'H\\\\"1']
    >>> mention_forms("客1")
    ['客1', '\\\\u5ba21']
    """
    forms = [customer_id]
    for ascii_only in (False, True):
        escaped = json.dumps(customer_id, ensure_ascii=ascii_only)[1:-1]
        if escaped not in forms:
            forms.append(escaped)
    return forms


def replace_token(value: Any, customer_id: str, replacement: str) -> Any:
    """``value`` with every whole-token occurrence of ``customer_id`` replaced.

    A token is bounded by anything that cannot be part of an id, so ``C1`` is replaced in
    ``'["C1", "C12"]'`` but ``C12`` is left alone; lists are rewritten element by element.
    In a JSON object or array, values under a :data:`KEPT_KEYS` key are left alone, and the
    id is found however JSON escaped it.

    >>> replace_token('["C1", "C12"]', "C1", "ERASED-e1")
    '["ERASED-e1", "C12"]'
    >>> replace_token(["C1", "C2"], "C1", "ERASED-e1")
    ['ERASED-e1', 'C2']
    >>> replace_token('{"product_id": "P1", "path": ["P1"]}', "P1", "ERASED-e1")
    '{"product_id": "P1", "path": ["ERASED-e1"]}'
    """
    if isinstance(value, list):
        return [replace_token(item, customer_id, replacement) for item in value]
    if not isinstance(value, str):
        return value
    if value[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict | list):
            rewritten = _replace_in_json(parsed, customer_id, replacement)
            if rewritten == parsed:
                return value
            return json.dumps(rewritten, ensure_ascii=False)
    for form in mention_forms(customer_id):
        pattern = re.compile(rf"(?<![\w.-]){re.escape(form)}(?![\w.-])")
        value = pattern.sub(replacement, value)
    return value


def replace_mention(key: str, value: Any, customer_id: str, replacement: str) -> Any:
    """``value`` of property ``key`` with the id replaced: a property named ``…_id`` or
    ``…_ids`` holds whole ids, so only a value equal to the id is a mention (``C1 A`` and
    ``C1/2`` are other people's ids, not ``C1``); anything else by :func:`replace_token`.

    >>> replace_mention("customer_id", "C1 A", "C1", "ERASED-e1")
    'C1 A'
    >>> replace_mention("introducer_ids", ["C1", "C1/2"], "C1", "ERASED-e1")
    ['ERASED-e1', 'C1/2']
    """
    if key in KEPT_KEYS:
        return value
    if key.endswith(("_id", "_ids")):
        if isinstance(value, list):
            return [replacement if item == customer_id else item for item in value]
        return replacement if value == customer_id else value
    return replace_token(value, customer_id, replacement)


def _replace_in_json(value: Any, customer_id: str, replacement: str) -> Any:
    if isinstance(value, dict):
        return {
            replace_token(k, customer_id, replacement): (
                _replace_in_json(v, customer_id, replacement)
                if isinstance(v, dict | list) and k not in KEPT_KEYS
                else replace_mention(k, v, customer_id, replacement)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_replace_in_json(item, customer_id, replacement) for item in value]
    if isinstance(value, str):
        return replace_token(value, customer_id, replacement)
    return value


@dataclass(frozen=True)
class ErasureResult:
    erasure: Erasure
    already_erased: bool  # the id had been erased before: the sweep ran, nothing else
    swept: int  # mentions rewritten by the post-commit sweeps


class ErasureRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def erase(self, customer_id: str, *, reason: str, requested_by: str) -> ErasureResult:
        """Erase ``customer_id``; an id erased before is swept again and its record returned.

        Raises :class:`~graph.errors.NotFoundError` for an id that is neither in the graph nor
        erased before.
        """
        customer_id = customer_id.strip()
        pseudonym = subject_pseudonym(customer_id)
        exists = await self.runner.fetch_one(
            "erase: customer exists", q.CUSTOMER_EXISTS, customer_id=customer_id
        )
        if exists is None:
            earlier = await self.find(customer_id)
            if earlier is None:
                raise NotFoundError(NodeLabel.CUSTOMER.value, customer_id)
            swept = await self._sweep(customer_id, earlier.erasure_id)
            return ErasureResult(earlier, already_erased=True, swept=swept)
        erasure_id = f"erasure-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        replacement = f"ERASED-{erasure_id}"
        node_rewrites, rel_rewrites = await self._mentions(customer_id, replacement)
        erased_at = datetime.now(UTC)
        pending = Erasure(
            erasure_id=erasure_id,
            subject_sha256=pseudonym,
            reason=reason,
            requested_by=requested_by,
            erased_at=erased_at,
            nodes_deleted=0,
            relationships_deleted=0,
            mentions_rewritten=0,
        )
        # the record is written with the deletion, in its transaction: a load that reads the
        # erasures once the person is gone always finds it (the counts follow once known)
        done = await self.runner.execute_all(
            "erase customer",
            [
                (q.REWRITE_NODE_MENTIONS, {"rewrites": node_rewrites}),
                (q.REWRITE_RELATIONSHIP_MENTIONS, {"rewrites": rel_rewrites}),
                (q.RECOUNT_AGGREGATES, {"customer_id": customer_id}),
                (q.DELETE_OWNED, {"customer_id": customer_id}),
                (q.DELETE_CUSTOMER, {"customer_id": customer_id}),
                (q.DELETE_EMPTIED_LINKAGES, {}),
                (q.DELETE_EMPTIED_COMMUNITIES, {}),
                (q.RECORD_ERASURE, {"props": pending.to_properties()}),
            ],
        )
        erasure = pending.model_copy(
            update={
                "nodes_deleted": sum(_counter(d, "nodes_deleted") for d in done),
                "relationships_deleted": sum(_counter(d, "relationships_deleted") for d in done),
                "mentions_rewritten": done[0].count() + done[1].count(),
            }
        )
        await self.runner.execute(
            "erase: record counts", q.RECORD_ERASURE_COUNTS, props=erasure.to_properties()
        )
        swept = await self._sweep(customer_id, erasure_id)
        return ErasureResult(erasure, already_erased=False, swept=swept)

    async def find(self, customer_id: str) -> Erasure | None:
        """The first erasure of ``customer_id`` (by its pseudonym), if there was one."""
        row = await self.runner.fetch_one(
            "read erasure", q.READ_ERASURE, subject_sha256=subject_pseudonym(customer_id)
        )
        return None if row is None else _erasure(row["erasure"])

    async def recent(self, limit: int = 50) -> list[Erasure]:
        rows = await self.runner.fetch("list erasures", q.LIST_ERASURES, limit=limit)
        return [_erasure(row["erasure"]) for row in rows]

    async def pseudonyms(self) -> dict[str, str]:
        """Every erased id's pseudonym and its erasure (what the loader refuses rows for)."""
        rows = await self.runner.fetch("erased pseudonyms", q.ERASED_PSEUDONYMS)
        return {str(row["pseudonym"]): str(row["erasure_id"]) for row in rows}

    async def _mentions(
        self, customer_id: str, replacement: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        found = []
        for query in (q.FIND_NODE_MENTIONS, q.FIND_RELATIONSHIP_MENTIONS):
            rows = await self.runner.fetch(
                "erase: find mentions",
                query,
                customer_id=customer_id,
                forms=mention_forms(customer_id),
                kept=sorted(KEPT_KEYS),
            )
            rewrites = []
            for row in rows:
                new = replace_mention(row["key"], row["value"], customer_id, replacement)
                if new != row["value"]:  # CONTAINS matched; a whole token did too
                    rewrites.append(
                        {
                            "element": row["element"],
                            "key": row["key"],
                            "old": row["value"],
                            "new": new,
                        }
                    )
            found.append(rewrites)
        return found[0], found[1]

    async def _sweep(self, customer_id: str, erasure_id: str) -> int:
        """Rewrite mentions written while the erasure ran (a concurrent load, an API write)."""
        swept = 0
        for _ in range(_SWEEPS):
            nodes, rels = await self._mentions(customer_id, f"ERASED-{erasure_id}")
            if not nodes and not rels:
                break
            done = await self.runner.execute_all(
                "erase: sweep",
                [
                    (q.REWRITE_NODE_MENTIONS, {"rewrites": nodes}),
                    (q.REWRITE_RELATIONSHIP_MENTIONS, {"rewrites": rels}),
                ],
            )
            swept += sum(d.count() for d in done)
        return swept


def _counter(done: Executed, name: str) -> int:
    return int(getattr(done.counters, name, 0) or 0)


def _erasure(props: dict[str, Any]) -> Erasure:
    return Erasure.model_validate({k: to_native(v) for k, v in props.items()})
