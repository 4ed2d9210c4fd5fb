"""The synthetic bank end to end: generate every stage, render the 19 files and the ground truth."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np

from loaders.contract import FILE_ORDER
from synthbank.adoption import AdoptionDrivers, plant_adoption
from synthbank.bad_rows import plan_bad_rows
from synthbank.communities import plan_communities
from synthbank.fresh_keys import fresh_key_makers
from synthbank.ground_truth import write_ground_truth
from synthbank.limits import MAX_BAD_ROW_RATE, MIN_CUSTOMERS, InvalidBankSpecError
from synthbank.marketing import (
    PRODUCT_NAMES,
    adopt_products,
    build_holdings,
    plan_campaigns,
    referral_cascades,
)
from synthbank.outreach import plan_outreach
from synthbank.people import generate_people
from synthbank.risk import (
    build_guarantees,
    build_identifiers,
    build_shareholdings,
    build_transfers,
    plan_defaults,
)
from synthbank.scenarios import build_ecosystem
from synthbank.social import build_social
from synthbank.tables import Families, GeneratedBank, IdFamily, tables_of
from synthbank.util import stream
from synthbank.writer import FileFormat, write_table

GROUND_TRUTH_DIR: Final = "ground_truth"


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_bank` wrote."""

    out_dir: Path
    customers: int
    seed: int
    file_format: str
    rows: dict[str, int]  # data rows written per contract file (clean + planted bad rows)
    bad_rows: dict[str, int]  # planted bad rows per contract file
    ground_truth: dict[str, int]  # communities, influencers, circles, rings, cycles, groups, ...
    elapsed_seconds: float


def _simulate(
    n: int,
    seed: int,
    ties_per_customer: float,
    step: Callable[[str], None],
    planted_adoption: AdoptionDrivers | None = None,
) -> GeneratedBank:
    """Run every generation stage, each on its own random stream."""
    step("communities")
    comm = plan_communities(stream(seed, "communities"), n)
    step("people")
    people, branches = generate_people(stream(seed, "people"), comm.city, comm.of)
    step("ecosystem")
    eco = build_ecosystem(stream(seed, "ecosystem"), comm, people)
    step("social")
    social = build_social(stream(seed, "social"), comm, people, eco, ties_per_customer)
    step("holdings")
    holdings_rng = stream(seed, "holdings")
    held = adopt_products(holdings_rng, people, eco, social)
    campaigns = plan_campaigns(stream(seed, "campaigns"), n, eco)
    step("referrals")
    referrals = referral_cascades(stream(seed, "referrals"), people, social, campaigns)
    holdings = build_holdings(holdings_rng, people, held, referrals)
    if planted_adoption is not None:
        converted = referrals.converted
        n_products = len(PRODUCT_NAMES)
        referred = referrals.referee[converted] * n_products + referrals.product[converted]
        protected = np.isin(holdings.customer * n_products + holdings.product, referred)
        holdings = plant_adoption(
            stream(seed, "adoption"),
            people,
            eco,
            social,
            holdings,
            planted_adoption,
            None,
            protected,
        )
    step("risk")
    guarantees = build_guarantees(stream(seed, "guarantees"), people)
    identifiers = build_identifiers(stream(seed, "identifiers"), people)
    transfers = build_transfers(stream(seed, "transfers"), people, social)
    shares = build_shareholdings(stream(seed, "shareholdings"), people)
    defaulted = plan_defaults(stream(seed, "defaults"), people, guarantees)
    outreach = plan_outreach(stream(seed, "outreach"), n, len(campaigns.product))
    return GeneratedBank(
        comm=comm,
        people=people,
        branches=branches,
        eco=eco,
        social=social,
        holdings=holdings,
        campaigns=campaigns,
        referrals=referrals,
        guarantees=guarantees,
        identifiers=identifiers,
        transfers=transfers,
        shares=shares,
        defaulted=defaulted,
        outreach=outreach,
    )


def generator_fingerprint() -> str:
    """A hash of the generator's own source: a bank written by other code has another one.

    ``crkg demo`` compares it with the reused bank's ``summary.json`` and regenerates a bank
    that an older generator wrote (the same seed gives other data once the code changed).
    """
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def bank_is_current(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a complete bank written by this generator."""
    summary = out_dir / GROUND_TRUTH_DIR / "summary.json"
    if not (out_dir / "customers.csv").exists() or not summary.exists():
        return False
    try:
        written = json.loads(summary.read_text(encoding="utf-8")).get("generator")
    except (OSError, ValueError):
        return False
    return bool(written == generator_fingerprint())


def generate_bank(
    out_dir: Path,
    *,
    customers: int,
    seed: int = 42,
    ties_per_customer: float = 10.0,
    bad_row_rate: float = 0.0,
    file_format: Literal["csv", "jsonl", "parquet"] = "csv",
    progress: Callable[[str, int, int], None] | None = None,
    planted_adoption: AdoptionDrivers | None = None,
) -> GenerationSummary:
    """Write a synthetic bank's exports (input contract v1) and the ground truth behind them.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing). Receives the 19 contract files
        (``customers.csv`` ...) and a ``ground_truth/`` folder.
    customers
        Number of customers (at least 200); about 10% are companies.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files.
    ties_per_customer
        Mean number of social ties per customer (mean degree; rows = customers x ties / 2).
    bad_row_rate
        Share of extra, invalid rows planted in every file (0 to 0.2); see
        :mod:`synthbank.bad_rows` for the reason codes and rules.
    file_format
        ``"csv"``, ``"jsonl"`` or ``"parquet"``; same columns and text values in each.
    progress
        Called as ``progress(stage, done, total)``: planning stages, then
        ``"write:<file>"`` with rows written so far.
    planted_adoption
        When given, the holdings taken up in the last 12 months before the reference date
        come from the planted contagion of :mod:`synthbank.adoption` with these drivers
        (``summary.json`` records them); default: the generator's own holdings, unchanged.

    Returns
    -------
    GenerationSummary
        Rows written per file, planted bad rows, ground-truth counts and elapsed time.

    Notes
    -----
    Every value is text in every format: CSV has a header and no quoting; JSON Lines and
    Parquet (all columns ``string``) write missing values as null. All dates derive from the
    fixed reference date 2026-06-30, never from the clock. ``ground_truth/`` holds
    ``communities.csv``, ``influencers.csv``, ``guarantee_circles.jsonl``,
    ``identifier_rings.jsonl``, ``fund_cycles.jsonl``, ``control_groups.jsonl``,
    ``defaulted_borrowers.csv`` (customer_id, defaulted_at, in_circle), ``bad_rows.csv``
    (file, line, reason_code) and ``summary.json`` (counts).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = generate_bank(Path(tmp), customers=1_000, seed=7)
    ...     (Path(tmp) / "customers.csv").read_text(encoding="utf-8").splitlines()[0]
    'customer_id,kind,name,city,branch_id,rm_id,aum,risk_rating,consent_marketing,onboarded_at,last_active_at,phone,id_number,email,birth_date,defaulted_at'
    >>> summary.rows["customers"]
    1000
    """
    started = time.perf_counter()
    if customers < MIN_CUSTOMERS:
        raise InvalidBankSpecError(f"customers must be at least {MIN_CUSTOMERS}")
    if seed < 0:
        raise InvalidBankSpecError("seed must be non-negative")
    if not 0.0 < ties_per_customer <= 200.0:
        raise InvalidBankSpecError("ties_per_customer must be in (0, 200]")
    if not 0.0 <= bad_row_rate <= MAX_BAD_ROW_RATE:
        raise InvalidBankSpecError(f"bad_row_rate must be in [0, {MAX_BAD_ROW_RATE}]")
    if file_format not in ("csv", "jsonl", "parquet"):
        raise InvalidBankSpecError(f"unknown file format {file_format!r}")
    fmt: FileFormat = file_format
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = ("communities", "people", "ecosystem", "social", "holdings", "referrals", "risk")
    done = [0]

    def step(name: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(name, done[0], len(stages))

    bank = _simulate(customers, seed, ties_per_customer, step, planted_adoption)
    eco = bank.eco
    ids = Families(
        customers=IdFamily("C", customers, 7),
        rms=IdFamily("RM", len(bank.branches.rm_branch), 4),
        branches=IdFamily("BR", len(bank.branches.city), 4),
        partners=IdFamily("P", eco.n, 5),
        scenarios=IdFamily("S", eco.n, 5),
        products=IdFamily("PRD", len(PRODUCT_NAMES), 3),
        campaigns=IdFamily("CP", len(bank.campaigns.product), 4),
        consents=IdFamily("CS", len(bank.outreach.consent_customer), 6),
        opt_outs=IdFamily("OO", len(bank.outreach.opt_customer), 5),
        complaints=IdFamily("CM", len(bank.outreach.complaint_customer), 5),
        contacts=IdFamily("CT", len(bank.outreach.contact_customer), 7),
    )
    tables = tables_of(bank, ids)
    fresh = fresh_key_makers(bank, ids)
    families = {
        "customers": ids.customers,
        "relationship_managers": ids.rms,
        "partners": ids.partners,
        "products": ids.products,
        "scenarios": ids.scenarios,
        "campaigns": ids.campaigns,
    }

    def dangling(target: str, k: int) -> list[str]:
        return families[target].beyond(k)

    bad_rng = stream(seed, "bad_rows")
    bad = {
        name: plan_bad_rows(
            tables[name], bad_rng, bad_row_rate, fmt == "csv", fresh[name], dangling
        )
        for name in FILE_ORDER
    }
    rows: dict[str, int] = {}
    ext = fmt
    for name in FILE_ORDER:
        rows[name] = write_table(out_dir / f"{name}.{ext}", tables[name], bad[name], fmt, progress)
    counts = write_ground_truth(out_dir / GROUND_TRUTH_DIR, bank, ids, bad, ext)
    if progress is not None:
        progress("ground_truth", 1, 1)
    summary_counts = {
        **counts,
        "rows": rows,
        "bad_rows_per_file": {k: len(v) for k, v in bad.items()},
    }
    (out_dir / GROUND_TRUTH_DIR / "summary.json").write_text(
        json.dumps(
            {
                "customers": customers,
                "seed": seed,
                "file_format": fmt,
                "generator": generator_fingerprint(),
                **(
                    {"planted_adoption": dataclasses.asdict(planted_adoption)}
                    if planted_adoption is not None
                    else {}
                ),
                **summary_counts,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return GenerationSummary(
        out_dir=out_dir,
        customers=customers,
        seed=seed,
        file_format=fmt,
        rows=rows,
        bad_rows={k: len(v) for k, v in bad.items()},
        ground_truth=counts,
        elapsed_seconds=time.perf_counter() - started,
    )
