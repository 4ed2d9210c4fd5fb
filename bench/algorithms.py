"""Algorithm benchmark: GDS vs in-process vs plain networkx on the same tie graph, in one run.

    .venv/bin/python -m bench.algorithms                  # the 100,000-customer bank
    .venv/bin/python -m bench.algorithms --customers 20000 --skip-networkx-louvain

Uses the ``bench`` instance (port 7689) of ``bench.load``; an empty database is filled by a
bulk import of the generated bank first. Times are compute times with the graph already in
hand (GDS: projection + compute + streaming the result back; in-process: compute; networkx:
compute), plus the one-off costs of reading the ties and building each library's graph.
Peak memory is the Python heap as tracemalloc sees it (numpy arrays included; igraph's and
the JVM's own memory not).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

from algorithms.engines import compute_inproc, run_gds, tie_graph
from algorithms.registry import REGISTRY
from graph.localserver.manager import LocalNeo4j
from graph.repositories.analytics import AnalyticsRepository
from graph.repositories.loads import LoadRepository
from graph.settings import CrkgSettings
from graph.store import connected_store, resolve_target
from loaders.bulk import bulk_load
from loaders.generator import generate_bank

TARGET_VS_NETWORKX = 30.0


def _measure(work: Callable[[], Any]) -> tuple[float, float, Any]:
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


async def _ensure_loaded(settings: CrkgSettings, customers: int, seed: int) -> None:
    LocalNeo4j(settings).start()
    async with connected_store(settings) as store:
        if await LoadRepository(store).domain_node_count() > 0:
            return
    bank = settings.resolved_data_dir / "bench" / f"bank-{customers}-{seed}"
    if not (bank / "customers.csv").exists():
        generate_bank(bank, customers=customers, seed=seed)
    await bulk_load(settings, bank)


async def _read(settings: CrkgSettings) -> tuple[list[str], list[tuple[str, str, float]]]:
    async with connected_store(settings) as store:
        repository = AnalyticsRepository(store)
        return await repository.customer_ids(), await repository.ties(
            REGISTRY["pagerank"].params().tie_kinds
        )


def _networkx(name: str, graph: nx.Graph) -> Any:
    if name == "pagerank":
        return nx.pagerank(graph, weight="weight", tol=1e-9)
    if name == "wcc":
        return list(nx.connected_components(graph))
    return nx.community.louvain_communities(graph, weight="weight", seed=42)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=Path(".crkg"))
    parser.add_argument(
        "--skip-networkx-louvain",
        action="store_true",
        help="networkx Louvain takes minutes on 1M edges",
    )
    args = parser.parse_args()
    settings = CrkgSettings(data_dir=args.data_dir, local_instance="bench", local_bolt_port=7689)

    asyncio.run(_ensure_loaded(settings, args.customers, args.seed))
    read_seconds, _, (customers, ties) = _measure(lambda: asyncio.run(_read(settings)))
    build_seconds, _, nx_graph = _measure(lambda: _nx_graph(customers, ties))
    ours_seconds, _, graph = _measure(lambda: tie_graph(customers, ties))
    target = resolve_target(settings)
    print(
        f"\nalgorithm benchmark: {len(customers):,} customers, {len(ties):,} ties "
        f"(read {read_seconds:.1f}s; graph built in {ours_seconds:.1f}s in-process, "
        f"{build_seconds:.1f}s for networkx); 2 cores"
    )
    print(
        f"{'algorithm':<10}{'GDS s':>9}{'inproc s':>10}{'inproc MiB':>12}{'networkx s':>12}"
        f"{'networkx MiB':>14}{'inproc vs nx':>14}"
    )
    verdicts = []
    for name in ("pagerank", "wcc", "louvain"):
        spec = REGISTRY[name]
        params = spec.params()
        gds_seconds, _, _ = _measure(lambda spec=spec, params=params: run_gds(spec, params, target))
        in_seconds, in_mib, _ = _measure(
            lambda spec=spec, params=params: compute_inproc(spec, params, graph)
        )
        if name == "louvain" and args.skip_networkx_louvain:
            nx_seconds, nx_mib = float("nan"), float("nan")
        else:
            nx_seconds, nx_mib, _ = _measure(lambda name=name: _networkx(name, nx_graph))
        ratio = nx_seconds / in_seconds
        print(
            f"{name:<10}{gds_seconds:>9.2f}{in_seconds:>10.2f}{in_mib:>12.0f}"
            f"{nx_seconds:>12.2f}{nx_mib:>14.0f}{ratio:>13.1f}x"
        )
        if name in ("pagerank", "wcc"):
            verdicts.append((name, ratio))
    print()
    for name, ratio in verdicts:
        met = "met" if ratio >= TARGET_VS_NETWORKX else "NOT met"
        print(
            f"in-process {name} vs networkx: {ratio:.1f}x   target >= "
            f"{TARGET_VS_NETWORKX:.0f}x  {met}"
        )


def _nx_graph(customers: list[str], ties: list[tuple[str, str, float]]) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(customers)
    for src, dst, weight in ties:  # parallel ties of different kinds add up, as on the engines
        if graph.has_edge(src, dst):
            graph[src][dst]["weight"] += weight
        else:
            graph.add_edge(src, dst, weight=weight)
    return graph


if __name__ == "__main__":
    main()
