"""A GraphQL client for the integration tests: one role's token, JSON over the test client."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.graphql.router import ROUND_TRIPS_HEADER
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings


class Api:
    """A client holding one role's token."""

    def __init__(self, client: TestClient, token: str | None) -> None:
        self.client = client
        self.token = token
        self.last_round_trips: int | None = None

    def post(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        trips = response.headers.get(ROUND_TRIPS_HEADER)
        self.last_round_trips = None if trips is None else int(trips)
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.post(query, **variables)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def errors(self, query: str, **variables: Any) -> list[dict[str, Any]]:
        """The errors of a request that must fail (the test fails if there are none)."""
        body = self.post(query, **variables)
        errors: list[dict[str, Any]] = body.get("errors") or []
        assert errors, f"expected errors, got {body}"
        return errors


def api_for(client: TestClient, settings: CrkgSettings, role: Role, subject: str) -> Api:
    return Api(client, mint_token(settings, role=role, subject=subject))


def codes(errors: list[dict[str, Any]]) -> set[str]:
    return {str((e.get("extensions") or {}).get("code")) for e in errors}
