"""The planted adoption process: its drivers move the adoption rate, seeds fix the outcome,
and every simulated day falls inside the simulated periods."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synthbank.adoption import (
    AdoptionDrivers,
    AdoptionPeriods,
    ParticipationArrays,
    TieArrays,
    bank_participation,
    bank_ties,
    simulate_adoption,
)
from synthbank.bank import generate_bank
from synthbank.communities import plan_communities
from synthbank.people import generate_people
from synthbank.scenarios import build_ecosystem
from synthbank.social import build_social
from synthbank.util import REF_DAY, as_i64, stream
from tests.unit.synthbank.test_generator import validate

DEFAULT = AdoptionDrivers()
WINDOW = AdoptionPeriods(start=REF_DAY - 240, period_days=30, periods=8)


def _planted(n: int = 3_000, seed: int = 5) -> tuple[TieArrays, ParticipationArrays, np.ndarray]:
    comm = plan_communities(stream(seed, "communities"), n)
    people, _ = generate_people(stream(seed, "people"), comm.city, comm.of)
    eco = build_ecosystem(stream(seed, "ecosystem"), comm, people)
    social = build_social(stream(seed, "social"), comm, people, eco, 10.0)
    rng = np.random.default_rng(seed)
    exogenous = np.where(rng.random(n) < 0.03, WINDOW.start - 1, -1)
    return bank_ties(social), bank_participation(eco), as_i64(exogenous)


def _run(seed: int, drivers: AdoptionDrivers = DEFAULT) -> np.ndarray:
    ties, part, exogenous = _planted()
    eligible = np.ones(len(exogenous), dtype=bool)
    return simulate_adoption(
        np.random.default_rng(seed), ties, part, exogenous, eligible, WINDOW, drivers
    )


def test_the_same_seed_gives_the_same_days_and_another_seed_other_days() -> None:
    assert np.array_equal(_run(1), _run(1))
    assert not np.array_equal(_run(1), _run(2))


def test_simulated_days_fall_inside_the_periods_and_exogenous_days_stay() -> None:
    *_, exogenous = _planted()
    since = _run(1)
    simulated = (since >= 0) & (exogenous < 0)
    assert simulated.sum() > 50
    assert np.all(since[simulated] >= WINDOW.start)
    assert np.all(since[simulated] < WINDOW.end)
    assert np.array_equal(since[exogenous >= 0], exogenous[exogenous >= 0])


def test_more_ties_to_holders_mean_a_higher_adoption_rate() -> None:
    """On the first period, adoption rises with the number of ties to the seed holders."""
    ties, part, exogenous = _planted()
    one = AdoptionPeriods(start=WINDOW.start, period_days=30, periods=1)
    n = len(exogenous)
    holder = exogenous >= 0
    counts = np.bincount(ties.src, weights=holder[ties.dst], minlength=n)
    counts += np.bincount(ties.dst, weights=holder[ties.src], minlength=n)
    rates = []
    strong = AdoptionDrivers(baseline=-3.0, tie_strength=1.0, holder_ties=0.5, scenario=0.0)
    adopted = np.zeros(n)
    for seed in range(20):
        since = simulate_adoption(
            np.random.default_rng(seed), ties, part, exogenous, ~holder, one, strong
        )
        adopted += (since >= 0) & ~holder
    for low, high in ((0, 0), (1, 1), (2, 100)):
        group = ~holder & (counts >= low) & (counts <= high)
        assert group.sum() > 20
        rates.append(adopted[group].mean() / 20)
    assert rates[0] < rates[1] < rates[2]


def test_a_zero_weight_driver_has_no_effect_and_a_positive_one_does() -> None:
    blind = AdoptionDrivers(tie_strength=0.0, holder_ties=0.0, scenario=0.0, noise=0.0)
    scenario_only = AdoptionDrivers(tie_strength=0.0, holder_ties=0.0, scenario=3.0, noise=0.0)
    *_, exogenous = _planted()
    base = (_run(3, blind) >= 0).sum() - (exogenous >= 0).sum()
    more = (_run(3, scenario_only) >= 0).sum() - (exogenous >= 0).sum()
    assert more > 3 * max(base, 1)


def test_the_bank_generator_plants_adoption_only_when_asked(tmp_path: Path) -> None:
    plain = generate_bank(tmp_path / "plain", customers=1_000, seed=3)
    planted = generate_bank(
        tmp_path / "planted", customers=1_000, seed=3, planted_adoption=AdoptionDrivers()
    )
    plain_text = (tmp_path / "plain" / "holdings.csv").read_text(encoding="utf-8")
    planted_text = (tmp_path / "planted" / "holdings.csv").read_text(encoding="utf-8")
    assert plain_text != planted_text
    assert validate(tmp_path / "planted", "csv") == set()  # still a clean contract export
    for name in ("customers", "social", "referrals", "participation"):
        assert (tmp_path / "plain" / f"{name}.csv").read_bytes() == (
            tmp_path / "planted" / f"{name}.csv"
        ).read_bytes()
    summary = json.loads((tmp_path / "planted" / "ground_truth" / "summary.json").read_text())
    assert summary["planted_adoption"]["scenario"] == AdoptionDrivers().scenario
    plain_summary = json.loads((tmp_path / "plain" / "ground_truth" / "summary.json").read_text())
    assert "planted_adoption" not in plain_summary
    assert planted.rows["holdings"] > 0
    assert plain.rows["holdings"] > 0
    onboarded = {
        line.split(",")[0]: line.split(",")[9]
        for line in (tmp_path / "planted" / "customers.csv").read_text().splitlines()[1:]
    }
    header, *rows = planted_text.splitlines()
    columns = header.split(",")
    for row in rows:
        values = dict(zip(columns, row.split(","), strict=True))
        assert onboarded[values["customer_id"]] <= values["since"] <= "2026-06-30"
