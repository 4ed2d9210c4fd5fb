"""Community-randomised hold-outs (graph.holdout), database-free: whole clusters in one arm,
oversized communities split along their sub-communities, deterministic under the seed, the
cross-arm flag and the sample-ratio mismatch check."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import combinations

import pytest

from graph.errors import CrkgError
from graph.holdout import CONTROL, TREATED, Edge, HoldoutPlan, assign, oversized, srm_check
from graph.lists import DrawParameters, ListRuleError


def rows_of(communities: dict[str, list[str]]) -> list[dict[str, object]]:
    return [
        {"customer_id": c, "position": i, "treatment": "T", "reasons": {"community": k}}
        for i, (k, c) in enumerate(
            ((k, c) for k, members in sorted(communities.items()) for c in members), start=1
        )
    ]


def small_communities(n: int, size: int) -> dict[str, list[str]]:
    return {f"k{j:03d}": [f"k{j:03d}-{i}" for i in range(size)] for j in range(n)}


def clique(members: list[str]) -> list[Edge]:
    return [(a, b, 1.0) for a, b in combinations(members, 2)]


def arms_by(rows: list[dict[str, object]], key: str) -> dict[object, set[object]]:
    found: dict[object, set[object]] = defaultdict(set)
    for row in rows:
        group = row[key] if key == "cluster" else row["reasons"]["community"]  # type: ignore[index]
        found[group].add(row["treatment"])
    return found


def test_a_whole_community_lands_in_one_arm() -> None:
    communities = small_communities(200, 5)  # 1,000 rows, each community 0.5% of them
    edges = {k: clique(m) for k, m in communities.items()}
    done = assign(rows_of(communities), HoldoutPlan(share=0.5), seed=11,
                  community_edges=edges, list_edges=[])  # fmt: skip
    by_community = arms_by(done.rows, "community")
    assert all(len(arms) == 1 for arms in by_community.values())
    assert {a for arms in by_community.values() for a in arms} == {TREATED, CONTROL}
    assert done.clusters == 200, "no community above 1% of the list: none split"
    assert done.arms == {TREATED: 500, CONTROL: 500}
    assert not done.srm_warning


def test_a_community_above_one_percent_of_the_list_is_split_along_its_sub_communities() -> None:
    communities = small_communities(192, 5)  # 960 rows
    cliques = [[f"big-{q}-{i}" for i in range(10)] for q in range(4)]
    communities["big"] = [c for members in cliques for c in members]  # 40 of 1,000 rows: 4%
    bridges = [(cliques[q][0], cliques[q + 1][0], 0.1) for q in range(3)]
    edges = {"big": [e for members in cliques for e in clique(members)] + bridges}
    rows = rows_of(communities)
    assert oversized(rows, HoldoutPlan(share=0.3)) == ["big"]
    done = assign(rows, HoldoutPlan(share=0.3), seed=5, community_edges=edges, list_edges=[])
    cluster = {r["customer_id"]: r["cluster"] for r in done.rows}
    for members in cliques:  # each sub-community is one cluster, its own
        assert len({cluster[c] for c in members}) == 1
    assert len({cluster[c] for c in communities["big"]}) == 4
    assert all(cluster[c].startswith("big/") for c in communities["big"])
    assert all(len(arms) == 1 for arms in arms_by(done.rows, "cluster").values())
    assert done.clusters == 192 + 4


def test_the_assignment_is_deterministic_under_the_seed() -> None:
    communities = small_communities(100, 3)
    rows = rows_of(communities)
    plan = HoldoutPlan(share=0.2)

    def arms(seed: int) -> list[object]:
        done = assign(rows, plan, seed=seed, community_edges={}, list_edges=[])
        return [r["treatment"] for r in done.rows]

    assert arms(42) == arms(42)
    assert len({tuple(arms(s)) for s in range(5)}) > 1, "another seed, other arms"
    assert arms(42).count(CONTROL) == 3 * round(0.2 * 100), "20 of 100 clusters are control"


def test_a_customer_tied_mostly_into_the_other_arm_is_flagged() -> None:
    communities = {"A": ["a1", "a2"], "B": ["b1", "b2", "b3"]}
    ties = [("a1", "b1"), ("a1", "b2"), ("a1", "b3"), ("a1", "a2"), ("b1", "b2")]
    rows = rows_of(communities)
    for seed in range(50):
        done = assign(rows, HoldoutPlan(share=0.5), seed=seed, community_edges={},
                      list_edges=ties)  # fmt: skip
        row = {r["customer_id"]: r for r in done.rows}
        if row["a1"]["treatment"] != row["b1"]["treatment"]:
            break
    else:
        pytest.fail("no seed put A and B in different arms")
    assert row["a1"]["cross_arm_share"] == 0.75
    assert row["a1"]["cross_arm"]
    assert row["b3"]["cross_arm_share"] == 1.0
    assert row["b3"]["cross_arm"]
    assert row["b1"]["cross_arm_share"] == 0.5
    assert not row["b1"]["cross_arm"], "0.5 is not > 0.5"
    assert row["a2"]["cross_arm_share"] == 0.0
    assert not row["a2"]["cross_arm"]


def test_the_srm_check_flags_a_planted_imbalance_and_not_a_balanced_split() -> None:
    p_bad, warned = srm_check(control=300, total=1000, share=0.5)
    assert warned
    assert p_bad < 1e-20
    p_ok, warned = srm_check(control=500, total=1000, share=0.5)
    assert not warned
    assert p_ok == pytest.approx(1.0)
    assert not srm_check(control=295, total=1000, share=0.3)[1]
    assert srm_check(control=0, total=0, share=0.5) == (1.0, False)


def test_an_assignment_whose_clusters_stray_from_the_plan_is_warned() -> None:
    # one cluster of 700 and 300 singletons: whatever the permutation, the arms cannot be 50/50
    communities = {"huge": [f"h{i}" for i in range(700)]}
    communities |= {f"s{i:03d}": [f"s{i}"] for i in range(300)}
    done = assign(rows_of(communities), HoldoutPlan(share=0.5), seed=3,
                  community_edges={}, list_edges=[])  # fmt: skip
    assert done.srm_warning
    assert done.srm_p_value < 0.001
    assert done.summary(HoldoutPlan(share=0.5))["srm_warning"] is True


@pytest.mark.parametrize("share", [0.0, -0.1, 0.51])
def test_a_share_outside_the_plan_range_is_refused(share: float) -> None:
    with pytest.raises(CrkgError, match="share"):
        HoldoutPlan(share=share)


def test_without_a_hold_out_the_parameters_and_so_the_hashes_are_stage_ones() -> None:
    plain = DrawParameters(as_of=date(2026, 6, 30), seed=3)
    assert "holdout_share" not in plain.to_json()
    assert DrawParameters(as_of=date(2026, 6, 30), seed=3, holdout_share=0.2).to_json()[
        "holdout_share"
    ] == pytest.approx(0.2)
    with pytest.raises(ListRuleError, match="holdout_share"):
        DrawParameters(holdout_share=0.6)


def test_a_named_community_run_replaces_the_rows_own_communities() -> None:
    rows = rows_of(small_communities(50, 2))  # pairs by the rows' own (Louvain) community
    named = {str(r["customer_id"]): f"L{i // 4}" for i, r in enumerate(rows)}  # fours
    done = assign(rows, HoldoutPlan(share=0.5), seed=1, community_edges={}, list_edges=[],
                  named=named)  # fmt: skip
    assert {r["cluster"] for r in done.rows} == set(named.values())
    by_named: dict[str, set[object]] = defaultdict(set)
    for row in done.rows:
        by_named[named[str(row["customer_id"])]].add(row["treatment"])
    assert all(len(a) == 1 for a in by_named.values())
    assert oversized(rows, HoldoutPlan(share=0.5), named) == sorted(set(named.values()))
    with pytest.raises(ListRuleError, match="holdout_community"):
        DrawParameters(holdout_share=0.2, holdout_community="pagerank")
