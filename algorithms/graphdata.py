"""The one graph representation every engine consumes: node ids plus edge arrays.

A :class:`GraphData` is what a projection of Neo4j (or a test) hands to the in-process
algorithms: ``node_ids`` name the nodes, ``src``/``dst`` are int64 indices into them, and the
optional per-edge ``weight``, ``time`` (seconds since the Unix epoch) and ``amount`` arrays are
aligned with the edges. Parallel edges are kept (two transfers between the same customers are
two edges); each algorithm says how it folds them. It is immutable: arrays are read-only
copies, so an algorithm can never change the caller's graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from graph.errors import CrkgError

if TYPE_CHECKING:
    import networkx as nx

Int64Array = NDArray[np.int64]
Float64Array = NDArray[np.float64]


# --- errors --------------------------------------------------------------------------------
class AlgorithmError(CrkgError):
    """Base of the errors the graph algorithms raise on purpose."""


class InvalidGraphError(AlgorithmError, ValueError):
    """The edge arrays or an option do not describe a graph the algorithm can use."""


class UnknownNodeError(InvalidGraphError):
    """A node id passed to an algorithm is not in the graph."""

    def __init__(self, node_id: str) -> None:
        super().__init__(f"node {node_id!r} is not in the graph")
        self.node_id = node_id


class ConvergenceError(AlgorithmError):
    """An iterative algorithm stopped at its iteration limit before reaching its tolerance."""

    def __init__(self, algorithm: str, max_iter: int, residual: float) -> None:
        super().__init__(
            f"{algorithm} did not converge in {max_iter} iterations (residual {residual:.3g})",
            hint="raise max_iter or loosen tol",
        )
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.residual = residual


# --- the container -------------------------------------------------------------------------
def _frozen(values: ArrayLike, dtype: type[np.generic], name: str, length: int) -> Any:
    array = np.array(values, dtype=dtype, copy=True).reshape(-1)
    if array.shape[0] != length:
        raise InvalidGraphError(f"{name} has {array.shape[0]} values for {length} edges")
    array.setflags(write=False)
    return array


def _as_seconds(value: object) -> float:
    if isinstance(value, datetime):
        # Naive datetimes are taken as UTC so that the same export gives the same seconds on
        # every machine, whatever its local zone.
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False, repr=False)
class GraphData:
    """Nodes and edges as arrays; the shared input of every in-process algorithm.

    Parameters
    ----------
    node_ids : sequence of str
        Unique node ids; position ``i`` is node ``i``.
    src, dst : array of int
        Edge endpoints as indices into ``node_ids``.
    directed : bool
        Whether ``src -> dst`` differs from ``dst -> src``.
    weight, time, amount : array of float, optional
        Per-edge values aligned with ``src``; ``time`` is seconds since the Unix epoch.

    Examples
    --------
    >>> g = GraphData.from_edges([("a", "b"), ("b", "c")], weight=[2.0, 1.0])
    >>> g.n_nodes, g.n_edges, g.index_of("c")
    (3, 2, 2)
    >>> g.to_csr().toarray()
    array([[0., 2., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """

    node_ids: tuple[str, ...]
    src: Int64Array
    dst: Int64Array
    directed: bool = True
    weight: Float64Array | None = None
    time: Float64Array | None = None
    amount: Float64Array | None = None

    def __post_init__(self) -> None:
        ids = tuple(str(node) for node in self.node_ids)
        object.__setattr__(self, "node_ids", ids)
        src = np.array(self.src, dtype=np.int64, copy=True).reshape(-1)
        src.setflags(write=False)
        object.__setattr__(self, "src", src)
        m = src.shape[0]
        object.__setattr__(self, "dst", _frozen(self.dst, np.int64, "dst", m))
        for name in ("weight", "time", "amount"):
            values = getattr(self, name)
            if values is not None:
                object.__setattr__(self, name, _frozen(values, np.float64, name, m))
        n = len(ids)
        if m and (
            min(int(src.min()), int(self.dst.min())) < 0
            or max(int(src.max()), int(self.dst.max())) >= n
        ):
            raise InvalidGraphError(f"an edge endpoint is outside the {n} nodes")
        if len(set(ids)) != n:
            raise InvalidGraphError("node ids are not unique")
        for name in ("weight", "time", "amount"):
            values = getattr(self, name)
            if values is not None and not np.all(np.isfinite(values)):
                raise InvalidGraphError(f"{name} has NaN or infinite values")

    def __repr__(self) -> str:
        present = [name for name in ("weight", "time", "amount") if getattr(self, name) is not None]
        return (
            f"GraphData(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
            f"directed={self.directed}, attributes={present})"
        )

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        node_ids: Iterable[str],
        src: ArrayLike,
        dst: ArrayLike,
        *,
        directed: bool = True,
        weight: ArrayLike | None = None,
        time: ArrayLike | None = None,
        amount: ArrayLike | None = None,
    ) -> GraphData:
        """Build from index arrays of any integer or float dtype (converted and checked).

        Examples
        --------
        >>> GraphData.from_arrays(["a", "b"], [0], [1], amount=[7]).amount
        array([7.])
        """
        return cls(
            node_ids=tuple(node_ids),
            src=np.asarray(src, dtype=np.int64),
            dst=np.asarray(dst, dtype=np.int64),
            directed=directed,
            weight=None if weight is None else np.asarray(weight, dtype=np.float64),
            time=None if time is None else np.asarray(time, dtype=np.float64),
            amount=None if amount is None else np.asarray(amount, dtype=np.float64),
        )

    @classmethod
    def from_edges(
        cls,
        edges: Iterable[tuple[str, str]],
        *,
        nodes: Iterable[str] = (),
        directed: bool = True,
        weight: Sequence[float] | ArrayLike | None = None,
        time: Sequence[float | date | datetime] | ArrayLike | None = None,
        amount: Sequence[float] | ArrayLike | None = None,
    ) -> GraphData:
        """Build from ``(source_id, target_id)`` pairs and per-edge value sequences.

        ``nodes`` lists ids that come first and may have no edges; the others are numbered in
        order of first appearance. ``time`` accepts numbers (epoch seconds), dates and
        datetimes (naive ones are UTC).

        Examples
        --------
        >>> g = GraphData.from_edges([("x", "y")], nodes=["z"], directed=False)
        >>> g.node_ids
        ('z', 'x', 'y')
        """
        index: dict[str, int] = {}
        for node in nodes:
            index.setdefault(str(node), len(index))
        src: list[int] = []
        dst: list[int] = []
        for source, target in edges:
            src.append(index.setdefault(str(source), len(index)))
            dst.append(index.setdefault(str(target), len(index)))
        times: ArrayLike | None = None
        if time is not None:
            times = [_as_seconds(value) for value in time]  # type: ignore[union-attr]
        return cls.from_arrays(
            tuple(index), src, dst, directed=directed, weight=weight, time=times, amount=amount
        )

    @classmethod
    def from_networkx(
        cls,
        graph: nx.Graph,
        *,
        weight: str | None = "weight",
        time: str | None = None,
        amount: str | None = None,
    ) -> GraphData:
        """Build from a networkx graph; node ids become ``str(node)``.

        An attribute name that is ``None`` is not read; a missing attribute on an edge reads
        as 1.0 for ``weight`` and 0.0 otherwise.

        Examples
        --------
        >>> import networkx as nx
        >>> GraphData.from_networkx(nx.path_graph(3)).n_edges
        2
        """
        nodes = list(graph.nodes)
        position = {node: i for i, node in enumerate(nodes)}
        edges = list(graph.edges(data=True))

        def column(name: str | None, default: float) -> Float64Array | None:
            if name is None:
                return None
            return np.fromiter(
                (float(data.get(name, default)) for _, _, data in edges),
                dtype=np.float64,
                count=len(edges),
            )

        has_weight = weight is not None and any(weight in data for _, _, data in edges)
        return cls(
            node_ids=tuple(str(node) for node in nodes),
            src=np.fromiter((position[u] for u, _, _ in edges), np.int64, len(edges)),
            dst=np.fromiter((position[v] for _, v, _ in edges), np.int64, len(edges)),
            directed=graph.is_directed(),
            weight=column(weight, 1.0) if has_weight else None,
            time=column(time, 0.0),
            amount=column(amount, 0.0),
        )

    # --- look-ups --------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return int(self.src.shape[0])

    @cached_property
    def _index(self) -> dict[str, int]:
        return {node: i for i, node in enumerate(self.node_ids)}

    def index_of(self, node_id: str) -> int:
        """Position of ``node_id``; raises :class:`UnknownNodeError` if it is absent."""
        try:
            return self._index[node_id]
        except KeyError:
            raise UnknownNodeError(node_id) from None

    def indices_of(self, node_ids: Iterable[str]) -> Int64Array:
        """Positions of several node ids, in the order given."""
        return np.fromiter((self.index_of(node) for node in node_ids), dtype=np.int64)

    def edge_weights(self) -> Float64Array:
        """``weight``, or ones when the graph is unweighted."""
        if self.weight is None:
            return np.ones(self.n_edges, dtype=np.float64)
        return self.weight

    # --- derived views ---------------------------------------------------------------------
    def with_edges(
        self,
        keep: NDArray[np.bool_] | Int64Array,
        *,
        directed: bool | None = None,
    ) -> GraphData:
        """The same nodes with only the edges selected by a mask or index array."""
        # The nodes are this graph's, already checked: skip __post_init__'s validation and
        # share the id index instead of rebuilding it for every derived view.
        view = object.__new__(GraphData)
        values: dict[str, object] = {
            "node_ids": self.node_ids,
            "directed": self.directed if directed is None else directed,
        }
        for name in ("src", "dst", "weight", "time", "amount"):
            array = getattr(self, name)
            if array is not None:
                array = array[keep]
                array.setflags(write=False)
            values[name] = array
        for name, value in values.items():
            object.__setattr__(view, name, value)
        if "_index" in self.__dict__:
            view.__dict__["_index"] = self.__dict__["_index"]
        return view

    def to_csr(self, *, weighted: bool = True, symmetric: bool | None = None) -> Any:
        """Adjacency as a ``scipy.sparse.csr_array``; parallel edges are summed.

        ``symmetric`` defaults to ``not directed``: an undirected edge then appears in both
        triangles (a self-loop once, on the diagonal), which is networkx's adjacency matrix.
        """
        n = self.n_nodes
        values = self.edge_weights() if weighted else np.ones(self.n_edges)
        matrix = sp.csr_array((values, (self.src, self.dst)), shape=(n, n))
        if symmetric if symmetric is not None else not self.directed:
            diagonal = sp.diags_array(matrix.diagonal(), format="csr")
            matrix = (matrix + matrix.T - diagonal).tocsr()
        matrix.sum_duplicates()
        return matrix

    def to_networkx(self, *, multigraph: bool = False) -> nx.Graph:
        """A networkx graph with string node ids; the reference oracle in tests.

        Edge attributes are ``weight``, ``time`` and ``amount`` when present. Without
        ``multigraph`` parallel edges collapse into one with summed weight and amount and the
        earliest time.
        """
        import networkx as nx

        if multigraph:
            graph: nx.Graph = nx.MultiDiGraph() if self.directed else nx.MultiGraph()
        else:
            graph = nx.DiGraph() if self.directed else nx.Graph()
        graph.add_nodes_from(self.node_ids)
        ids = self.node_ids
        for e in range(self.n_edges):
            u, v = ids[self.src[e]], ids[self.dst[e]]
            data: dict[str, float] = {}
            if self.weight is not None:
                data["weight"] = float(self.weight[e])
            if self.time is not None:
                data["time"] = float(self.time[e])
            if self.amount is not None:
                data["amount"] = float(self.amount[e])
            if not multigraph and graph.has_edge(u, v):
                old = graph[u][v]
                for key in ("weight", "amount"):
                    if key in data:
                        data[key] += old[key]
                if "time" in data:
                    data["time"] = min(data["time"], old["time"])
            graph.add_edge(u, v, **data)
        return graph


def whole_minor(amounts: Float64Array) -> list[int]:
    """Edge amounts as Python ints; they must be whole minor units (never fractions of 分)."""
    if not np.all(amounts == np.round(amounts)):
        raise InvalidGraphError("amounts must be whole minor units (integers), not fractions")
    return [int(a) for a in amounts.tolist()]
