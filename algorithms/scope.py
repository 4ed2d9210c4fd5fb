"""Where an algorithm runs: the whole graph, or a scenario, a community, a branch, a tie window.

``crkg algo run NAME --scope scenario=S --scope window=2024-01-01..2024-12-31`` builds a
:class:`Scope`; conditions combine (a customer must meet all of them, a tie must join two
scoped customers and fall inside the window). The run records it as ``AlgorithmRun.scope_json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from graph.errors import CrkgError
from graph.repositories.projections import CustomerScope
from graph.results import COMMUNITY_PROPERTIES, community_property_of

# the algorithms whose partition a scope may name, from the result properties
CommunityAlgorithm = StrEnum(  # type: ignore[misc]
    "CommunityAlgorithm", {p.algorithm.upper(): p.algorithm for p in COMMUNITY_PROPERTIES}
)


class InvalidScopeError(CrkgError):
    exit_code = 2


class Scope(BaseModel):
    """A subgraph: customers meeting every given condition, ties between them.

    Examples
    --------
    >>> Scope.parse(["community=louvain:C12", "window=2024-01-01..2024-12-31"]).model_dump(
    ...     exclude_none=True, mode="json")
    {'community_algorithm': 'louvain', 'community_id': 'C12', 'since_from': '2024-01-01', \
'since_to': '2024-12-31'}
    >>> Scope().is_whole_graph
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario_id: str | None = None
    community_algorithm: CommunityAlgorithm | None = None
    community_id: str | None = None
    branch_id: str | None = None
    since_from: date | None = None  # ties whose `since` falls in [since_from, since_to]
    since_to: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.community_algorithm is None) != (self.community_id is None):
            raise ValueError("a community scope needs both the algorithm and the id")
        if self.since_from and self.since_to and self.since_from > self.since_to:
            raise ValueError("the window ends before it starts")
        return self

    @property
    def is_whole_graph(self) -> bool:
        return all(value is None for value in self.model_dump().values())

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Scope:
        """From ``scenario=S``, ``community=louvain:C12``, ``branch=B``, ``window=A..B``."""
        values: dict[str, object] = {}
        for text in texts:
            key, _, value = text.partition("=")
            key, value = key.strip(), value.strip()
            if not value:
                raise InvalidScopeError(
                    f"--scope {text!r} is not key=value",
                    hint="scenario=S, community=louvain:C12, branch=B, window=A..B (dates)",
                )
            if key == "scenario":
                values["scenario_id"] = value
            elif key == "branch":
                values["branch_id"] = value
            elif key == "community":
                algorithm, _, community = value.partition(":")
                values["community_algorithm"] = algorithm
                values["community_id"] = community or None
            elif key == "window":
                start, _, end = value.partition("..")
                values["since_from"] = start or None
                values["since_to"] = end or None
            else:
                raise InvalidScopeError(
                    f"unknown scope {key!r}", hint="scenario, community, branch or window"
                )
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(str(e["msg"]) for e in error.errors())
            raise InvalidScopeError(f"bad --scope: {problems}") from None

    def to_customer_scope(self) -> CustomerScope:
        return CustomerScope(
            scenario_id=self.scenario_id,
            branch_id=self.branch_id,
            community_property=(
                None
                if self.community_algorithm is None
                else community_property_of(self.community_algorithm.value).value
            ),
            community_id=self.community_id,
            since_from=self.since_from,
            since_to=self.since_to,
        )
