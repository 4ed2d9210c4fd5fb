"""Issue 13, stage 2 without Neo4j: the learned model fitted on a stored history (rows as the
graph returns them), its parts, the fallback, and the reasons told in words."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from algorithms.inproc.referral import ScoredTarget
from algorithms.referral_model.features import EVIDENCE
from algorithms.referral_model.served import ServedModel, StoredHistory, fit_on_history
from algorithms.referral_serve import fixed_parts, learned_ranking, reason_facts
from graph.model import Tier
from graph.reasons import ReasonFacts, reason_sentences
from graph.repositories.referral_targets import ReferralHistoryRows
from synthbank.study import build_study_bank

HORIZON = 90


@functools.cache
def _bank_rows() -> tuple[ReferralHistoryRows, int]:
    """A 3,000-customer study bank as the rows the graph read returns, and its last day."""
    bank = build_study_bank(3_000, seed=5)
    tiers = [t.value for t in Tier]
    ids = [f"C{i:05d}" for i in range(bank.n)]
    rows = ReferralHistoryRows(
        customers=[
            (ids[i], int(bank.onboarded[i]), tiers[int(bank.tier[i])]) for i in range(bank.n)
        ],
        ties=[
            (ids[a], ids[b], "FRIEND", float(s), int(d))
            for a, b, s, d in zip(
                bank.tie_src, bank.tie_dst, bank.tie_strength, bank.tie_since, strict=True
            )
        ],
        participation=[
            (ids[c], f"S{s}", int(d))
            for c, s, d in zip(bank.part_customer, bank.part_scenario, bank.part_since, strict=True)
        ],
        holdings=[(ids[i], int(bank.adopted[i])) for i in range(bank.n) if bank.adopted[i] >= 0],
        eligible=[ids[i] for i in range(bank.n) if bank.eligible[i]],
    )
    return rows, int(bank.window.end) - 1


@functools.cache
def _served() -> ServedModel:
    rows, today = _bank_rows()
    served = fit_on_history(
        StoredHistory.from_rows(rows), today=today, horizon_days=HORIZON, min_adopters=30, seed=3
    )
    assert isinstance(served, ServedModel), served
    return served


def test_the_model_is_fitted_on_the_last_horizon_and_names_its_window() -> None:
    served = _served()
    record = served.fitted.record
    _, today = _bank_rows()
    rows, _ = _bank_rows()
    newest = max(d for _, d in rows.holdings if d is not None)
    day = np.datetime64("1970-01-01") + np.timedelta64(min(newest, today) + 1, "D")
    assert record.label_until == str(day)
    assert record.train_cutoff == str(day - np.timedelta64(HORIZON, "D"))
    assert record.monotone
    assert record.seed == 3
    assert record.positives >= 30
    assert record.metrics["validation_auc"] > 0.6  # the planted contagion is learnable
    assert served.label == f"{record.name} {record.version}"


def test_adoptions_after_today_change_nothing_the_model_reads() -> None:
    rows, today = _bank_rows()
    served = _served()
    customers = sorted(served.row_of)[:300]
    later = [(c, today + 5) for c in customers[:150]]  # they take it after today
    future_tie = [(customers[0], customers[1], "FRIEND", 1.0, today + 3)]
    moved = dataclasses.replace(rows, holdings=rows.holdings + later, ties=rows.ties + future_tie)
    again = fit_on_history(
        StoredHistory.from_rows(moved), today=today, horizon_days=HORIZON, min_adopters=30, seed=3
    )
    assert isinstance(again, ServedModel)
    assert again.scores(customers) == served.scores(customers)


def test_too_little_history_is_said_not_fitted() -> None:
    rows, today = _bank_rows()
    why = fit_on_history(
        StoredHistory.from_rows(rows), today=today, horizon_days=HORIZON, min_adopters=100_000
    )
    assert isinstance(why, str)
    assert "100000 of each needed to fit" in why
    nobody = fit_on_history(
        StoredHistory.from_rows(dataclasses.replace(rows, holdings=[])),
        today=today,
        horizon_days=HORIZON,
    )
    assert nobody == "no holdings of the product: nothing to learn from"


def test_more_evidence_never_lowers_the_served_score() -> None:
    served = _served()
    customers = sorted(served.row_of)[:200]
    values = served.rows(customers)
    base = served.fitted.score(values)
    for name in sorted(EVIDENCE):
        j = served.matrix.names.index(name)
        raised = values.copy()
        raised[:, j] = raised[:, j] * 1.5 + 1.0
        assert np.all(served.fitted.score(raised) >= base - 1e-12), name


def test_parts_say_what_moved_the_score() -> None:
    served = _served()
    customer = max(served.row_of, key=lambda c: served.scores([c])[c])
    parts = served.parts([customer])[customer]
    assert sorted(p["feature"] for p in parts) == sorted(served.matrix.names)
    sizes = [abs(float(p["contribution"])) for p in parts]
    assert sizes == sorted(sizes, reverse=True)
    # the best-scored candidate is above the median candidate because of its evidence
    assert float(parts[0]["contribution"]) > 0
    assert parts[0]["feature"] in EVIDENCE


def test_learned_ranking_reorders_by_the_model_and_cuts_at_top_n() -> None:
    served = _served()
    customers = sorted(served.row_of)[:50]
    targets = [
        ScoredTarget(c, i + 1, 1.0 - i / 100, 0, 0, 0, 0, 0, 0, ()) for i, c in enumerate(customers)
    ]
    ranked = learned_ranking(targets, served, 10)
    scores = served.scores(customers)
    assert [t.rank for t in ranked] == list(range(1, 11))
    assert [t.candidate for t in ranked] == sorted(customers, key=lambda c: (-scores[c], c))[:10]
    assert [t.score for t in ranked] == [scores[t.candidate] for t in ranked]


def test_fixed_parts_add_up_to_the_fixed_score() -> None:
    target = ScoredTarget("c", 1, 0.61, 2.5, 3.0, 0.4, 0.5, 0.8, 0.2, ())
    assert sum(float(p["contribution"]) for p in fixed_parts(target)) == pytest.approx(0.61)
    link = {p["feature"]: p["value"] for p in fixed_parts(target, "common_neighbors")}["link"]
    assert link == 3.0  # the raw index the run ranked by


def test_the_issue_example_reads_as_written() -> None:
    zh, en = reason_sentences(ReasonFacts({"COLLEAGUE": 3}, 0.9), "H1")
    assert zh == "与 3 位已持有该产品的客户是同事，最强关系 0.9，其中 H1 可作为引荐人"
    assert en == "colleague of 3 holders, strongest tie 0.9; H1 can introduce"


def test_a_sentence_names_only_the_introducer_given() -> None:
    facts = ReasonFacts({"FRIEND": 1}, 0.5, 2, True)
    zh, en = reason_sentences(facts)
    assert zh.endswith("暂无可联系的引荐人")
    assert en.endswith("no introducer can be contacted now")
    zh, en = reason_sentences(facts, "H9", "M2")
    assert zh.endswith("H9 可经 M2 引荐")
    assert en.endswith("H9 can introduce through M2")
    assert en.startswith("friend of 1 holder, strongest tie 0.5; shares a scenario")
    assert ReasonFacts.from_json(facts.to_json()) == facts


def test_facts_count_each_holder_once_by_its_strongest_tie() -> None:
    rows = ReferralHistoryRows(
        customers=[],
        ties=[
            ("T", "H1", "FRIEND", 0.3, None),
            ("H1", "T", "FAMILY", 0.8, None),  # the same holder, more strongly
            ("T", "M", "COLLEAGUE", 0.6, None),
            ("M", "H1", "COLLEAGUE", 0.6, None),  # H1 is direct: not two ties away
            ("M", "H2", "COLLEAGUE", 0.6, None),
        ],
        participation=[("T", "S1", None), ("X", "S1", None)],
        holdings=[],
        eligible=[],
    )
    facts = reason_facts(rows, ["H1", "H2"], ["T", "M"])
    assert facts["T"] == ReasonFacts({"FAMILY": 1}, 0.8, 1, False)
    assert facts["M"] == ReasonFacts({"COLLEAGUE": 2}, 0.6, 0, False)


def test_a_model_no_better_than_the_fixed_weights_is_not_served() -> None:
    """Adopters drawn at random (the same days, other people): the graph says nothing, and a
    model is served only if it still beat the fixed weights on its validation rows."""
    rows, today = _bank_rows()
    served = _served()
    assert served.fitted.record.metrics["validation_auc"] > served.fixed_validation_auc
    rng = np.random.default_rng(0)
    people = sorted(rows.eligible)
    drawn = rng.choice(len(people), size=len(rows.holdings), replace=False)
    shuffled = [(people[i], d) for i, (_, d) in zip(drawn.tolist(), rows.holdings, strict=True)]
    outcome = fit_on_history(
        StoredHistory.from_rows(dataclasses.replace(rows, holdings=shuffled)),
        today=today,
        horizon_days=HORIZON,
        seed=3,
    )
    if isinstance(outcome, str):
        assert "does no better than the fixed weights" in outcome
    else:
        assert outcome.fitted.record.metrics["validation_auc"] > outcome.fixed_validation_auc
