"""Small bank exports written by tests (the synthetic-bank generator makes the big ones)."""

from __future__ import annotations

import csv
import random
from datetime import UTC, date, datetime
from pathlib import Path

CUSTOMER_COLUMNS = (
    "customer_id", "kind", "name", "city", "branch_id", "rm_id", "aum", "risk_rating",
    "consent_marketing", "onboarded_at", "last_active_at", "phone", "id_number", "email",
)  # fmt: skip


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_bank(directory: Path, *, customers: int, ties: int, seed: int = 7) -> dict[str, int]:
    """A clean export of customers, RMs, social ties and transfers; returns rows per file."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(
        directory / "relationship_managers.csv",
        ("rm_id", "name", "branch_id"),
        [(f"RM{i}", f"经理{i}", "BR1") for i in range(10)],
    )
    write_csv(
        directory / "customers.csv",
        CUSTOMER_COLUMNS,
        [
            (
                f"C{i:07d}",
                "PERSON",
                f"客户{i}",
                "上海",
                "BR1",
                f"RM{i % 10}",
                round(rng.lognormvariate(10, 1.5), 2),
                1 + i % 5,
                "true",
                "2020-01-01",
                "2026-06-01",
                "",
                "",
                "",
            )
            for i in range(customers)
        ],
    )
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < ties:
        a, b = rng.randrange(customers), rng.randrange(customers)
        if a != b:
            pairs.add((a, b))
    write_csv(
        directory / "social.csv",
        ("src_id", "dst_id", "kind", "strength", "since"),
        [
            (
                f"C{a:07d}",
                f"C{b:07d}",
                rng.choice(("FRIEND", "FAMILY", "COLLEAGUE")),
                round(rng.random(), 3),
                "2019-05-01",
            )
            for a, b in sorted(pairs)
        ],
    )
    write_csv(
        directory / "transfers.csv",
        ("src_id", "dst_id", "amount", "at"),
        [
            (
                f"C{a:07d}",
                f"C{b:07d}",
                round(rng.random() * 1000, 2),
                f"2026-03-01T10:{i % 60:02d}:00",
            )
            for i, (a, b) in enumerate(sorted(pairs)[: ties // 4])
        ],
    )
    return {
        "relationship_managers": 10,
        "customers": customers,
        "social": ties,
        "transfers": ties // 4,
    }


def in_force(guarantees: list[dict[str, str]], as_of: date | None = None) -> list[dict[str, str]]:
    """The rows of guarantees.csv in force on ``as_of`` (today): started by then and not
    ended before it, as every risk run and query counts them."""
    day = (as_of or datetime.now(UTC).date()).isoformat()
    return [g for g in guarantees if g["start"] <= day and (not g["end"] or g["end"] >= day)]
