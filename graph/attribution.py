"""Referral attribution for a list version (issue 12, item 7): which introducer is credited
with a conversion, by one named rule. Pure functions, no database.

The rule, :data:`RULE` (``earliest-in-window-listed-introducer``):

1. **Candidates.** The referrals *to* the converted customer (``REFERRED`` from referrer to
   referee) made inside the window ``[start, conversion day]``, from a referrer who is an
   introducer on the list version (a row's ``introducer_id``).
2. **Rejected.** A self-referral (referrer = referee) and a referral that closes a cycle (the
   referee is, through referrals made up to the conversion day, upstream of the referrer:
   the referrer was itself referred by the referee, directly or along a chain) are never
   credited; each keeps its reason.
3. **Credit.** The earliest remaining candidate (ties: the smaller referrer id) is credited —
   one introducer per conversion, and the reward is for that one hop only.
4. **Chain.** The credited introducer's own upstream chain (who referred them, and so on,
   the earliest referral at each step, stopping at a repeat or after :data:`MAX_CHAIN` hops)
   is kept for analytics; nobody
   on it is rewarded (no pyramid).

Examples
--------
>>> from datetime import date
>>> refs = [Referral("H1", "T1", date(2026, 7, 3)), Referral("H2", "T1", date(2026, 7, 1)),
...         Referral("T1", "T1", date(2026, 7, 1)), Referral("R0", "H2", date(2026, 6, 1))]
>>> done = attribute([Conversion("T1", date(2026, 7, 10))], refs, {"H1", "H2", "T1"},
...                  start=date(2026, 6, 30))
>>> done[0].credited, done[0].chain, [r.reason for r in done[0].rejected]
('H2', ('R0',), ['SELF_REFERRAL'])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

RULE: Final = "earliest-in-window-listed-introducer"
SELF_REFERRAL: Final = "SELF_REFERRAL"
CYCLE: Final = "CYCLE"
NO_REFERRAL: Final = "NO_IN_WINDOW_REFERRAL_FROM_A_LISTED_INTRODUCER"
MAX_CHAIN: Final = 8  # the upstream chain kept, in hops (the effect read fetches 8)


@dataclass(frozen=True)
class Referral:
    referrer_id: str
    referee_id: str
    referred_at: date


@dataclass(frozen=True)
class Conversion:
    customer_id: str
    day: date


@dataclass(frozen=True)
class Rejected:
    referrer_id: str
    referred_at: date
    reason: str


@dataclass(frozen=True)
class Attribution:
    """Who is credited with one conversion (``None``: nobody, ``reason`` says why)."""

    customer_id: str
    day: date
    credited: str | None
    credited_at: date | None
    reason: str | None
    rejected: tuple[Rejected, ...] = field(default=())
    chain: tuple[str, ...] = field(default=())  # upstream of the credited introducer

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "day": self.day.isoformat(),
            "rule": RULE,
            "credited": self.credited,
            "credited_at": None if self.credited_at is None else self.credited_at.isoformat(),
            "reason": self.reason,
            "rejected": [
                {
                    "referrer_id": r.referrer_id,
                    "referred_at": r.referred_at.isoformat(),
                    "reason": r.reason,
                }
                for r in self.rejected
            ],
            "chain": list(self.chain),
        }


def _upstream(
    who: str, by_referee: Mapping[str, Sequence[Referral]], until: date
) -> tuple[str, ...]:
    """Who referred ``who``, who referred them, …: the earliest referral up to ``until`` at
    each step, stopping before a repeat (a cycle) or where nobody referred."""
    chain: list[str] = []
    seen = {who}
    current = who
    while len(chain) < MAX_CHAIN:
        earlier = [r for r in by_referee.get(current, ()) if r.referred_at <= until]
        if not earlier:
            return tuple(chain)
        first = min(earlier, key=lambda r: (r.referred_at, r.referrer_id))
        if first.referrer_id in seen:
            return tuple(chain)
        chain.append(first.referrer_id)
        seen.add(first.referrer_id)
        current = first.referrer_id
    return tuple(chain)


def _closes_cycle(
    referral: Referral, by_referee: Mapping[str, Sequence[Referral]], until: date
) -> bool:
    """Whether the referee is upstream of the referrer through referrals up to ``until``."""
    pending, seen = [referral.referrer_id], {referral.referrer_id}
    while pending:
        current = pending.pop()
        for r in by_referee.get(current, ()):
            if r.referred_at > until or r.referrer_id in seen:
                continue
            if r.referrer_id == referral.referee_id:
                return True
            seen.add(r.referrer_id)
            pending.append(r.referrer_id)
    return False


def attribute(
    conversions: Iterable[Conversion],
    referrals: Iterable[Referral],
    introducers: Collection[str],
    *,
    start: date,
) -> list[Attribution]:
    """Credit each conversion to one introducer by :data:`RULE`.

    Parameters
    ----------
    conversions : iterable of Conversion
        The converted list rows (customer, conversion day).
    referrals : iterable of Referral
        Every referral of the bank (``REFERRED``), in any order.
    introducers : collection of str
        The introducers on the list version (its rows' ``introducer_id``).
    start : date
        The window's first day (the list version's ``as_of``); it ends on each
        conversion's day.

    Returns
    -------
    list of Attribution
        One per conversion, in the order given.

    Examples
    --------
    >>> from datetime import date
    >>> cycle = [Referral("A", "B", date(2026, 7, 2)), Referral("B", "A", date(2026, 7, 1))]
    >>> [a.reason for a in attribute([Conversion("B", date(2026, 7, 5))], cycle, {"A"},
    ...                               start=date(2026, 7, 1))]
    ['CYCLE']
    """
    by_referee: dict[str, list[Referral]] = defaultdict(list)
    for r in referrals:
        by_referee[r.referee_id].append(r)
    listed = set(introducers)
    done: list[Attribution] = []
    for conversion in conversions:
        window = [
            r
            for r in by_referee.get(conversion.customer_id, ())
            if start <= r.referred_at <= conversion.day and r.referrer_id in listed
        ]
        rejected: list[Rejected] = []
        kept: list[Referral] = []
        for r in sorted(window, key=lambda r: (r.referred_at, r.referrer_id)):
            if r.referrer_id == r.referee_id:
                rejected.append(Rejected(r.referrer_id, r.referred_at, SELF_REFERRAL))
            elif _closes_cycle(r, by_referee, conversion.day):
                rejected.append(Rejected(r.referrer_id, r.referred_at, CYCLE))
            else:
                kept.append(r)
        if not kept:
            reason = rejected[0].reason if rejected else NO_REFERRAL
            done.append(
                Attribution(
                    conversion.customer_id, conversion.day, None, None, reason, tuple(rejected)
                )
            )
            continue
        credited = kept[0]
        done.append(
            Attribution(
                conversion.customer_id,
                conversion.day,
                credited.referrer_id,
                credited.referred_at,
                None,
                tuple(rejected),
                _upstream(credited.referrer_id, by_referee, conversion.day),
            )
        )
    return done
