"""The explorer page in a real Chromium (Debian's, driven by Playwright) on a loaded known bank.

One generated bank (planted circles, rings, cycles, groups) is loaded and its algorithms run
once for the module; the real API serves it from a background thread on a free loopback port;
every test opens the page as one role through the link `crkg serve` prints (token in the URL
fragment) and drives it through the `window.crkgExplorer` hook and real clicks. What the page
draws is compared with what the same API answers to the GraphQL queries a person would write.

Screenshots of each view go to CRKG_EXPLORER_SHOTS (default: this run's tmp dir).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from neo4j import AsyncDriver

from algorithms.runner import run_algorithm
from api.explorer.router import CSP
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings
from graph.store import GraphStore
from synthbank.bank import generate_bank
from tests.conftest import load_into_empty_db
from tests.integration.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Opened,
    downloaded,
    graphql,
    open_page,
    served_api,
)

pytestmark = pytest.mark.db

CUSTOMERS = 2_500
SEED = 23
ALGORITHMS = [
    "segmentation",
    "louvain",
    "pagerank",
    "degree",
    "guarantee_circles",
    "identifier_rings",
    "fund_cycles",
    "control_groups",
    "exposure",
]
CJK = re.compile(r"[\u3400-\u9fff]")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explorer-bank") / "export"
    generate_bank(out, customers=CUSTOMERS, seed=SEED)
    return out


@pytest.fixture(scope="module")
def most_held_product(bank: Path) -> str:
    return Counter(r["product_id"] for r in _rows(bank / "holdings.csv")).most_common(1)[0][0]


@pytest.fixture(scope="module")
async def loaded(
    driver: AsyncDriver,
    test_settings: CrkgSettings,
    bank: Path,
    most_held_product: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> GraphStore:
    store = await load_into_empty_db(driver, test_settings, bank, tmp_path_factory.mktemp("rej"))
    for name in ALGORITHMS:
        await run_algorithm(store, test_settings, name)
    await run_algorithm(
        store, test_settings, "referral_targets", {"product_id": most_held_product, "top_n": 100}
    )
    return store


@pytest.fixture(scope="module")
def base(loaded: GraphStore, test_settings: CrkgSettings) -> Iterator[str]:
    with served_api(test_settings) as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("CRKG_EXPLORER_SHOTS")
    return Path(configured) if configured else tmp_path_factory.mktemp("explorer-shots")


@pytest.fixture(scope="module")
def customers(bank: Path) -> dict[str, dict[str, str]]:
    return {r["customer_id"]: r for r in _rows(bank / "customers.csv")}


@pytest.fixture(scope="module")
def rm_id(customers: dict[str, dict[str, str]]) -> str:
    books = Counter(r["rm_id"] for r in customers.values() if r["rm_id"])
    return sorted(books, key=lambda rm: (-books[rm], rm))[0]


@pytest.fixture(scope="module")
def ties(bank: Path) -> dict[str, dict[str, float]]:
    """Each customer's neighbours and the strongest tie strength to each."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for r in _rows(bank / "social.csv"):
        s = float(r["strength"]) if r["strength"] else 1.0
        a, b = r["src_id"], r["dst_id"]
        found[a][b] = max(found[a].get(b, 0.0), s)
        found[b][a] = max(found[b].get(a, 0.0), s)
    return found


@pytest.fixture(scope="module")
def centre(ties: dict[str, dict[str, float]]) -> str:
    """A customer with a handful of ties, some of whose neighbours have many."""
    candidates = [
        c
        for c, n in sorted(ties.items())
        if 6 <= len(n) <= 12 and sum(len(ties[x]) > 12 for x in n) >= 2
    ]
    assert candidates
    return candidates[0]


def _token(settings: CrkgSettings, role: Role, subject: str) -> str:
    return mint_token(settings, role=role, subject=subject)


async def _open(
    browser: Any, base: str, settings: CrkgSettings, role: Role, subject: str
) -> Opened:
    return await open_page(browser, base, settings, role, subject)


# --- 1. no request leaves the origin ---------------------------------------------------------
async def test_no_request_leaves_the_origin(
    browser: Any,
    base: str,
    test_settings: CrkgSettings,
    centre: str,
    most_held_product: str,
    bank: Path,
    shots: Path,
) -> None:
    page = await _open(browser, base, test_settings, Role.ADMIN, "admin-test")
    # the token left the address at once, and is in no storage
    assert "#" not in page.page.url
    assert page.token not in page.page.url
    kept = await page.page.evaluate(
        "() => [localStorage.length, sessionStorage.length, document.cookie]"
    )
    assert kept == [0, 0, ""]
    circle = _jsonl(bank / "ground_truth" / "guarantee_circles.jsonl")[0]["members"]
    for view, args in [
        ("neighbourhood", {"customerId": centre, "depth": 2}),
        ("communities", {"customerId": centre, "depth": 2}),
        ("paths", {"fromId": centre, "toId": circle[0], "k": 2}),
        ("referral", {"productId": most_held_product, "first": 10}),
        ("risk", {"list": "circles"}),
        ("risk", {"customerId": circle[0]}),
        ("exposure", {"customerId": circle[0], "hops": 2, "direction": "BOTH"}),
        ("group", {"customerId": circle[0]}),
    ]:
        await page.show(view, args)
    await page.page.click("#tabs [data-view=neighbourhood]")
    await page.show("neighbourhood", {"customerId": centre})
    node = (await page.graph())["nodes"][0]
    box = await page.page.locator("#graph").bounding_box()
    await page.page.mouse.click(box["x"] + node["rendered"]["x"], box["y"] + node["rendered"]["y"])
    await page.page.wait_for_selector("#details[data-loaded]")
    await downloaded(page, "#export-png")
    await downloaded(page, "#export-csv")
    await page.page.click("#lang")

    origin = urlsplit(base)
    outside = [
        u
        for u in page.requests
        if urlsplit(u).scheme not in ("data", "blob")
        and (urlsplit(u).scheme, urlsplit(u).netloc) != (origin.scheme, origin.netloc)
    ]
    assert outside == [], outside
    assert any(u.endswith("/graphql") for u in page.requests)
    hooked = await page.hook("(h) => h.lastRequests()")
    assert hooked
    assert all(u.startswith(base) for u in hooked), hooked
    assert f"{base}/explorer/assets/explorer.js" in hooked
    assert all(page.token not in u for u in page.requests), "the token travelled in a URL"
    assert await page.page.evaluate("() => window.__cspViolations") == []
    assert not [m for m in page.console if m.startswith(("error", "pageerror"))], page.console
    # the policy the page is served with: nothing from or to any other origin
    assert page.page_headers["content-security-policy"] == CSP
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == directives["script-src"] == "'self'"
    assert "unsafe-inline" not in CSP
    assert "unsafe-eval" not in CSP
    assert page.page_headers["referrer-policy"] == "no-referrer"
    await page.context.close()


# --- 2. the neighbourhood drawn equals the GraphQL answer -------------------------------------
CONNECTIONS = """
query($id: ID!, $depth: Int!, $types: [TieType!], $min: Float, $first: Int) {
  connections(customerId: $id, depth: $depth, types: $types, minStrength: $min, first: $first) {
    truncated
    center { id name { value masked } communities { algorithm communityId } scores { pagerank degree } }
    nodes { hops customer { id name { value masked } communities { algorithm communityId }
                            scores { pagerank degree } } }
    ties { fromId toId kind strength since }
  }
}"""


async def test_the_neighbourhood_drawn_is_the_graphql_answer(
    browser: Any,
    base: str,
    test_settings: CrkgSettings,
    centre: str,
    rm_id: str,
    shots: Path,
) -> None:
    page = await _open(browser, base, test_settings, Role.RM, rm_id)
    truncated_seen: list[bool] = []
    for depth, types, strength, first in [
        (2, ["FAMILY", "FRIEND", "COLLEAGUE", "CLASSMATE"], 0.3, 120),
        (1, [], 0.0, 500),
        (3, ["FRIEND", "COLLEAGUE", "FAMILY"], 0.2, 40),
    ]:
        await page.show(
            "neighbourhood",
            {
                "customerId": centre,
                "depth": depth,
                "types": types,
                "minStrength": strength,
                "maxNodes": first,
            },
        )
        drawn = await page.graph()
        answer = graphql(
            base,
            page.token,
            CONNECTIONS,
            id=centre,
            depth=depth,
            types=types or None,
            min=strength,
            first=first,
        )["connections"]
        expected = {answer["center"]["id"]: (0, answer["center"]["name"])} | {
            n["customer"]["id"]: (n["hops"], n["customer"]["name"]) for n in answer["nodes"]
        }
        nodes = {n["id"]: n for n in drawn["nodes"]}
        assert set(nodes) == set(expected), (depth, set(nodes) ^ set(expected))
        assert len(drawn["nodes"]) == len(nodes)  # no node twice
        for customer_id, (hops, name) in expected.items():
            data = nodes[customer_id]["data"]
            assert data["hop"] == hops, customer_id
            assert (data["label"], data["masked"]) == (name["value"], name["masked"]), customer_id
        assert "center" in nodes[centre]["classes"]
        assert sum("center" in n["classes"] for n in drawn["nodes"]) == 1
        drawn_edges = Counter((e["source"], e["target"], e["kind"]) for e in drawn["edges"])
        expected_edges = Counter((t["fromId"], t["toId"], t["kind"]) for t in answer["ties"])
        assert drawn_edges == expected_edges, depth
        strengths = {
            (e["source"], e["target"], e["kind"]): e["data"]["strength"] for e in drawn["edges"]
        }
        for t in answer["ties"]:
            if t["strength"] is not None:
                assert strengths[(t["fromId"], t["toId"], t["kind"])] == pytest.approx(
                    t["strength"]
                )
        assert drawn["truncated"] == answer["truncated"], depth
        truncated_seen.append(answer["truncated"])
        if depth == 2:
            await page.shot(shots, "neighbourhood")
    assert truncated_seen == [False, False, True]  # the cut, too, is the API's
    await page.context.close()


# --- 3. expanding adds exactly the expected neighbours and keeps positions --------------------
def _strongest(ties: dict[str, dict[str, float]], customer: str) -> list[str]:
    return [n for n, _ in sorted(ties[customer].items(), key=lambda x: (-x[1], x[0]))]


def _isolated(drawn: dict[str, Any], candidates: set[str]) -> dict[str, Any]:
    """Of ``candidates``, the drawn node farthest (on screen) from every other node."""

    def room(n: dict[str, Any]) -> float:
        return min(
            (n["rendered"]["x"] - o["rendered"]["x"]) ** 2
            + (n["rendered"]["y"] - o["rendered"]["y"]) ** 2
            for o in drawn["nodes"]
            if o["id"] != n["id"]
        )

    return max((n for n in drawn["nodes"] if n["id"] in candidates), key=room)


async def _dblclick(page: Opened, node: dict[str, Any]) -> None:
    box = await page.page.locator("#graph").bounding_box()
    await page.page.mouse.dblclick(
        box["x"] + node["rendered"]["x"], box["y"] + node["rendered"]["y"]
    )
    await page.page.wait_for_timeout(50)
    await page.hook("(h) => h.ready()")


async def test_expanding_adds_exactly_the_strongest_neighbours_and_keeps_positions(
    browser: Any,
    base: str,
    test_settings: CrkgSettings,
    centre: str,
    ties: dict[str, dict[str, float]],
    shots: Path,
) -> None:
    step = 5
    page = await _open(browser, base, test_settings, Role.MARKETER, "mkt-test")
    await page.show("neighbourhood", {"customerId": centre, "depth": 1, "expandStep": step})
    before = await page.graph()
    drawn = {n["id"] for n in before["nodes"]}
    big = {n for n in drawn if n != centre and len(ties[n]) > 2 * step}
    assert big, "no neighbour with more ties than two expansion steps"
    target = _isolated(before, big)
    await _dblclick(page, target)
    after = await page.graph()
    ids = [n["id"] for n in after["nodes"]]
    assert len(ids) == len(set(ids)), "a node drawn twice"
    edge_ids = [e["id"] for e in after["edges"]]
    assert len(edge_ids) == len(set(edge_ids)), "an edge drawn twice"
    order = _strongest(ties, target["id"])
    expected = [n for n in order[:step] if n not in drawn]
    assert set(ids) - drawn == set(expected)
    for n in before["nodes"]:  # nothing that was drawn moved
        moved = next(m for m in after["nodes"] if m["id"] == n["id"])
        assert moved["position"] == n["position"], n["id"]
    pairs = {frozenset((e["source"], e["target"])) for e in after["edges"]}
    for n in expected:
        assert frozenset((target["id"], n)) in pairs, f"tie {target['id']}–{n} not drawn"
    # "show more": the next strongest, again without the ones already drawn
    await page.page.wait_for_selector("#show-more")
    await page.page.click("#show-more")
    await page.hook("(h) => h.ready()")
    more = await page.graph()
    now = {n["id"] for n in more["nodes"]}
    had = set(ids)
    assert now - had == {n for n in order[step : 2 * step] if n not in had}
    assert len(more["nodes"]) == len(now)
    for n in after["nodes"]:
        assert next(m for m in more["nodes"] if m["id"] == n["id"])["position"] == n["position"]
    await page.shot(shots, "neighbourhood-expanded")
    await page.context.close()


# --- 8. a marketer never sees an unmasked phone or id number ----------------------------------
async def _png_pixels(page: Opened, png: bytes) -> list[int]:
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    pixels: list[int] = await page.page.evaluate(
        """async (src) => {
            const image = new Image(); image.src = src; await image.decode();
            const canvas = document.createElement('canvas');
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext('2d'); context.drawImage(image, 0, 0);
            const d = context.getImageData(0, 0, image.width, image.height).data;
            let hash = 0; for (let i = 0; i < d.length; i += 1) hash = (hash * 31 + d[i]) | 0;
            return [image.width, image.height, hash];
        }""",
        data,
    )
    return pixels


async def test_a_marketer_sees_no_unmasked_phone_or_id_number_anywhere(
    browser: Any,
    base: str,
    test_settings: CrkgSettings,
    centre: str,
    customers: dict[str, dict[str, str]],
    most_held_product: str,
    shots: Path,
) -> None:
    page = await _open(browser, base, test_settings, Role.MARKETER, "mkt-test")
    texts: list[str] = []
    graphs: list[str] = []
    await page.show("neighbourhood", {"customerId": centre, "depth": 2})
    drawn = await page.graph()
    # the PNG is the drawing of exactly the masked data read here: drawn again from that
    # snapshot alone (its labels, positions, classes) in a fresh page it gives the same pixels
    png = await downloaded(page, "#export-png")
    restored = await _open(browser, base, test_settings, Role.MARKETER, "mkt-test")
    await restored.show("snapshot", {"graph": drawn})
    png_again = await downloaded(restored, "#export-png")
    (shots / "export-marketer.png").write_bytes(png)
    (shots / "export-marketer-again.png").write_bytes(png_again)
    assert await _png_pixels(page, png) == await _png_pixels(page, png_again)
    await restored.context.close()
    node = _isolated(drawn, {centre})
    box = await page.page.locator("#graph").bounding_box()
    await page.page.mouse.click(box["x"] + node["rendered"]["x"], box["y"] + node["rendered"]["y"])
    await page.page.wait_for_selector(f"#details[data-loaded='{centre}']")
    details = await page.page.inner_text("#details")
    assert "masked" in details  # the badge says so
    texts.append(await page.body_text())
    graphs.append(json.dumps(drawn, ensure_ascii=False))
    exported_csv = (await downloaded(page, "#export-csv")).decode("utf-8-sig")

    await page.show("referral", {"productId": most_held_product, "first": 20})
    texts.append(await page.body_text())
    graphs.append(json.dumps(await page.graph(), ensure_ascii=False))
    await page.shot(shots, "referral-marketer")
    await page.show("communities", {"customerId": centre, "depth": 2, "sizeBy": "DEGREE"})
    texts.append(await page.body_text())
    graphs.append(json.dumps(await page.graph(), ensure_ascii=False))
    exported_csv += (await downloaded(page, "#export-csv")).decode("utf-8-sig")

    assert page.responses, "no API answer was captured"
    everything = {
        "page text": "\n".join(texts),
        "node data": "\n".join(graphs),
        "network": "\n".join(body for _, body in page.responses),
        "CSV export": exported_csv,
    }
    masked_seen = 0
    for where, text in everything.items():
        masked_seen += text.count("****")
        for customer_id, row in customers.items():
            for column in ("phone", "id_number", "email"):
                value = row[column]
                if len(value) >= 6:
                    assert value not in text, f"{column} of {customer_id} in the {where}"
    assert masked_seen > 0  # the masked values are there, as masked
    await page.context.close()


# --- 9. the zh/en switch changes every label; a CJK font is present ----------------------------
LABELS = """() => [
  ...[...document.querySelectorAll('[data-i18n], [data-i18n-placeholder], [data-i18n-title]')]
    .filter((el) => el.getClientRects().length > 0 || el.dataset.i18nPlaceholder)
    .map((el) => ({key: el.dataset.i18n || el.dataset.i18nPlaceholder || el.dataset.i18nTitle,
                   text: el.dataset.i18n ? el.textContent : (el.placeholder || el.title)})),
  ...[...document.querySelectorAll('#controls option')].map((el) => ({key: 'option ' + el.value, text: el.textContent})),
  {key: 'status', text: document.getElementById('status').textContent},
  {key: 'time', text: document.getElementById('time-value').textContent},
]"""


async def test_the_language_switch_changes_every_label_and_chinese_has_a_cjk_font(
    browser: Any,
    base: str,
    test_settings: CrkgSettings,
    centre: str,
    customers: dict[str, dict[str, str]],
    shots: Path,
) -> None:
    page = await _open(browser, base, test_settings, Role.ADMIN, "admin-test")
    await page.show("neighbourhood", {"customerId": centre, "depth": 1})
    await page.page.wait_for_selector(f"#details[data-loaded='{centre}']")
    seen: dict[str, list[dict[str, str]]] = {}
    edge_labels: dict[str, dict[str, str]] = {}
    for tab in ("neighbourhood", "communities", "paths", "referral", "risk"):
        await page.page.click(f"#tabs [data-view={tab}]")
        seen.setdefault("en", []).extend(await page.page.evaluate(LABELS))
    edge_labels["en"] = {e["id"]: e["data"]["label"] for e in (await page.graph())["edges"]}
    await page.page.click("#lang")
    for tab in ("neighbourhood", "communities", "paths", "referral", "risk"):
        await page.page.click(f"#tabs [data-view={tab}]")
        seen.setdefault("zh", []).extend(await page.page.evaluate(LABELS))
    edge_labels["zh"] = {e["id"]: e["data"]["label"] for e in (await page.graph())["edges"]}
    assert len(seen["en"]) == len(seen["zh"]) > 60
    unchanged = [
        (en["key"], en["text"])
        for en, zh in zip(seen["en"], seen["zh"], strict=True)
        # the switch itself names the other language
        if en["key"] != "header.lang" and (en["text"] == zh["text"] or not CJK.search(zh["text"]))
    ]
    assert unchanged == []
    assert all(CJK.search(label) for label in edge_labels["zh"].values() if label)
    assert edge_labels["zh"] != edge_labels["en"]
    assert await page.page.evaluate("() => document.documentElement.lang") == "zh-Hans"

    # the glyphs Chromium really used for a Chinese name in the details panel
    name = customers[centre]["name"]
    assert CJK.search(name)
    cdp = await page.context.new_cdp_session(page.page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    document = await cdp.send("DOM.getDocument", {"depth": -1})
    found = await cdp.send(
        "DOM.querySelector",
        {
            "nodeId": document["root"]["nodeId"],
            "selector": "#details tr[data-field=name] td:last-child",
        },
    )
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]})
    families = {f["familyName"] for f in fonts["fonts"]}
    assert any("CJK" in f for f in families), families
    await page.shot(shots, "neighbourhood-zh")
    await page.page.click("#lang")  # and back: English again everywhere
    back = await page.page.evaluate(LABELS)
    assert not [x for x in back if CJK.search(x["text"]) and x["key"] != "header.lang"]
    await page.context.close()
