"""graph.attribution: one credited introducer per conversion by the named rule (earliest
in-window referral from an introducer on the list), self-referrals and cycles rejected with
their reason, the credited introducer's upstream chain kept (and not rewarded)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from graph.attribution import (
    CYCLE,
    MAX_CHAIN,
    NO_REFERRAL,
    RULE,
    SELF_REFERRAL,
    Conversion,
    Referral,
    attribute,
)

START = date(2026, 6, 30)


def d(days: int) -> date:
    return START + timedelta(days=days)


def test_the_earliest_in_window_referral_from_a_listed_introducer_is_credited() -> None:
    referrals = [
        Referral("H1", "T1", d(5)),
        Referral("H2", "T1", d(3)),
        Referral("X9", "T1", d(1)),  # not an introducer on the list
        Referral("H3", "T1", d(-1)),  # before the window
        Referral("H4", "T1", d(12)),  # after the conversion
    ]
    (done,) = attribute([Conversion("T1", d(10))], referrals, {"H1", "H2", "H3", "H4"},
                        start=START)  # fmt: skip
    assert (done.credited, done.credited_at, done.reason) == ("H2", d(3), None)
    assert done.to_json()["rule"] == RULE


def test_a_referral_on_the_window_edges_counts_and_ties_go_to_the_smaller_id() -> None:
    referrals = [Referral("H2", "T1", START), Referral("H1", "T1", START)]
    (done,) = attribute([Conversion("T1", START)], referrals, {"H1", "H2"}, start=START)
    assert done.credited == "H1"


def test_self_referrals_are_rejected_and_the_next_candidate_credited() -> None:
    referrals = [Referral("T1", "T1", d(1)), Referral("H1", "T1", d(2))]
    (done,) = attribute([Conversion("T1", d(5))], referrals, {"T1", "H1"}, start=START)
    assert done.credited == "H1"
    assert [(r.referrer_id, r.reason) for r in done.rejected] == [("T1", SELF_REFERRAL)]
    (alone,) = attribute([Conversion("T1", d(5))], referrals[:1], {"T1"}, start=START)
    assert (alone.credited, alone.reason) == (None, SELF_REFERRAL)


def test_a_referral_closing_a_cycle_is_rejected() -> None:
    # B referred C, C referred A, then A "refers" B: B is upstream of A
    referrals = [
        Referral("B", "C", d(1)),
        Referral("C", "A", d(2)),
        Referral("A", "B", d(3)),
    ]
    (done,) = attribute([Conversion("B", d(5))], referrals, {"A"}, start=START)
    assert (done.credited, done.reason) == (None, CYCLE)
    # the loop closes only after the conversion: not a cycle on the conversion day
    later = [Referral("B", "C", d(1)), Referral("C", "A", d(9)), Referral("A", "B", d(3))]
    (ok,) = attribute([Conversion("B", d(5))], later, {"A"}, start=START)
    assert ok.credited == "A"


def test_the_chain_upstream_is_kept_but_only_one_hop_is_credited() -> None:
    referrals = [
        Referral("R2", "R1", d(-30)),
        Referral("R1", "H1", d(-10)),
        Referral("H1", "T1", d(2)),
    ]
    (done,) = attribute([Conversion("T1", d(5))], referrals, {"H1"}, start=START)
    assert done.credited == "H1"
    assert done.chain == ("R1", "R2")


def test_nobody_is_credited_without_a_candidate() -> None:
    (done,) = attribute([Conversion("T1", d(5))], [], {"H1"}, start=START)
    assert (done.credited, done.reason, done.rejected) == (None, NO_REFERRAL, ())


def test_on_random_referral_graphs_every_conversion_has_at_most_one_valid_credit() -> None:
    rng = np.random.default_rng(12)
    people = [f"P{i}" for i in range(30)]
    introducers = set(people[:15])
    for _ in range(50):
        referrals = [
            Referral(str(rng.choice(people)), str(rng.choice(people)), d(int(rng.integers(-5, 20))))
            for _ in range(60)
        ]
        conversions = [Conversion(p, d(int(rng.integers(0, 20)))) for p in people[10:]]
        for done in attribute(conversions, referrals, introducers, start=START):
            if done.credited is None:
                assert done.reason is not None
                continue
            assert done.credited != done.customer_id
            assert done.credited in introducers
            assert done.credited_at is not None
            assert START <= done.credited_at <= done.day
            assert Referral(done.credited, done.customer_id, done.credited_at) in referrals
            rejected = {(r.referrer_id, r.referred_at) for r in done.rejected}
            for r in done.rejected:
                assert r.reason in (SELF_REFERRAL, CYCLE)
                assert (r.reason == SELF_REFERRAL) == (r.referrer_id == done.customer_id)
            earlier = [
                r
                for r in referrals
                if r.referee_id == done.customer_id
                and r.referrer_id in introducers
                and START <= r.referred_at <= done.day
                and (r.referred_at, r.referrer_id) < (done.credited_at, done.credited)
                and (r.referrer_id, r.referred_at) not in rejected
            ]
            assert earlier == [], "an earlier valid candidate was passed over"


def test_the_chain_kept_stops_after_max_chain_hops() -> None:
    referrals = [Referral(f"U{i + 1}", f"U{i}", d(-i - 1)) for i in range(12)]
    referrals.append(Referral("U0", "T1", d(1)))
    (done,) = attribute([Conversion("T1", d(5))], referrals, {"U0"}, start=START)
    assert done.chain == tuple(f"U{i}" for i in range(1, MAX_CHAIN + 1))
