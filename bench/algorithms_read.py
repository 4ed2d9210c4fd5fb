"""The in-process engine's tie read, before and after: one record per tie vs lists per page.

    .venv/bin/python -m bench.algorithms_read          # the bench instance's bank (port 7689)
    .venv/bin/python -m bench.algorithms_read --instance bench1m --port 7694

Alternates the two reads ``--rounds`` times on the same database in the same process, so both
see the same machine load, and prints each time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from graph.model import TieKind
from graph.repositories.projections import ProjectionRepository
from graph.settings import CrkgSettings
from graph.store import connected_store


async def _compare(settings: CrkgSettings, rounds: int) -> None:
    kinds = tuple(TieKind)
    async with connected_store(settings) as store:
        repository = ProjectionRepository(store)
        for _ in range(rounds):
            started = time.perf_counter()
            rows = await repository.tie_records(kinds)  # the read before paging
            middle = time.perf_counter()
            columns = await repository.tie_columns(kinds)
            ended = time.perf_counter()
            print(
                f"one record per tie: {len(rows):,} ties in {middle - started:.2f}s   "
                f"lists per {repository.page_customers:,}-customer page: {len(columns):,} ties "
                f"in {ended - middle:.2f}s   ({(middle - started) / (ended - middle):.1f}x)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=Path(".crkg"))
    parser.add_argument("--instance", default="bench", help="managed instance (default bench)")
    parser.add_argument("--port", type=int, default=7689, help="its Bolt port (default 7689)")
    args = parser.parse_args()
    settings = CrkgSettings(
        data_dir=args.data_dir, local_instance=args.instance, local_bolt_port=args.port
    )
    asyncio.run(_compare(settings, args.rounds))


if __name__ == "__main__":
    main()
