"""Numpy helpers shared by the generator: seeded streams, unique draws, group picks, days."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
Str = npt.NDArray[np.str_]

# Every date is an offset from this fixed day, never from the wall clock, so output is
# reproducible; dates are int64 day numbers since 1970-01-01 (numpy's datetime64[D] epoch).
REF_DATE: Final = "2026-06-30"
REF_DAY: Final = int(np.datetime64(REF_DATE, "D").astype(np.int64))
DAY_SECONDS: Final = 86_400
YEAR_DAYS: Final = 365.25

# Independent stream numbers: each stage draws from its own generator, so changing how much
# one stage draws (e.g. planting bad rows) never shifts the data of another stage.
STAGES: Final[dict[str, int]] = {
    "communities": 1,
    "people": 2,
    "ecosystem": 3,
    "social": 4,
    "holdings": 5,
    "campaigns": 6,
    "referrals": 7,
    "guarantees": 8,
    "identifiers": 9,
    "transfers": 10,
    "shareholdings": 11,
    "bad_rows": 12,
    "defaults": 13,
    "outreach": 14,
    "adoption": 15,
}


def stream(seed: int, stage: str) -> np.random.Generator:
    """The generator of one stage, derived from the user's seed."""
    return np.random.default_rng([seed, STAGES[stage]])


def as_i64(values: npt.ArrayLike) -> I64:
    """Values as a contiguous int64 array."""
    return np.ascontiguousarray(values, dtype=np.int64)


def first_occurrence(values: npt.NDArray[Any]) -> Bool:
    """Mask of the first occurrence of every distinct value (later repeats are False)."""
    keep = np.zeros(len(values), dtype=np.bool_)
    if len(values):
        _, first = np.unique(values, return_index=True)
        keep[first] = True
    return keep


def sorted_unique(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Distinct values in ascending order (sort-based: faster than np.unique's hashing here)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    return np.asarray(ordered[keep])


def contains(sorted_values: npt.NDArray[Any], values: npt.NDArray[Any]) -> Bool:
    """Membership of ``values`` in an ascending array."""
    if len(sorted_values) == 0:
        return np.zeros(len(values), dtype=np.bool_)
    pos = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return np.asarray(sorted_values[pos] == values, dtype=np.bool_)


def unique_draw(
    rng: np.random.Generator,
    draw: Callable[[np.random.Generator, int], npt.NDArray[Any]],
    n: int,
    exclude: npt.NDArray[Any] | None = None,
) -> npt.NDArray[Any]:
    """``n`` draws that are pairwise distinct and not in ``exclude``; repeats are redrawn."""
    values = draw(rng, n)
    excluded = sorted_unique(exclude) if exclude is not None else None
    for _ in range(200):
        bad = ~first_occurrence(values)
        if excluded is not None:
            bad |= contains(excluded, values)
        count = int(bad.sum())
        if count == 0:
            return values
        values[bad] = draw(rng, count)
    raise RuntimeError("value space too small for a unique draw")


def new_pairs(
    rng: np.random.Generator,
    need: int,
    draw: Callable[[np.random.Generator, int], tuple[I64, I64]],
    key: Callable[[I64, I64], I64],
    taken: I64,
    *,
    distinct_ends: bool,
    rounds: int,
    batch: Callable[[int], int],
) -> tuple[I64, I64]:
    """Up to ``need`` pairs from ``draw`` whose ``key`` is new: in neither ``taken`` (sorted)
    nor an earlier pair; no loops with ``distinct_ends``. Each of at most ``rounds`` rounds
    draws ``batch(missing)`` candidates; fewer than ``need`` when the rounds run out."""
    got_a: list[I64] = []
    got_b: list[I64] = []
    seen = taken
    have = 0
    for _ in range(rounds):
        if have >= need:
            break
        a, b = draw(rng, batch(need - have))
        code = key(a, b)
        fresh = first_occurrence(code) & ~contains(seen, code)
        if distinct_ends:
            fresh &= a != b
        a, b, code = a[fresh][: need - have], b[fresh][: need - have], code[fresh][: need - have]
        got_a.append(a)
        got_b.append(b)
        have += len(a)
        seen = np.sort(np.concatenate([seen, code]))
    empty = np.zeros(0, dtype=np.int64)
    return (
        as_i64(np.concatenate(got_a)) if got_a else empty,
        as_i64(np.concatenate(got_b)) if got_b else empty,
    )


def weighted_index(rng: np.random.Generator, cumulative: F64, n: int) -> I64:
    """``n`` indices drawn with probability proportional to the increments of ``cumulative``."""
    picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    return as_i64(np.minimum(picks, len(cumulative) - 1))


def pick_in_groups(rng: np.random.Generator, starts: I64, counts: I64, group: I64) -> I64:
    """For each entry of ``group``, a uniform position inside that group's [start, start+count)."""
    offset = (rng.random(len(group)) * counts[group]).astype(np.int64)
    return as_i64(starts[group] + np.minimum(offset, np.maximum(counts[group] - 1, 0)))


def group_starts(counts: I64) -> I64:
    """Start offsets of consecutive groups of the given sizes."""
    starts = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    return starts


def rank_in_group(group: I64) -> I64:
    """Position of each entry within its run of equal ``group`` values (input sorted by group)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new_run = np.ones(n, dtype=np.bool_)
    new_run[1:] = group[1:] != group[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    return as_i64(np.arange(n) - run_start)


def lognormal_cents(rng: np.random.Generator, median: float, sigma: float, n: int) -> I64:
    """Heavy-tailed money amounts in cents with the given median (at least 1.00)."""
    values = median * np.exp(sigma * rng.standard_normal(n))
    return as_i64(np.clip(np.round(values * 100.0), 100, 10**13))


def days_between(rng: np.random.Generator, low: I64, high: I64) -> I64:
    """A uniform day in [low, high] for each pair (high is clipped up to low)."""
    span = np.maximum(high - low, 0)
    return as_i64(low + (rng.random(len(low)) * (span + 1)).astype(np.int64))


def ymd(days: I64) -> tuple[I64, I64, I64]:
    """Year, month and day of day numbers."""
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return as_i64(year), as_i64(month), as_i64(day)


def digits(values: I64, width: int) -> I64:
    """Decimal digits of non-negative integers as an (n, width) matrix, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return as_i64((values[:, None] // powers[None, :]) % 10)
