"""The explorer page as served, and the links that open it (no database needed)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.explorer import router as explorer_router
from api.explorer.links import explorer_links, explorer_url, print_explorer_links
from api.security.auth import Role
from api.security.tokens import TokenVerifier
from graph.settings import CrkgSettings, Environment
from tests.support.settings import SOUND_PRODUCTION, settings_in

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(tmp_path: Path) -> CrkgSettings:
    return CrkgSettings(_env_file=None, environment=Environment.TEST, data_dir=tmp_path)


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    explorer_router.mount_explorer(app)
    return TestClient(app)


def test_a_link_carries_the_token_in_the_fragment_never_the_query(settings: CrkgSettings) -> None:
    links = explorer_links(settings, "http://127.0.0.1:8000", "RM0001")
    assert [link.role for link in links] == [Role.RM, Role.MARKETER, Role.RISK, Role.ADMIN]
    verifier = TokenVerifier.from_settings(settings)
    for link in links:
        parts = urlsplit(link.url)
        assert (parts.path, parts.query) == ("/explorer", "")
        token = parts.fragment.removeprefix("token=")
        assert parts.fragment == f"token={token}"
        principal = verifier.principal_from_authorization_header(f"Bearer {token}")
        assert (principal.role, principal.subject) == (link.role, link.subject)
    assert links[0].subject == "RM0001"
    assert explorer_url("http://h:1/", "a+b/c") == "http://h:1/explorer#token=a%2Bb%2Fc"


def test_production_prints_the_address_and_mints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production = settings_in(tmp_path, **SOUND_PRODUCTION)
    print_explorer_links(production, "0.0.0.0", 8000)  # noqa: S104 - what the image binds
    printed = capsys.readouterr().out
    assert "http://127.0.0.1:8000/explorer" in printed
    assert "#token=" not in printed


def test_the_page_is_served_with_a_policy_that_allows_only_this_origin(client: TestClient) -> None:
    response = client.get("/explorer")
    assert response.status_code == 200, "run make install (npm run build) first"
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "connect-src", "font-src"):
        assert directives[directive] == ["'self'"], directive
    assert set(directives["img-src"]) == {"'self'", "data:", "blob:"}  # the page's PNG exports
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    # the page names only its own assets, by path
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources
    assert all(s.startswith("/explorer/assets/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/explorer/", follow_redirects=False).headers["location"] == "/explorer"


def test_the_built_page_names_no_other_origin(client: TestClient) -> None:
    static = explorer_router.STATIC_DIR
    for name in ("explorer.js", "explorer.css", "index.html"):
        text = (static / name).read_text(encoding="utf-8")
        assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, flags=re.I), name
        assert "@import" not in text, name
        assert "@font-face" not in text, name


def test_an_unbuilt_page_says_how_to_build_it(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explorer_router, "MANIFEST", tmp_path / "missing.json")
    response = client.get("/explorer")
    assert response.status_code == 503
    assert "make install" in response.text


def test_the_build_runs_in_make_in_ci_and_in_the_image() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^install: .*\$\(EXPLORER\)", makefile, flags=re.M)
    assert "$(NPM) run --silent build:explorer" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM node:20\S* AS assets$", dockerfile, flags=re.M)
    assert "COPY --from=assets /build/api/explorer/static ./api/explorer/static" in dockerfile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "chromium" in ci
    assert "fonts-noto-cjk" in ci
    assert ci.index("apt-get install") < ci.index("make test")
