"""Loading benchmark: online `crkg load` vs the bulk import vs row-at-a-time, in one run.

    .venv/bin/python -m bench.load                 # 100,000 customers (~1.5M rows)
    .venv/bin/python -m bench.load --customers 20000

It uses its own managed instance (``bench``, port 7689) under ``.crkg/`` and wipes it: a
fresh database for the bulk import, a fresh one for the online load, then the row-at-a-time
peer — the same MERGE statement, one row per transaction, as a naive loader would do it — on a
sample of social ties deleted from the loaded graph and written back.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.localserver.manager import LocalNeo4j
from graph.repositories.loads import LoadRepository, WriteOp
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from loaders.bulk import bulk_load
from loaders.contract import NODE_FILES
from loaders.pipeline import Loader
from loaders.plan import SOCIAL_TARGETS
from loaders.report import LoadReport
from synthbank.bank import generate_bank

TARGET_RELS_PER_SECOND = 30_000
TARGET_VS_ROW_AT_A_TIME = 40.0
TARGET_VS_BULK = 5.0


def _settings(data_dir: Path) -> CrkgSettings:
    return CrkgSettings(data_dir=data_dir, local_instance="bench", local_bolt_port=7689)


def _fresh_database(settings: CrkgSettings) -> None:
    server = LocalNeo4j(settings)
    server.stop()
    shutil.rmtree(server.home / "data", ignore_errors=True)
    server.start()


def _rates(report: LoadReport) -> tuple[int, float, int, float]:
    nodes = sum(f.rows_loaded for f in report.files if f.file in NODE_FILES)
    node_seconds = sum(f.seconds for f in report.files if f.file in NODE_FILES)
    rels = sum(f.rows_loaded for f in report.files if f.file not in NODE_FILES)
    rel_seconds = sum(f.seconds for f in report.files if f.file not in NODE_FILES)
    return nodes, node_seconds, rels, rel_seconds


async def _online(settings: CrkgSettings, bank: Path) -> tuple[LoadReport, float]:
    driver = await open_driver(settings)
    try:
        store = GraphStore.from_settings(driver, settings)
        await SchemaRepository(store).apply()
        started = time.perf_counter()
        report = await Loader(store, settings).load(bank)
        return report, time.perf_counter() - started
    finally:
        await driver.close()


async def _row_at_a_time(settings: CrkgSettings, bank: Path, sample: int) -> tuple[int, float]:
    """Delete `sample` FRIEND ties, then write them back one transaction per row."""
    rows: list[dict[str, Any]] = []
    with (bank / "social.csv").open(encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            if record["kind"] == "FRIEND" and record["strength"]:
                props = {"strength": float(record["strength"]), "since": None}
                rows.append(
                    {
                        "src": record["src_id"],
                        "dst": record["dst_id"],
                        "props": props,
                        "hash": f"bench-{len(rows)}",
                    }
                )
            if len(rows) >= sample:
                break
    friend = SOCIAL_TARGETS["FRIEND"]
    driver = await open_driver(settings)
    try:
        repository = LoadRepository(GraphStore.from_settings(driver, settings))
        loaded_at = datetime.now(UTC)
        await repository.write(
            WriteOp("delete FRIEND", "delete_rels", rows, rel=friend),
            load_id="bench",
            loaded_at=loaded_at,
        )
        started = time.perf_counter()
        for row in rows:  # the same statement as a load, one transaction per row
            await repository.write(
                WriteOp("upsert FRIEND", "upsert_rels", [row], rel=friend),
                load_id="bench",
                loaded_at=loaded_at,
            )
        return len(rows), time.perf_counter() - started
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=int, default=3_000, help="row-at-a-time rows")
    parser.add_argument("--data-dir", type=Path, default=Path(".crkg"))
    args = parser.parse_args()

    settings = _settings(args.data_dir)
    bank = settings.resolved_data_dir / "bench" / f"bank-{args.customers}-{args.seed}"
    if not (bank / "customers.csv").exists():
        started = time.perf_counter()
        generate_bank(bank, customers=args.customers, seed=args.seed)
        print(f"generated {args.customers:,} customers in {time.perf_counter() - started:.1f}s")

    _fresh_database(settings)
    started = time.perf_counter()
    bulk_report = asyncio.run(bulk_load(settings, bank))
    bulk_seconds = time.perf_counter() - started

    _fresh_database(settings)
    online_report, online_seconds = asyncio.run(_online(settings, bank))
    nodes, node_seconds, rels, rel_seconds = _rates(online_report)
    sample, sample_seconds = asyncio.run(_row_at_a_time(settings, bank, args.sample))
    LocalNeo4j(settings).stop()

    rows = bulk_report.rows_loaded
    online_rel_rate = rels / rel_seconds
    row_rate = sample / sample_seconds
    print(
        f"\nload benchmark: {args.customers:,} customers, {rows:,} rows "
        f"({nodes:,} node rows, {rels:,} relationship rows); 2 cores"
    )
    print(f"{'path':<34}{'seconds':>10}{'rows/s':>12}{'nodes/s':>12}{'rels/s':>12}")
    print(
        f"{'online crkg load':<34}{online_seconds:>10.1f}{rows / online_seconds:>12,.0f}"
        f"{nodes / node_seconds:>12,.0f}{online_rel_rate:>12,.0f}"
    )
    print(
        f"{'bulk (validate + import + restart)':<34}{bulk_seconds:>10.1f}"
        f"{rows / bulk_seconds:>12,.0f}{'':>12}{'':>12}"
    )
    print(
        f"{'row-at-a-time (same MERGE)':<34}{sample_seconds:>10.1f}{row_rate:>12,.0f}"
        f"{'':>12}{row_rate:>12,.0f}"
    )
    checks = [
        (
            "online rels/s",
            online_rel_rate,
            f">= {TARGET_RELS_PER_SECOND:,}",
            online_rel_rate >= TARGET_RELS_PER_SECOND,
        ),
        (
            "online / row-at-a-time (rels/s)",
            online_rel_rate / row_rate,
            f">= {TARGET_VS_ROW_AT_A_TIME:.0f}x",
            online_rel_rate / row_rate >= TARGET_VS_ROW_AT_A_TIME,
        ),
        (
            "online time / bulk time",
            online_seconds / bulk_seconds,
            f"<= {TARGET_VS_BULK:.0f}x",
            online_seconds / bulk_seconds <= TARGET_VS_BULK,
        ),
    ]
    print()
    for name, value, target, met in checks:
        print(f"{name:<34}{value:>12,.1f}   target {target:<10} {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
