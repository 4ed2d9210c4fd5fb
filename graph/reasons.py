"""Why a customer is a referral target, in one sentence a person can read (Chinese and English).

A pure function of the target's facts (:class:`ReasonFacts`: how many holders of the product
they are tied to, by kind, the strongest tie, two-hop links, a shared scenario) and of the
introducer a read kept. A run stores the facts and both sentences with each target; a read
builds the sentences again from the stored facts and the introducers it kept after screening,
so a sentence never names an introducer who may no longer be contacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["KIND_NAMES", "Explanation", "ReasonFacts", "reason_sentences"]

# tie kind -> (Chinese, English singular)
KIND_NAMES: Final[dict[str, tuple[str, str]]] = {
    "FAMILY": ("家人", "family member"),
    "SPOUSE": ("配偶", "spouse"),
    "FRIEND": ("朋友", "friend"),
    "COLLEAGUE": ("同事", "colleague"),
    "CLASSMATE": ("同学", "classmate"),
    "BUSINESS": ("生意伙伴", "business partner"),
}


@dataclass(frozen=True)
class ReasonFacts:
    """The evidence a sentence reads: ``holder_kinds`` counts the holders the target is tied
    to directly, each once, by the kind of its strongest tie to them."""

    holder_kinds: dict[str, int] = field(default_factory=dict)
    strongest_tie: float = 0.0
    two_hop_holders: int = 0  # holders reached through one person in between
    shares_scenario: bool = False  # in a scenario with a holder

    def to_json(self) -> dict[str, Any]:
        return {
            "holder_kinds": dict(sorted(self.holder_kinds.items())),
            "strongest_tie": self.strongest_tie,
            "two_hop_holders": self.two_hop_holders,
            "shares_scenario": self.shares_scenario,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReasonFacts:
        kinds = data.get("holder_kinds") or {}
        return cls(
            holder_kinds={str(k): int(v) for k, v in kinds.items()},
            strongest_tie=float(data.get("strongest_tie") or 0.0),
            two_hop_holders=int(data.get("two_hop_holders") or 0),
            shares_scenario=bool(data.get("shares_scenario")),
        )


@dataclass(frozen=True)
class Explanation:
    """What a read says about a stored target's score: the model that gave it (e.g.
    ``boosted referral-model/1``, ``fixed-weight``), its parts (``feature``, ``value``,
    ``contribution``; largest contribution first) and the two sentences."""

    model: str
    parts: list[dict[str, Any]]
    reason_zh: str
    reason_en: str


def _number(value: float) -> str:
    return f"{value:.2g}"


def _holders_en(count: int) -> str:
    return f"{count} holder" + ("" if count == 1 else "s")


def reason_sentences(
    facts: ReasonFacts, introducer: str | None = None, through: str | None = None
) -> tuple[str, str]:
    """One sentence in Chinese and one in English saying why the customer is a target.

    Parameters
    ----------
    facts : ReasonFacts
        The target's ties to the product's holders.
    introducer : str, optional
        The best introducer kept (a holder who may be contacted); None: nobody can introduce.
    through : str, optional
        The person in the middle of the introducer's path (None: a direct tie).

    Returns
    -------
    (str, str)
        The Chinese sentence, then the English one.

    Examples
    --------
    >>> zh, en = reason_sentences(ReasonFacts({"COLLEAGUE": 3}, 0.9), "H1")
    >>> print(zh)
    与 3 位已持有该产品的客户是同事，最强关系 0.9，其中 H1 可作为引荐人
    >>> print(en)
    colleague of 3 holders, strongest tie 0.9; H1 can introduce

    Ties of several kinds and an introducer through a middle person:

    >>> for s in reason_sentences(ReasonFacts({"FRIEND": 1, "FAMILY": 2}, 0.75), "H2", "M1"):
    ...     print(s)
    与 3 位已持有该产品的客户有关系（家人 2 位、朋友 1 位），最强关系 0.75，H2 可经 M1 引荐
    tied to 3 holders (family member ×2, friend ×1), strongest tie 0.75; H2 can introduce through M1

    A spouse who holds it, and a scenario shared with holders:

    >>> for s in reason_sentences(ReasonFacts({"SPOUSE": 1}, 1.0, 0, True), "H3"):
    ...     print(s)
    与 1 位已持有该产品的客户是配偶，最强关系 1，与持有人同在一个场景，其中 H3 可作为引荐人
    spouse of 1 holder, strongest tie 1; shares a scenario with holders; H3 can introduce

    No direct tie, and nobody left to introduce:

    >>> for s in reason_sentences(ReasonFacts({}, 0.0, 4)):
    ...     print(s)
    与已持有该产品的客户无直接关系，经共同联系人可达 4 位持有人，暂无可联系的引荐人
    no direct tie to a holder; 4 holders two ties away; no introducer can be contacted now
    """
    kinds = sorted(
        ((k, n) for k, n in facts.holder_kinds.items() if n > 0), key=lambda kn: (-kn[1], kn[0])
    )
    direct = sum(n for _, n in kinds)
    names = [(KIND_NAMES.get(k, (k.lower(), k.lower())), n) for k, n in kinds]
    zh: list[str] = []
    en: list[str] = []
    if len(names) == 1:
        (kind_zh, kind_en), _ = names[0]
        zh.append(f"与 {direct} 位已持有该产品的客户是{kind_zh}")
        en.append(f"{kind_en} of {_holders_en(direct)}")
    elif names:
        zh.append(
            f"与 {direct} 位已持有该产品的客户有关系（"
            + "、".join(f"{kz} {n} 位" for (kz, _), n in names)
            + "）"
        )
        en.append(
            f"tied to {_holders_en(direct)} ("
            + ", ".join(f"{ke} ×{n}" for (_, ke), n in names)
            + ")"
        )
    else:
        zh.append("与已持有该产品的客户无直接关系")
        en.append("no direct tie to a holder")
    if direct:
        zh.append(f"最强关系 {_number(facts.strongest_tie)}")
        en[-1] += f", strongest tie {_number(facts.strongest_tie)}"
    elif facts.two_hop_holders:
        zh.append(f"经共同联系人可达 {facts.two_hop_holders} 位持有人")
        en.append(f"{_holders_en(facts.two_hop_holders)} two ties away")
    if facts.shares_scenario:
        zh.append("与持有人同在一个场景")
        en.append("shares a scenario with holders")
    if introducer is None:
        zh.append("暂无可联系的引荐人")
        en.append("no introducer can be contacted now")
    elif through is None:
        zh.append(f"其中 {introducer} 可作为引荐人")
        en.append(f"{introducer} can introduce")
    else:
        zh.append(f"{introducer} 可经 {through} 引荐")
        en.append(f"{introducer} can introduce through {through}")
    return "，".join(zh), "; ".join(en)
