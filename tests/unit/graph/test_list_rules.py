"""The pure rules of a list draw (graph.lists): what the content hash covers and the bounds
of the draw parameters."""

from __future__ import annotations

from datetime import date
from itertools import chain, combinations
from typing import Any

import pytest

from graph.errors import CrkgError
from graph.holdout import HoldoutPlan, assign
from graph.lists import (
    DrawParameters,
    ListPolicy,
    ListRuleError,
    canonical,
    content_hash,
    draw,
    same_person,
)
from graph.settings import CrkgSettings

CAMPAIGN = {"campaign_id": "K", "product_id": "P1", "channel": "SMS", "purpose": "MARKETING"}
FLAGS = ("RISK_RATING", "GUARANTEE_CIRCLE", "RISK_RING")


def candidate(customer_id: str, risk_flags: list[str]) -> dict[str, Any]:
    return {
        "id": customer_id,
        "target": {"rank": 1, "score": 0.5, "run_id": "run-1", "introducers_json": "[]"},
        "introducers_ok": [],
        "intermediaries_barred": [],
        "risk_flags": risk_flags,
        "eligible": True,
        "holds": False,
        "consent_marketing": True,
        "opted_out": False,
        "complained": False,
        "recent_contacts": 0,
    }


def test_the_content_hash_reveals_no_risk_flag_of_a_suppressed_customer() -> None:
    """A marketer reads every hashed part but the flags: were they hashed raw, trying the
    few flag subsets against contentHash would recover them."""
    parameters = DrawParameters(as_of=date(2026, 6, 30))
    drawn = {
        flags: draw(CAMPAIGN, parameters, [candidate("T1", list(flags))])
        for flags in chain.from_iterable(combinations(FLAGS, n) for n in (1, 2, 3))
    }
    assert len({d.content_hash for d in drawn.values()}) == 1, "flags move the hash"
    for flags, done in drawn.items():
        assert done.suppressions[0]["risk_flags"] == list(flags), "stored for risk readers"
        assert not any(f in canonical(done.content) for f in FLAGS)
    # the code stays in the hash: a newly flagged customer still gives another version
    clean = draw(CAMPAIGN, parameters, [candidate("T1", [])])
    assert clean.content_hash != next(iter(drawn.values())).content_hash
    assert content_hash(clean.content) == clean.content_hash


def test_the_drawer_cannot_switch_a_screen_off() -> None:
    """maxContacts 2^31 turned CONTACT_CAP off and complaintWindowDays 0 COMPLAINT; the
    policy's limits refuse such a draw, and an export screens with the stricter of both."""
    policy = ListPolicy(max_contacts_ceiling=5, min_complaint_window_days=90)
    for loose in (
        DrawParameters(max_contacts=2**31),
        DrawParameters(max_contacts=6),
        DrawParameters(complaint_window_days=0),
        DrawParameters(complaint_window_days=89),
    ):
        with pytest.raises(ListRuleError, match="policy"):
            policy.check(loose)
    policy.check(DrawParameters(max_contacts=5, complaint_window_days=90))
    stored = {"max_contacts": 50, "cap_window_days": 30, "complaint_window_days": 0}
    screen = policy.screen(stored, as_of=date(2026, 6, 30))
    assert (screen.max_contacts, screen.complaint_window_days) == (5, 90)
    strict = {"max_contacts": 1, "cap_window_days": 30, "complaint_window_days": 365}
    screen = policy.screen(strict, as_of=date(2026, 6, 30))
    assert (screen.max_contacts, screen.complaint_window_days) == (1, 365)


def test_the_policy_limits_come_from_the_settings() -> None:
    settings = CrkgSettings(campaign_max_contacts_ceiling=3, campaign_min_complaint_window_days=30)
    assert ListPolicy.from_settings(settings) == ListPolicy(3, 30)
    assert ListPolicy.from_settings(CrkgSettings()) == ListPolicy()


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"as_of": date(1, 1, 1)}, "as_of"),
        ({"as_of": date(9999, 12, 31)}, "as_of"),
        ({"seed": 2**31}, "seed"),
        ({"seed": 2**63 - 1}, "seed"),
        ({"seed": -1}, "seed"),
    ],
)
def test_a_parameter_the_draw_or_the_api_cannot_carry_is_refused(
    bad: dict[str, Any], named: str
) -> None:
    """asOf 0001-01-01 overflowed into an internal error; a seed above 2^31 - 1 was stored
    but ListVersion.seed (a GraphQL Int) could not answer it."""
    with pytest.raises(ListRuleError, match=named):
        DrawParameters(**bad)
    assert DrawParameters(seed=2**31 - 1).seed == 2**31 - 1


@pytest.mark.parametrize(("share", "clusters"), [(1e-9, 5), (0.25, 2), (0.1, 4)])
def test_a_hold_out_that_puts_no_cluster_in_control_is_refused(share: float, clusters: int) -> None:
    rows = [{"customer_id": f"C{i}", "position": i, "treatment": "T",
             "reasons": {"community": str(i)}} for i in range(clusters)]  # fmt: skip
    with pytest.raises(CrkgError, match=f"over {clusters} clusters puts no cluster in control"):
        assign(rows, HoldoutPlan(share=share), seed=1, community_edges={}, list_edges=[])


@pytest.mark.parametrize(("drawer", "approver"), [("Alice", "alice "), (" ALICE", "alice"),
                                                  ("Straße", "STRASSE")])  # fmt: skip
def test_maker_checker_sees_one_person_through_case_and_spaces(drawer: str, approver: str) -> None:
    assert same_person(drawer, approver)
    assert not same_person(drawer, "bob")
