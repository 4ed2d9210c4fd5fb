"""Algorithm benchmark: GDS vs in-process vs plain networkx on the same tie graph, in one run.

    .venv/bin/python -m bench.algorithms                  # 100,000 customers, instance bench
    .venv/bin/python -m bench.algorithms --customers 1000000 --instance bench1m --port 7694 \\
        --skip-networkx-louvain

Runs against a managed instance (default ``bench``, port 7689, the one of ``bench.load``). An
empty database is filled by a bulk import of the generated bank first; a database holding
another bank is refused unless ``--reload`` (which wipes that instance's database).

Per algorithm (PageRank, WCC, Louvain) it times, ``--rounds`` times each:

- GDS end to end, as ``crkg algo run --engine gds`` computes: native projection, compute,
  streaming the result back and mapping node ids to customer ids;
- in-process: the computation on the graph already built (the registry entry's in-process function);
- networkx: the same computation on its graph already built.

Times are taken without tracing; peak memory comes from a separate pass under tracemalloc
(the Python heap, numpy arrays included; igraph's and the JVM's own memory not), because
tracing slows networkx's many small allocations about 3x and would flatter the ratios.
The one-off costs are printed too: reading the ties, building each library's graph, and the
symmetric adjacency the in-process PageRank and WCC share (built with the graph).

Then the issue's other targets: GDS projection + PageRank (no result streaming) over the
UNDIRECTED projection of every tie (each tie counts twice: 10M relationships for the 1M bank's
5M ties), and guarantee circles end to end (``run_algorithm``: read GUARANTEES, search,
write RiskLinkage nodes and the run record).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
import tracemalloc
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx

from algorithms.engines import InProcess, OnGds, run_on_gds, tie_graph
from algorithms.graphdata import GraphData
from algorithms.inproc._adjacency import prebuild, undirected_adjacency
from algorithms.params import PageRankParams
from algorithms.registry import REGISTRY, Engine
from algorithms.runner import run_algorithm
from graph.gds import gds_client, native_tie_projection
from graph.localserver.manager import LocalNeo4j
from graph.read_models import TieColumns
from graph.repositories.loads import LoadRepository
from graph.repositories.projections import ProjectionRepository
from graph.settings import CrkgSettings
from graph.store import ConnectionTarget, connected_store, resolve_target
from loaders.bulk import bulk_load
from synthbank.bank import generate_bank

TARGET_VS_NETWORKX = 30.0
TARGET_GDS_PAGERANK_SECONDS = 15.0
TARGET_GUARANTEE_CIRCLES_SECONDS = 60.0
ALGORITHMS = ("pagerank", "wcc", "louvain")


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _peak_mib(work: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _bank_dir(settings: CrkgSettings, instance: str, customers: int, seed: int) -> Path:
    """The generated bank: the one ``bench.load`` keeps if present, else the instance's own."""
    name = f"bank-{customers}-{seed}"
    shared = settings.resolved_data_dir / "bench" / name
    return (
        shared
        if (shared / "customers.csv").exists()
        else (settings.resolved_data_dir / instance / name)
    )


async def _customer_count(settings: CrkgSettings) -> tuple[int, int]:
    async with connected_store(settings) as store:
        nodes = await LoadRepository(store).domain_node_count()
        customers = len(await ProjectionRepository(store).customer_ids()) if nodes else 0
    return nodes, customers


def _ensure_loaded(
    settings: CrkgSettings, instance: str, customers: int, seed: int, reload: bool
) -> None:
    server = LocalNeo4j(settings)
    server.start()
    nodes, present = asyncio.run(_customer_count(settings))
    if nodes and present == customers:
        return
    if nodes:
        if not reload:
            raise SystemExit(
                f"instance {instance!r} holds {present:,} customers, not {customers:,}: "
                "pass --reload to wipe its database and import the requested bank"
            )
        server.stop()
        shutil.rmtree(server.home / "data", ignore_errors=True)
        server.start()
    bank = _bank_dir(settings, instance, customers, seed)
    if not (bank / "customers.csv").exists():
        seconds, _ = _timed(lambda: generate_bank(bank, customers=customers, seed=seed))
        print(f"generated {customers:,} customers in {seconds:.0f}s", flush=True)
    seconds, _ = _timed(lambda: asyncio.run(bulk_load(settings, bank)))
    print(f"bulk-imported {bank} in {seconds:.0f}s", flush=True)


async def _read(settings: CrkgSettings) -> tuple[list[str], TieColumns]:
    async with connected_store(settings) as store:
        repository = ProjectionRepository(store)
        customers = await repository.customer_ids()
        columns = await repository.tie_columns(
            REGISTRY["pagerank"].params().tie_kinds, customers=customers
        )
        return customers, columns


def _nx_graph(customers: list[str], ties: TieColumns) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(customers)
    # parallel ties of different kinds add up, as on the engines
    for src, dst, weight in zip(ties.src, ties.dst, ties.weight, strict=True):
        if graph.has_edge(src, dst):
            graph[src][dst]["weight"] += weight
        else:
            graph.add_edge(src, dst, weight=weight)
    return graph


def _networkx(name: str, graph: nx.Graph) -> Any:
    if name == "pagerank":
        return nx.pagerank(graph, weight="weight", tol=1e-9)
    if name == "wcc":
        return list(nx.connected_components(graph))
    return nx.community.louvain_communities(graph, weight="weight", seed=42)


def _gds_pagerank(
    target: ConnectionTarget, params: PageRankParams | None
) -> tuple[float, float, int, int]:
    """Native UNDIRECTED projection (as the GDS engine) and PageRank in stats mode, timed apart.

    ``params`` None runs GDS's own defaults (20 iterations, tolerance 1e-7) instead of
    crkg's (``PageRankParams``: 100 iterations, tolerance 1e-9).
    Returns projection seconds, compute seconds, relationships and iterations run.
    """
    gds = gds_client(target)
    projection = native_tie_projection((params or PageRankParams()).tie_kinds)
    config: dict[str, Any] = {"relationship_weight_property": "strength"}
    if params is not None:
        config.update(
            damping_factor=params.damping,
            max_iterations=params.max_iterations,
            tolerance=params.tolerance,
        )
    started = time.perf_counter()
    with gds.graph.project.native(
        f"crkg-bench-{uuid.uuid4().hex[:12]}", "Customer", projection
    ) as graph:
        projected = time.perf_counter()
        stats = gds.page_rank.stats(graph, **config)
        computed = time.perf_counter()
        relationships = int(graph.relationship_count())
    iterations = int(stats.ran_iterations)
    return projected - started, computed - projected, relationships, iterations


async def _guarantee_circles(settings: CrkgSettings) -> tuple[float, int, int]:
    async with connected_store(settings) as store:
        started = time.perf_counter()
        result = await run_algorithm(store, settings, "guarantee_circles", engine=Engine.INPROC)
        seconds = time.perf_counter() - started
    return seconds, int(result.summary["found"]), int(result.customers_written)


def _seconds(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=Path(".crkg"))
    parser.add_argument("--instance", default="bench", help="managed instance (default bench)")
    parser.add_argument("--port", type=int, default=7689, help="its Bolt port (default 7689)")
    parser.add_argument(
        "--reload",
        action="store_true",
        help="wipe the instance's database when it holds another bank",
    )
    parser.add_argument("--rounds", type=int, default=2, help="timed repetitions (default 2)")
    parser.add_argument(
        "--skip-networkx-louvain",
        action="store_true",
        help="networkx Louvain takes ~2 minutes on 100k customers, hours on 1M",
    )
    args = parser.parse_args()
    settings = CrkgSettings(
        data_dir=args.data_dir, local_instance=args.instance, local_bolt_port=args.port
    )
    rounds = max(args.rounds, 1)

    _ensure_loaded(settings, args.instance, args.customers, args.seed, args.reload)
    target = resolve_target(settings)
    read_seconds, (customers, ties) = _timed(lambda: asyncio.run(_read(settings)))
    graph: GraphData
    build_seconds, graph = _timed(lambda: tie_graph(customers, ties))
    adjacency_seconds, _ = _timed(lambda: prebuild(graph))
    shared = undirected_adjacency(graph)
    adjacency_mib = (
        sum(a.nbytes for a in (shared.weights.data, shared.weights.indices, shared.weights.indptr))
        + shared.structure.data.nbytes
        + shared.strength.nbytes
    ) / 2**20
    nx_build_seconds, nx_graph = _timed(lambda: _nx_graph(customers, ties))
    print(
        f"\nalgorithm benchmark: {len(customers):,} customers, {len(ties):,} ties "
        f"(instance {args.instance}; read {read_seconds:.1f}s; in-process graph "
        f"{build_seconds:.2f}s + shared adjacency {adjacency_seconds:.2f}s, "
        f"{adjacency_mib:.0f} MiB; networkx graph "
        f"{nx_build_seconds:.1f}s); 2 cores; times of {rounds} rounds, in order",
        flush=True,
    )
    header = (
        f"{'algorithm':<10}{'GDS s':>16}{'inproc s':>14}{'MiB':>6}{'networkx s':>16}"
        f"{'MiB':>7}{'inproc vs networkx':>22}"
    )
    print(header, flush=True)
    ratios: dict[str, list[float]] = {}
    for name in ALGORITHMS:
        spec = REGISTRY[name]
        params = spec.params()
        gds_engine, inproc_engine = spec.engines[Engine.GDS], spec.engines[Engine.INPROC]
        assert isinstance(gds_engine, OnGds)
        assert isinstance(inproc_engine, InProcess)
        run_gds = partial(run_on_gds, name, gds_engine.stream, params, target)
        gds_times = [_timed(run_gds)[0] for _ in range(rounds)]

        ours = partial(inproc_engine.compute, graph, params)
        in_times = [_timed(ours)[0] for _ in range(rounds)]
        in_mib = _peak_mib(ours)
        if name == "louvain" and args.skip_networkx_louvain:
            nx_cell, nx_mib_cell, ratio_cell = "skipped", "", "(--skip-networkx-louvain)"
        else:
            theirs = partial(_networkx, name, nx_graph)
            nx_times = [_timed(theirs)[0] for _ in range(rounds)]
            nx_mib = _peak_mib(theirs)
            ratios[name] = [a / b for a, b in zip(nx_times, in_times, strict=True)]
            nx_cell, nx_mib_cell = _seconds(nx_times), f"{nx_mib:.0f}"
            ratio_cell = " / ".join(f"{r:.1f}x" for r in ratios[name])
        print(
            f"{name:<10}{_seconds(gds_times):>16}{_seconds(in_times):>14}{in_mib:>6.0f}"
            f"{nx_cell:>16}{nx_mib_cell:>7}{ratio_cell:>22}",
            flush=True,
        )

    pagerank_params = REGISTRY["pagerank"].params()
    assert isinstance(pagerank_params, PageRankParams)
    gds_parts = [_gds_pagerank(target, pagerank_params) for _ in range(rounds)]
    gds_default_parts = [_gds_pagerank(target, None) for _ in range(rounds)]
    circles = [asyncio.run(_guarantee_circles(settings)) for _ in range(rounds)]

    print()
    for name in ("pagerank", "wcc"):
        if name in ratios:
            worst = min(ratios[name])
            print(
                f"in-process {name} vs networkx: "
                f"{' / '.join(f'{r:.1f}x' for r in ratios[name])}   target >= "
                f"{TARGET_VS_NETWORKX:.0f}x  {_verdict(worst >= TARGET_VS_NETWORKX)}"
            )
    for label, parts in (
        ("crkg's parameters: tolerance 1e-9, <= 100 iterations", gds_parts),
        ("GDS defaults: tolerance 1e-7, <= 20 iterations", gds_default_parts),
    ):
        totals = [project + compute for project, compute, _, _ in parts]
        relationships = parts[0][2]
        applies = relationships >= 10_000_000
        print(
            f"GDS projection + PageRank ({label}), {relationships:,} relationships "
            "(UNDIRECTED): "
            + " / ".join(
                f"{p:.1f} + {c:.1f} = {p + c:.1f}s ({i} iterations)" for p, c, _, i in parts
            )
            + f"   target <= {TARGET_GDS_PAGERANK_SECONDS:.0f}s over 10M relationships  "
            + (
                _verdict(max(totals) <= TARGET_GDS_PAGERANK_SECONDS)
                if applies
                else "(target is for 10M relationships)"
            )
        )
    seconds = [s for s, _, _ in circles]
    print(
        f"guarantee circles end to end (read + search + write): {_seconds(seconds)}s, "
        f"{circles[0][1]:,} circles   target <= {TARGET_GUARANTEE_CIRCLES_SECONDS:.0f}s on 1M "
        "customers  "
        + (
            _verdict(max(seconds) <= TARGET_GUARANTEE_CIRCLES_SECONDS)
            if len(customers) >= 1_000_000
            else "(target is for 1M customers)"
        )
    )


if __name__ == "__main__":
    main()
