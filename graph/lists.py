"""Drawing a campaign's list, as pure functions of what the graph answered: suppression codes,
each row's reasons, the canonical content of a list version and its hash.

A list version is a function of its inputs: the campaign (product, scenario, channel,
purpose), the selection rule and its parameters, the seed, the stored referral targets and the
suppression facts (their codes; not the risk flags behind ``RISK_FLAGGED``, which only risk
roles read). :func:`content_hash` is the SHA-256 of the canonical JSON of all of it
(sorted keys, no spaces, rows in order), so the same inputs give the same hash byte for byte
and any changed input gives another.

Examples
--------
>>> facts = SuppressionFacts(risk_flags=(), eligible=True, holds=False, consent_marketing=True,
...     consent=None, opted_out=False, complained=False, recent_contacts=2)
>>> suppression_codes(facts, max_contacts=2, introducer_left=True)
['CONTACT_CAP']
>>> content_hash({"b": 1, "a": [1.5, "名单"]}) == content_hash({"a": [1.5, "名单"], "b": 1})
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from graph.errors import CrkgError
from graph.holdout import Assignment, Edge, HoldoutPlan, assign
from graph.model import ConsentStatus, SuppressionReason
from graph.results import COMMUNITY_PREFIX, COMMUNITY_PROPERTIES

RULE_REFERRAL_TARGETS: Final = "referral_targets_top_n"
# Without a hold-out every row is treated; with one, graph.holdout assigns T / C by cluster.
TREATMENT: Final = "T"
MAX_TOP_N: Final = 10_000
# far enough from date.min / date.max that every window (at most 3660 days) stays a date
MIN_AS_OF: Final = date(1900, 1, 1)
MAX_AS_OF: Final = date(9000, 12, 31)
HOLDOUT_COMMUNITIES: Final = tuple(
    p.value.removeprefix(COMMUNITY_PREFIX) for p in COMMUNITY_PROPERTIES
)


class ListRuleError(CrkgError):
    """A draw, approval or export that the campaign rules refuse (the message says which)."""


@dataclass(frozen=True)
class DrawParameters:
    """The selection rule's parameters (all part of a version's hash)."""

    top_n: int = 500
    min_score: float = 0.0
    max_contacts: int = 2  # suppressed at this many contacts inside the window
    cap_window_days: int = 30  # the sliding window: (as_of - days, as_of]
    complaint_window_days: int = 180
    as_of: date = field(default_factory=date.today)
    seed: int = 0  # the hold-out assignment draws with it
    holdout_share: float = 0.0  # planned control share (graph.holdout); 0: every row treated
    holdout_community: str = "louvain"  # the stored community run the hold-out clusters by

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.top_n <= MAX_TOP_N, f"top_n must be in 1..{MAX_TOP_N}"),
            (0.0 <= self.min_score <= 1.0, "min_score must be in [0, 1]"),
            (self.max_contacts >= 1, "max_contacts must be at least 1"),
            (1 <= self.cap_window_days <= 3660, "cap_window_days must be in 1..3660"),
            (0 <= self.complaint_window_days <= 3660, "complaint_window_days must be in 0..3660"),
            (0 <= self.seed < 2**31, "seed must be in 0..2^31-1 (a GraphQL Int)"),
            (MIN_AS_OF <= self.as_of <= MAX_AS_OF, f"as_of must be in {MIN_AS_OF}..{MAX_AS_OF}"),
            (0.0 <= self.holdout_share <= 0.5, "holdout_share must be in [0, 0.5]"),
            (
                self.holdout_community in HOLDOUT_COMMUNITIES,
                f"holdout_community must be one of {', '.join(HOLDOUT_COMMUNITIES)}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ListRuleError(f"bad list parameter: {message}")

    @property
    def cap_since(self) -> date:
        return self.as_of - timedelta(days=self.cap_window_days)

    @property
    def complaint_since(self) -> date:
        return self.as_of - timedelta(days=self.complaint_window_days)

    def to_json(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "top_n": self.top_n,
            "min_score": self.min_score,
            "max_contacts": self.max_contacts,
            "cap_window_days": self.cap_window_days,
            "complaint_window_days": self.complaint_window_days,
            "as_of": self.as_of.isoformat(),
        }
        if self.holdout_share > 0:  # absent without a hold-out: earlier hashes stay
            described["holdout_share"] = self.holdout_share
            described["holdout_community"] = self.holdout_community
        return described


@dataclass(frozen=True)
class ListPolicy:
    """The deployment's limits on what a drawer may loosen (``CRKG_CAMPAIGN_*``): a draw
    beyond them is refused, and an export screens with the stricter of version and policy."""

    max_contacts_ceiling: int = 5
    min_complaint_window_days: int = 90

    @classmethod
    def from_settings(cls, settings: Any) -> ListPolicy:
        return cls(settings.campaign_max_contacts_ceiling,
                   settings.campaign_min_complaint_window_days)  # fmt: skip

    def check(self, parameters: DrawParameters) -> DrawParameters:
        if parameters.max_contacts > self.max_contacts_ceiling:
            raise ListRuleError(
                f"max_contacts {parameters.max_contacts} is above the policy's ceiling "
                f"{self.max_contacts_ceiling} (CRKG_CAMPAIGN_MAX_CONTACTS_CEILING)"
            )
        if parameters.complaint_window_days < self.min_complaint_window_days:
            raise ListRuleError(
                f"complaint_window_days {parameters.complaint_window_days} is below the "
                f"policy's minimum {self.min_complaint_window_days} "
                "(CRKG_CAMPAIGN_MIN_COMPLAINT_WINDOW_DAYS)"
            )
        return parameters

    def screen(self, stored: dict[str, Any], *, as_of: date) -> DrawParameters:
        """The export's screen: the version's parameters, tightened to the policy."""
        return DrawParameters(
            max_contacts=min(int(stored["max_contacts"]), self.max_contacts_ceiling),
            cap_window_days=int(stored["cap_window_days"]),
            complaint_window_days=max(
                int(stored["complaint_window_days"]), self.min_complaint_window_days
            ),
            as_of=as_of,
        )


@dataclass(frozen=True)
class SuppressionFacts:
    """What the graph answered about one customer (``graph.queries.campaigns``)."""

    risk_flags: tuple[str, ...]
    eligible: bool
    holds: bool
    consent_marketing: bool | None
    consent: str | None  # the latest consent record's status for (purpose, channel), if any
    opted_out: bool
    complained: bool
    recent_contacts: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SuppressionFacts:
        consent = row.get("consent") or []
        return cls(
            risk_flags=tuple(str(r) for r in row.get("risk_flags") or []),
            eligible=bool(row.get("eligible")),
            holds=bool(row.get("holds")),
            consent_marketing=row.get("consent_marketing"),
            consent=str(consent[0]) if consent else None,
            opted_out=bool(row.get("opted_out")),
            complained=bool(row.get("complained")),
            recent_contacts=int(row.get("recent_contacts") or 0),
        )


def suppression_codes(
    facts: SuppressionFacts, *, max_contacts: int, introducer_left: bool
) -> list[str]:
    """Every reason code that keeps this customer off the list (empty: it may be listed).

    Consent: the latest consent record for the campaign's purpose and channel decides; with
    none, the customer's general ``consent_marketing`` does.
    """
    codes = []
    if facts.consent is not None:
        consented = facts.consent == ConsentStatus.GRANTED.value
    else:
        consented = facts.consent_marketing is True
    if not consented:
        codes.append(SuppressionReason.NO_CONSENT)
    if facts.opted_out:
        codes.append(SuppressionReason.OPTED_OUT)
    if facts.risk_flags:
        codes.append(SuppressionReason.RISK_FLAGGED)
    if facts.complained:
        codes.append(SuppressionReason.COMPLAINT)
    if facts.recent_contacts >= max_contacts:
        codes.append(SuppressionReason.CONTACT_CAP)
    if facts.holds:
        codes.append(SuppressionReason.HOLDS_PRODUCT)
    if not facts.eligible:
        codes.append(SuppressionReason.NOT_ELIGIBLE)
    if not introducer_left:
        codes.append(SuppressionReason.NO_INTRODUCER)
    return [str(code) for code in codes]


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 9)


def kept_introducers(
    target: dict[str, Any], allowed: set[str], barred: set[str]
) -> list[dict[str, Any]]:
    """The stored introducers still allowed, on paths whose middle people still are."""
    stored = json.loads(target.get("introducers_json") or "[]")
    stored = stored if isinstance(stored, list) else []
    return [
        i
        for i in stored
        if i.get("customer_id") in allowed and not barred.intersection((i.get("path") or [])[1:-1])
    ]


def row_reasons(
    target: dict[str, Any], community: Any, introducer: dict[str, Any] | None
) -> dict[str, Any]:
    """Why a customer is on the list: the score and its parts, community, introducer, path."""
    return {
        "rank": int(target["rank"]),
        "score": _number(target.get("score")),
        "parts": {
            name: _number(target.get(name))
            for name in (
                "adamic_adar",
                "common_neighbors",
                "resource_allocation",
                "adoption_rate",
                "tie_strength",
                "introducer_influence",
            )
        },
        "community": None if community is None else str(community),
        "introducer_id": None if introducer is None else str(introducer["customer_id"]),
        "path": [] if introducer is None else [str(p) for p in introducer.get("path") or []],
    }


def canonical(content: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(content: Any) -> str:
    """SHA-256 (hex) of :func:`canonical`."""
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DrawnList:
    """What a draw decided, before it is stored."""

    content: dict[str, Any]
    rows: list[dict[str, Any]]
    suppressions: list[dict[str, Any]]
    algorithm_run_ids: list[str]
    load_run_ids: list[str]

    @property
    def content_hash(self) -> str:
        return content_hash(self.content)


def draw(
    campaign: dict[str, Any], parameters: DrawParameters, candidates: list[dict[str, Any]]
) -> DrawnList:
    """The list from the candidates (best first): every suppressed candidate kept with its
    codes, the first ``top_n`` others at or above ``min_score`` listed, treatment ``T``."""
    rows: list[dict[str, Any]] = []
    suppressions: list[dict[str, Any]] = []
    run_ids: set[str] = set()
    load_ids: set[str] = set()
    for position, candidate in enumerate(candidates, start=1):
        target = candidate["target"]
        if (
            float(target.get("score") or 0.0) < parameters.min_score
            or len(rows) >= parameters.top_n
        ):
            continue
        facts = SuppressionFacts.from_row(candidate)
        kept = kept_introducers(
            target, set(candidate["introducers_ok"]), set(candidate["intermediaries_barred"])
        )
        codes = suppression_codes(
            facts, max_contacts=parameters.max_contacts, introducer_left=bool(kept)
        )
        run_ids.update(
            str(r) for r in (target.get("run_id"), candidate.get("community_run_id")) if r
        )
        load_ids.update(str(i) for i in candidate.get("load_ids") or [])
        customer_id = str(candidate["id"])
        if codes:
            suppressions.append(
                {
                    "customer_id": customer_id,
                    "position": position,
                    "codes": codes,
                    "risk_flags": list(facts.risk_flags),
                }
            )
            continue
        reasons = row_reasons(target, candidate.get("community"), kept[0])
        rows.append(
            {
                "customer_id": customer_id,
                "position": len(rows) + 1,
                "treatment": TREATMENT,
                "reasons": reasons,
            }
        )
    content = {
        "campaign": {
            k: campaign.get(k)
            for k in ("campaign_id", "product_id", "scenario_id", "channel", "purpose")
        },
        "rule": RULE_REFERRAL_TARGETS,
        "parameters": parameters.to_json(),
        "seed": parameters.seed,
        "algorithm_run_ids": sorted(run_ids),
        "load_run_ids": sorted(load_ids),
        "rows": rows,
        # the flags behind RISK_FLAGGED are risk's to read: a marketer reads every other
        # hashed part, so hashed raw they would be recovered by trying the few flag subsets
        "suppressions": [
            {k: v for k, v in entry.items() if k != "risk_flags"} for entry in suppressions
        ],
    }
    return DrawnList(content, rows, suppressions, sorted(run_ids), sorted(load_ids))


def with_holdout(
    drawn: DrawnList,
    parameters: DrawParameters,
    *,
    community_edges: dict[str, list[Edge]],
    list_edges: list[tuple[str, str]],
    named: dict[str, str | None] | None = None,
    named_run_ids: tuple[str, ...] = (),
) -> tuple[DrawnList, Assignment]:
    """The drawn list with its rows assigned to treatment / control by community
    (:func:`graph.holdout.assign`, seeded by the list's seed); the content records the plan,
    the arms' sizes and the SRM check, so they are part of the hash."""
    plan = HoldoutPlan(share=parameters.holdout_share)
    done = assign(drawn.rows, plan, seed=parameters.seed, community_edges=community_edges,
                  list_edges=list_edges, named=named)  # fmt: skip
    runs = sorted({*drawn.algorithm_run_ids, *named_run_ids})
    content = {**drawn.content, "rows": done.rows, "holdout": done.summary(plan),
               "algorithm_run_ids": runs}  # fmt: skip
    kept = DrawnList(content, done.rows, drawn.suppressions, runs, drawn.load_run_ids)
    return kept, done


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two subjects name one person for maker-checker (``Alice`` and ``alice `` do)."""
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def count_codes(suppressions: list[dict[str, Any]]) -> dict[str, int]:
    """How many suppressed customers carry each code (a customer counts once per code)."""
    counts = {str(code): 0 for code in SuppressionReason}
    for entry in suppressions:
        for code in entry["codes"]:
            counts[code] += 1
    return counts
