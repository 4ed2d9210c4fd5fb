"""Risk linkages: shared-identifier rings and control groups here; guarantee circles and
fund-flow cycles in :mod:`algorithms.inproc.cycles`.

Amounts are integer *minor units* (分, see ``graph/money.py``): the edge ``amount`` arrays
hold whole numbers (exact in float64 up to 2**53) and sums are Python integers (exposure, in
``algorithms.inproc.exposure``, decays them with exact fractions).

What each stored linkage's ``score`` means (``RiskLinkage.score``):

* ``IDENTIFIER_RING``: :attr:`IdentifierRing.score`, the mean number of identifier-sharing
  links per member (1 for two customers on one phone, 9 for ten on one device); the ring
  also stores ``shared_kinds`` (which identifier kinds are shared) and ``identifier_count``.
* ``GUARANTEE_CIRCLE``, ``FUND_CYCLE``, ``CONTROL_GROUP``: no score (null); their size is
  ``size``, their money ``amount_minor`` (circles and cycles: the sum of their guarantees or
  transfers; cycles also ``min_amount_minor``, the most that can have gone all the way round)
  and, for control groups, ``loan_balance_minor``, ``guarantees_out_minor`` and
  ``total_exposure_minor`` (see :func:`control_group_exposure`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from algorithms.graphdata import GraphData, InvalidGraphError

__all__ = [
    "IdentifierRing",
    "RelatedPartyGroup",
    "control_group_exposure",
    "related_party_groups",
    "shared_identifier_rings",
]


@dataclass(frozen=True)
class IdentifierRing:
    """Customers linked through identifiers (phone, device, …) that two or more of them use.

    ``score`` is the mean number of identifier-sharing links per member,
    ``sum_i c_i (c_i - 1) / size`` over the ring's shared identifiers used by ``c_i``
    members: 1 for two customers sharing one phone, 9 for ten sharing one device.
    """

    members: tuple[str, ...]
    identifiers: tuple[str, ...]
    score: float

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def shared_kinds(self) -> tuple[str, ...]:
        """Kinds of the shared identifiers (``PHONE``, ``DEVICE`` …): an identifier key is
        ``KIND:hash``, so the kind is what comes before the first colon."""
        return tuple(sorted({i.split(":", 1)[0] for i in self.identifiers}))


@dataclass(frozen=True)
class RelatedPartyGroup:
    """A controller and the companies it controls through > threshold shareholding chains.

    ``ultimate`` says nobody controls the controller itself.
    """

    controller: str
    controlled: tuple[str, ...]
    ultimate: bool


# --- shared identifiers --------------------------------------------------------------------
def shared_identifier_rings(
    graph: GraphData,
    *,
    min_size: int = 2,
    max_sharing: int | None = None,
) -> list[IdentifierRing]:
    """Groups of customers connected through identifiers that several of them use.

    Parameters
    ----------
    graph : GraphData
        ``customer -> identifier`` edges (USES); a node may not be both.
    min_size : int
        Smallest ring (in customers) to report.
    max_sharing : int, optional
        Ignore identifiers used by more customers than this (an office switchboard or a
        bank branch address links people who have nothing to do with each other).

    Returns
    -------
    list of IdentifierRing
        Highest score first, then largest, then by members.

    Examples
    --------
    >>> uses = [("c1", "phone:1"), ("c2", "phone:1"), ("c2", "dev:9"), ("c3", "dev:9"),
    ...         ("c4", "dev:7")]
    >>> ring = shared_identifier_rings(GraphData.from_edges(uses))[0]
    >>> ring.members, ring.identifiers, ring.score
    (('c1', 'c2', 'c3'), ('dev:9', 'phone:1'), 1.3333333333333333)
    """
    if min_size < 2:
        raise InvalidGraphError(f"min_size must be at least 2, got {min_size}")
    n = graph.n_nodes
    if np.intersect1d(graph.src, graph.dst).shape[0]:
        raise InvalidGraphError("a node is used both as a customer and as an identifier")
    pairs = np.unique(graph.src * max(n, 1) + graph.dst)
    customer, identifier = pairs // max(n, 1), pairs % max(n, 1)
    users = np.bincount(identifier, minlength=n)
    shared = users[identifier] >= 2
    if max_sharing is not None:
        shared &= users[identifier] <= max_sharing
    customer, identifier = customer[shared], identifier[shared]
    if customer.shape[0] == 0:
        return []
    adjacency = sp.csr_array((np.ones(customer.shape[0]), (customer, identifier)), shape=(n, n))
    _, component = connected_components(adjacency, directed=False)

    is_customer = np.zeros(n, dtype=bool)
    is_customer[customer] = True
    is_identifier = np.zeros(n, dtype=bool)
    is_identifier[identifier] = True
    members_per = np.bincount(component[is_customer], minlength=n)
    link_weight = (users * (users - 1)).astype(np.float64)
    links_per = np.bincount(
        component[is_identifier], weights=link_weight[is_identifier], minlength=n
    )
    rings: list[IdentifierRing] = []
    grouped: dict[int, tuple[list[str], list[str]]] = {}
    for node in np.flatnonzero(is_customer | is_identifier).tolist():
        c = int(component[node])
        if members_per[c] >= min_size:
            group = grouped.setdefault(c, ([], []))
            group[0 if is_customer[node] else 1].append(graph.node_ids[node])
    for c, (members, identifiers) in grouped.items():
        rings.append(
            IdentifierRing(
                members=tuple(sorted(members)),
                identifiers=tuple(sorted(identifiers)),
                score=float(links_per[c] / members_per[c]),
            )
        )
    rings.sort(key=lambda ring: (-ring.score, -ring.size, ring.members))
    return rings


# --- control -------------------------------------------------------------------------------
def related_party_groups(
    graph: GraphData,
    *,
    threshold: float = 50.0,
    ultimate_only: bool = False,
) -> list[RelatedPartyGroup]:
    """Who controls which companies through shareholding chains.

    A holder controls a company when it holds more than ``threshold`` percent of it directly,
    or when its own holding plus those of the companies it already controls exceeds the
    threshold (A holds 30 % of D and controls B, which holds 30 %: A controls D).

    Parameters
    ----------
    graph : GraphData
        Directed ``holder -> company`` edges with ``weight`` = percent held (0-100];
        parallel holdings (share classes) add up.
    threshold : float
        Control needs strictly more than this percentage.
    ultimate_only : bool
        Only return controllers that nobody controls.

    Returns
    -------
    list of RelatedPartyGroup
        Largest group first, then by controller id.

    Examples
    --------
    >>> g = GraphData.from_edges(
    ...     [("A", "B"), ("B", "C"), ("A", "D"), ("B", "D")], weight=[60, 70, 30, 30]
    ... )
    >>> for group in related_party_groups(g):
    ...     print(group.controller, group.controlled, group.ultimate)
    A ('B', 'C', 'D') True
    B ('C',) False
    """
    if graph.weight is None:
        raise InvalidGraphError("related-party groups need the percentage held as weight")
    if not graph.directed:
        raise InvalidGraphError("shareholdings are directed: holder -> company")
    holdings = graph.with_edges(graph.src != graph.dst).to_csr()
    indptr, indices, data = holdings.indptr, holdings.indices, holdings.data
    # Only a holder with one direct majority stake can start a chain of control.
    rows = np.repeat(np.arange(graph.n_nodes), np.diff(indptr))
    largest = np.zeros(graph.n_nodes)
    np.maximum.at(largest, rows, data)
    controllers = np.flatnonzero(largest > threshold)
    groups: list[tuple[int, list[int]]] = []
    for controller in controllers.tolist():
        held: dict[int, float] = {}
        controlled: set[int] = set()
        pending = deque([controller])
        while pending:
            holder = pending.popleft()
            for position in range(indptr[holder], indptr[holder + 1]):
                company = int(indices[position])
                if company == controller:
                    continue
                held[company] = held.get(company, 0.0) + float(data[position])
                if company not in controlled and held[company] > threshold:
                    controlled.add(company)
                    pending.append(company)
        groups.append((controller, sorted(controlled)))
    controlled_by_someone = {company for _, members in groups for company in members}
    result = [
        RelatedPartyGroup(
            controller=graph.node_ids[controller],
            controlled=tuple(sorted(graph.node_ids[c] for c in members)),
            ultimate=controller not in controlled_by_someone,
        )
        for controller, members in groups
        if members and (controller not in controlled_by_someone or not ultimate_only)
    ]
    result.sort(key=lambda group: (-len(group.controlled), group.controller))
    return result


def control_group_exposure(
    members: Iterable[str],
    *,
    loan_balances: Mapping[str, int],
    guarantees: Iterable[tuple[str, str, int]],
) -> tuple[int, int, int]:
    """A related-party group's exposure in integer minor units.

    ``loan_balance`` is the sum of the members' outstanding LOAN-category holding balances
    (``loan_balances``: customer -> sum of their open loan balances); ``guarantees_out`` the
    sum of the guarantees (guarantor, borrower, amount) that a member gives for a borrower
    outside the group (guarantees inside the group back loans already counted);
    ``total_exposure`` is their sum: what the bank stands to lose if the group fails.

    Examples
    --------
    >>> control_group_exposure(
    ...     ["A", "B"],
    ...     loan_balances={"A": 500_00, "B": 250_00, "Z": 1},
    ...     guarantees=[("A", "Z", 100_00), ("B", "A", 70_00), ("Z", "B", 9)],
    ... )
    (75000, 10000, 85000)
    """
    inside = set(members)
    loans = sum(int(loan_balances.get(m, 0)) for m in inside)
    out = sum(int(a) for g, b, a in guarantees if g in inside and b not in inside)
    return loans, out, loans + out
