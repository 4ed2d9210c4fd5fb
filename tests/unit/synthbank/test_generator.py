"""The synthetic bank generator: contract shape, determinism, planted truth, bad rows, formats.

The checks read the written files back, as a loader would, and compare what they find with
``ground_truth/``: every planted structure is found, and nothing unplanted is.
"""

from __future__ import annotations

import csv
import doctest
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import pytest

from loaders.contract import ACCEPTED_ENUMS, FILE_ORDER, SPECS, FileSpec, RejectReason
from synthbank import bank as bank_module
from synthbank import vocab
from synthbank.bad_rows import CHECK_ORDER, PLANTED_REASONS
from synthbank.bank import generate_bank

REF_DATE = date(2026, 6, 30)
Row = dict[str, str]


# --- reading the files back -------------------------------------------------------------------
def read_csv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def records(path: Path) -> Iterator[tuple[int, Row | None]]:
    """(physical line, row) of a contract file; row is None where the bytes are not UTF-8."""
    fmt = path.suffix[1:]
    columns = SPECS[path.stem].columns
    if fmt == "parquet":
        for i, rec in enumerate(pq.read_table(path).to_pylist(), start=1):
            yield i, {k: "" if v is None else v for k, v in rec.items()}
        return
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "files end with a newline"
    if fmt == "csv":
        assert lines[0].decode("utf-8").split(",") == list(columns)
    first = 2 if fmt == "csv" else 1
    for i, raw in enumerate(lines[first - 1 : -1], start=first):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield i, None
            continue
        if fmt == "csv":
            values = text.split(",")
            assert len(values) == len(columns), f"{path.name}:{i} has {len(values)} fields"
            yield i, dict(zip(columns, values, strict=True))
        else:
            rec = json.loads(text)
            assert list(rec) == list(columns)
            yield i, {k: "" if v is None else v for k, v in rec.items()}


def _number(text: str, integer: bool) -> float | None:
    try:
        return float(int(text)) if integer else float(text)
    except ValueError:
        return None


def _row_reason(spec: FileSpec, row: Row | None, known: dict[str, set[str]]) -> str | None:
    """The first failing single-row check, in the documented order (None if the row is fine)."""
    if row is None:
        return RejectReason.BAD_UTF8
    if any(row[c] == "" for c in spec.required):
        return RejectReason.MISSING_REQUIRED
    if any(row[c] and row[c] not in ACCEPTED_ENUMS[e] for c, e in spec.enums.items()):
        return RejectReason.BAD_ENUM
    parsed = {c: _number(row[c], r.integer) for c, r in spec.numbers.items() if row[c]}
    if any(v is None for v in parsed.values()):
        return RejectReason.BAD_NUMBER
    if any(not spec.numbers[c].in_range(v) for c, v in parsed.items() if v is not None):
        return RejectReason.OUT_OF_RANGE
    for column, parse in [(c, date.fromisoformat) for c in spec.dates] + [
        (c, datetime.fromisoformat) for c in spec.datetimes
    ]:
        if row[column]:
            try:
                parse(row[column])
            except ValueError:
                return RejectReason.BAD_DATE
    for column in spec.booleans:
        assert row[column] in ("", "true", "false")
    if spec.loop and row[spec.loop[0]] == row[spec.loop[1]]:
        return RejectReason.SELF_LOOP
    if any(row[c] and row[c] not in known[target] for c, target in spec.refs.items()):
        return RejectReason.DANGLING_REFERENCE
    return None


def validate(folder: Path, ext: str) -> set[tuple[str, int, str]]:
    """A reference validator of the contract: every rejected (file, line, reason)."""
    known: dict[str, set[str]] = defaultdict(set)
    rejected: set[tuple[str, int, str]] = set()
    for name in FILE_ORDER:  # referenced files come first
        spec = SPECS[name]
        seen: set[tuple[str, ...]] = set()
        for line, row in records(folder / f"{name}.{ext}"):
            reason = _row_reason(spec, row, known)
            if reason is None and row is not None:
                key = tuple(row[c] for c in spec.key)
                if key in seen:
                    reason = RejectReason.DUPLICATE_KEY
                else:
                    seen.add(key)
                    if len(spec.key) == 1:
                        known[name].add(key[0])
            if reason is not None:
                rejected.add((f"{name}.{ext}", line, str(reason)))
    return rejected


def planted_bad_rows(folder: Path) -> set[tuple[str, int, str]]:
    return {
        (r["file"], int(r["line"]), r["reason_code"])
        for r in read_csv(folder / "ground_truth" / "bad_rows.csv")
    }


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def canonical(cycle: list[str]) -> tuple[str, ...]:
    i = cycle.index(min(cycle))
    return tuple(cycle[i:] + cycle[:i])


def nmi(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised mutual information (arithmetic mean of the entropies)."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= len(a)
    pa, pb = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    mutual = float((joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])).sum())
    entropy = float(-(pa * np.log(pa)).sum() - (pb * np.log(pb)).sum())
    return 2.0 * mutual / entropy


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3,000-customer bank without bad rows."""
    folder = tmp_path_factory.mktemp("clean")
    generate_bank(folder, customers=3_000, seed=11)
    return folder


# outcomes name rows of list versions drawn in the database: a generated bank has none
HEADER_ONLY = frozenset({"outcomes"})


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-customer bank with 2% planted bad rows."""
    folder = tmp_path_factory.mktemp("dirty")
    generate_bank(folder, customers=2_000, seed=5, bad_row_rate=0.02)
    return folder


@pytest.fixture(scope="module")
def tables(clean: Path) -> dict[str, list[Row]]:
    return {name: read_csv(clean / f"{name}.csv") for name in FILE_ORDER}


# --- shape and determinism ---------------------------------------------------------------------
def test_every_contract_file_has_exactly_its_columns(clean: Path) -> None:
    names = sorted(p.name for p in clean.glob("*.csv"))
    assert names == sorted(f"{name}.csv" for name in FILE_ORDER)
    for name in FILE_ORDER:
        header = (clean / f"{name}.csv").read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split(",") == list(SPECS[name].columns)


def test_clean_output_passes_the_contract(clean: Path) -> None:
    """No self-loops, duplicate keys, dangling endpoints, bad values: nothing is rejected."""
    assert validate(clean, "csv") == set()
    assert planted_bad_rows(clean) == set()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    runs = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for folder, seed in zip(runs, (3, 3, 4), strict=True):
        generate_bank(folder, customers=400, seed=seed, bad_row_rate=0.05)
    files = sorted(p.relative_to(runs[0]) for p in runs[0].rglob("*") if p.is_file())
    assert len(files) == 20 + 9  # contract files + ground truth (defaulted_borrowers.csv too)
    for rel in files:
        assert (runs[0] / rel).read_bytes() == (runs[1] / rel).read_bytes(), rel
    assert (runs[0] / "customers.csv").read_bytes() != (runs[2] / "customers.csv").read_bytes()
    assert (runs[0] / "social.csv").read_bytes() != (runs[2] / "social.csv").read_bytes()


def test_planting_bad_rows_leaves_the_clean_rows_unchanged(tmp_path: Path) -> None:
    generate_bank(tmp_path / "plain", customers=300, seed=9)
    generate_bank(tmp_path / "bad", customers=300, seed=9, bad_row_rate=0.1)
    bad_lines = defaultdict(set)
    for file, line, _ in planted_bad_rows(tmp_path / "bad"):
        bad_lines[file].add(line)
    for name in FILE_ORDER:
        plain = (tmp_path / "plain" / f"{name}.csv").read_bytes().split(b"\n")
        bad = (tmp_path / "bad" / f"{name}.csv").read_bytes().split(b"\n")
        kept = [x for i, x in enumerate(bad, start=1) if i not in bad_lines[f"{name}.csv"]]
        assert kept == plain, name


def test_docstring_example_runs() -> None:
    failures, tried = doctest.testmod(bank_module, verbose=False)
    assert tried > 0
    assert failures == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"customers": 10},
        {"customers": 500, "bad_row_rate": 0.5},
        {"customers": 500, "ties_per_customer": 0.0},
        {"customers": 500, "seed": -1},
        {"customers": 500, "file_format": "xml"},
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must|unknown"):
        generate_bank(tmp_path, **kwargs)


def test_vocabulary_needs_no_quoting() -> None:
    words: list[str] = []
    for table in (vocab.SURNAMES, vocab.GIVEN_MALE, vocab.GIVEN_FEMALE, vocab.PRODUCTS):
        for entry in table:
            words.extend(str(x) for x in entry)
    for city in vocab.CITIES:
        words.append(city[0])
        words.extend(city[3])
    for group in (
        vocab.ROADS,
        vocab.BRANDS,
        vocab.INDUSTRIES,
        vocab.SCHOOL_KINDS,
        vocab.MERCHANT_KINDS,
        vocab.AUTO_KINDS,
        vocab.EMAIL_DOMAINS,
        vocab.CAMPAIGN_SUFFIXES,
    ):
        words.extend(group)
    words.extend(s for s, _ in vocab.COMPANY_SUFFIXES)
    assert not [w for w in words if re.search(r'[,"\\\r\n]', w)]


# --- realism ------------------------------------------------------------------------------------
def test_customers_look_like_a_chinese_retail_book(tables: dict[str, list[Row]]) -> None:
    customers = tables["customers"]
    n = len(customers)
    assert re.fullmatch(r"C\d{7}", customers[0]["customer_id"])
    kinds = Counter(c["kind"] for c in customers)
    assert 0.07 < kinds["COMPANY"] / n < 0.13
    assert 0.65 < sum(c["consent_marketing"] == "true" for c in customers) / n < 0.75
    persons = [c for c in customers if c["kind"] == "PERSON"]
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", c["name"]) for c in persons)
    assert Counter(c["name"][0] for c in persons).most_common(1)[0][0] in "王李张刘陈"
    companies = [c for c in customers if c["kind"] == "COMPANY"]
    assert all(c["name"].endswith("公司") for c in companies)
    phones = [c["phone"] for c in persons if c["phone"]]
    assert len(phones) > 0.95 * len(persons)
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for c in persons:
        number = c["id_number"]
        assert re.fullmatch(r"\d{17}[\dX]", number)
        checksum = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11
        assert "10X98765432"[checksum] == number[17]
    assert len({c["id_number"] for c in customers}) == n
    aum = np.array([float(c["aum"]) for c in customers])
    assert aum.max() / np.median(aum) > 100  # heavy tail
    assert {c["risk_rating"] for c in customers} == {"1", "2", "3", "4", "5"}
    onboarded = np.array(
        [(REF_DATE - date.fromisoformat(c["onboarded_at"])).days for c in customers]
    )
    idle = np.array([(REF_DATE - date.fromisoformat(c["last_active_at"])).days for c in customers])
    assert (idle <= onboarded).all()
    assert (idle >= 0).all()
    assert (onboarded < 90).mean() > 0.03  # new
    assert (idle > 180).mean() > 0.1  # dormant
    assert ((idle > 90) & (idle <= 180)).mean() > 0.03  # churn risk
    assert (idle <= 30).mean() > 0.4  # active
    rm_branch = {r["rm_id"]: r["branch_id"] for r in tables["relationship_managers"]}
    assert all(rm_branch[c["rm_id"]] == c["branch_id"] for c in customers)
    assert all(re.fullmatch(r"BR\d{4}", c["branch_id"]) for c in customers)


def test_partners_scenarios_and_links_fit_together(tables: dict[str, list[Row]]) -> None:
    partners = {p["partner_id"]: p for p in tables["partners"]}
    assert {p["category"] for p in partners.values()} == {
        "EMPLOYER", "SCHOOL", "MERCHANT", "CORE_ENTERPRISE", "AUTO_SERVICE",
    }  # fmt: skip
    kind_of = {"EMPLOYER": "PAYROLL", "SCHOOL": "CAMPUS", "MERCHANT": "MERCHANT"}
    kind_of |= {"CORE_ENTERPRISE": "SUPPLY_CHAIN", "AUTO_SERVICE": "CAR_SERVICE"}
    for s in tables["scenarios"]:
        assert kind_of[partners[s["partner_id"]]["category"]] == s["kind"]
    kind = {c["customer_id"]: c["kind"] for c in tables["customers"]}
    links = tables["partner_links"]
    assert {link["kind"] for link in links} == {
        "EMPLOYEE",
        "OWNER",
        "CUSTOMER",
        "STUDENT",
        "SUPPLIER",
    }
    assert all(kind[x["customer_id"]] == "COMPANY" for x in links if x["kind"] == "SUPPLIER")
    employer = {x["customer_id"]: x["partner_id"] for x in links if x["kind"] == "EMPLOYEE"}
    co_workers = [
        t["kind"]
        for t in tables["social"]
        if t["src_id"] in employer and employer[t["src_id"]] == employer.get(t["dst_id"])
    ]
    assert len(co_workers) > 100
    assert Counter(co_workers)["COLLEAGUE"] / len(co_workers) > 0.7
    participants = {(p["customer_id"], p["scenario_id"]) for p in tables["participation"]}
    assert len(participants) > 0.2 * len(tables["customers"])


def test_social_graph_has_communities_hubs_and_kinds(
    clean: Path, tables: dict[str, list[Row]]
) -> None:
    ties = tables["social"]
    n = len(tables["customers"])
    assert abs(2 * len(ties) / n - 10.0) < 0.5
    pairs = [frozenset((t["src_id"], t["dst_id"])) for t in ties]
    assert len(set(pairs)) == len(pairs)  # one row per pair, hence no duplicate (src, dst, kind)
    assert {t["kind"] for t in ties} == {
        "FAMILY",
        "SPOUSE",
        "FRIEND",
        "COLLEAGUE",
        "CLASSMATE",
        "BUSINESS",
    }
    strength = np.array([float(t["strength"]) for t in ties])
    assert strength.min() > 0
    assert strength.max() <= 1
    truth = {
        r["customer_id"]: r["community_id"]
        for r in read_csv(clean / "ground_truth" / "communities.csv")
    }
    assert len(truth) == n
    inside = np.mean([truth[t["src_id"]] == truth[t["dst_id"]] for t in ties])
    assert 0.85 <= inside <= 0.9
    sizes = Counter(truth.values())
    assert min(sizes.values()) >= 20
    assert max(sizes.values()) <= 2_000
    assert max(sizes.values()) > 10 * min(sizes.values())  # heavy-tailed sizes

    graph = nx.Graph()
    graph.add_nodes_from(truth)
    graph.add_edges_from((t["src_id"], t["dst_id"]) for t in ties)
    found = nx.community.louvain_communities(graph, seed=1)
    label = {v: i for i, members in enumerate(found) for v in members}
    nodes = sorted(truth)
    score = nmi(np.array([truth[v] for v in nodes]), np.array([label[v] for v in nodes]))
    assert score >= 0.9

    degree = dict(graph.degree())
    influencers = read_csv(clean / "ground_truth" / "influencers.csv")
    assert len(influencers) >= 3
    cutoff = np.percentile(list(degree.values()), 99)
    for row in influencers:
        assert degree[row["customer_id"]] == int(row["planted_degree"])
        assert degree[row["customer_id"]] > cutoff
    assert max(degree, key=degree.__getitem__) == influencers[0]["customer_id"]


def test_louvain_recovers_communities_of_a_larger_bank(tmp_path: Path) -> None:
    generate_bank(tmp_path, customers=5_000, seed=2)
    truth = {
        r["customer_id"]: r["community_id"]
        for r in read_csv(tmp_path / "ground_truth" / "communities.csv")
    }
    graph = nx.Graph()
    graph.add_nodes_from(truth)
    graph.add_edges_from((t["src_id"], t["dst_id"]) for t in read_csv(tmp_path / "social.csv"))
    found = nx.community.louvain_communities(graph, seed=7)
    label = {v: i for i, members in enumerate(found) for v in members}
    nodes = sorted(truth)
    assert nmi(np.array([truth[v] for v in nodes]), np.array([label[v] for v in nodes])) >= 0.9


def test_spouses_are_one_man_and_one_woman(tables: dict[str, list[Row]]) -> None:
    male = {
        c["customer_id"]: int(c["id_number"][16]) % 2 == 1
        for c in tables["customers"]
        if c["kind"] == "PERSON"
    }
    spouses = [(t["src_id"], t["dst_id"]) for t in tables["social"] if t["kind"] == "SPOUSE"]
    assert len(spouses) > 100
    assert all(male[a] != male[b] for a, b in spouses)
    married = Counter(x for pair in spouses for x in pair)
    assert max(married.values()) == 1


def test_summary_and_progress_match_the_files(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    summary = generate_bank(
        tmp_path, customers=400, seed=1, bad_row_rate=0.05, progress=lambda *a: calls.append(a)
    )
    for name in FILE_ORDER:
        lines = (tmp_path / f"{name}.csv").read_bytes().count(b"\n") - 1
        assert summary.rows[name] == lines
        if name in HEADER_ONLY:
            assert summary.rows[name] == 0
        else:
            assert summary.bad_rows[name] >= 1
    assert summary.ground_truth["bad_rows"] == sum(summary.bad_rows.values())
    assert summary.ground_truth["guarantee_circles"] == len(
        jsonl(tmp_path / "ground_truth" / "guarantee_circles.jsonl")
    )
    assert summary.elapsed_seconds > 0
    stages = [c[0] for c in calls]
    assert stages[0] == "communities"
    assert stages[-1] == "ground_truth"
    assert {f"write:{name}" for name in FILE_ORDER} <= set(stages)
    assert all(0 < done <= total for _, done, total in calls if total)


def test_holdings_spread_along_ties(tables: dict[str, list[Row]]) -> None:
    """Among a product's audience, those with a holder among their ties hold it more often."""
    holders: dict[str, set[str]] = defaultdict(set)
    for h in tables["holdings"]:
        holders[h["product_id"]].add(h["customer_id"])
    assert len(holders) == len(tables["products"]) == 21
    ties: dict[str, set[str]] = defaultdict(set)
    for t in tables["social"]:
        ties[t["src_id"]].add(t["dst_id"])
        ties[t["dst_id"]].add(t["src_id"])
    kind = {c["customer_id"]: c["kind"] for c in tables["customers"]}
    audience = {"P": {"PERSON"}, "C": {"COMPANY"}, "B": {"PERSON", "COMPANY"}}
    lifts = []
    for (name, _, who_for, _), product in zip(vocab.PRODUCTS, tables["products"], strict=True):
        assert product["name"] == name
        who = holders[product["product_id"]]
        group = [c for c, k in kind.items() if k in audience[who_for]]
        if not 30 <= len(who) <= 0.7 * len(group):
            continue
        exposed = np.array([bool(ties[c] & who) for c in group])
        holds = np.array([c in who for c in group])
        lifts.append(holds[exposed].mean() / max(holds[~exposed].mean(), 1e-9))
    assert len(lifts) >= 12
    assert np.mean(np.array(lifts) > 1.3) >= 0.8


def test_referrals_cascade_along_ties(tables: dict[str, list[Row]]) -> None:
    referrals = tables["referrals"]
    assert len(referrals) > 50
    ties = {frozenset((t["src_id"], t["dst_id"])) for t in tables["social"]}
    along = np.mean([frozenset((r["referrer_id"], r["referee_id"])) in ties for r in referrals])
    assert along > 0.75
    referees = [r["referee_id"] for r in referrals]
    assert len(set(referees)) == len(referees)
    assert all(r["referrer_id"] != r["referee_id"] for r in referrals)
    forest = nx.DiGraph((r["referrer_id"], r["referee_id"]) for r in referrals)
    assert nx.is_directed_acyclic_graph(forest)
    assert nx.dag_longest_path_length(forest) >= 2  # cascades of several levels
    campaigns = {c["campaign_id"]: c for c in tables["campaigns"]}
    for r in referrals:
        assert campaigns[r["campaign_id"]]["product_id"] == r["product_id"]
        assert date.fromisoformat(r["referred_at"]) <= REF_DATE
    held = {(h["customer_id"], h["product_id"]) for h in tables["holdings"]}
    converted = [r for r in referrals if r["converted"] == "true"]
    assert converted
    assert all((r["referee_id"], r["product_id"]) in held for r in converted)


# --- planted risk structures: all found, nothing else -----------------------------------------
def test_guarantee_circles_are_the_only_cycles(clean: Path, tables: dict[str, list[Row]]) -> None:
    graph = nx.DiGraph((g["guarantor_id"], g["borrower_id"]) for g in tables["guarantees"])
    found = {canonical(c) for c in nx.simple_cycles(graph)}
    planted = jsonl(clean / "ground_truth" / "guarantee_circles.jsonl")
    assert len(planted) >= 3
    assert found == {canonical(c["members"]) for c in planted}
    for circle in planted:
        assert 2 <= circle["length"] == len(circle["members"]) <= 6
        assert circle["kind"] == ("MUTUAL" if circle["length"] == 2 else "CIRCLE")
        assert canonical(circle["members"]) == tuple(circle["members"])  # in cycle order


def test_identifier_rings_are_the_only_shared_values(
    clean: Path, tables: dict[str, list[Row]]
) -> None:
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in tables["identifiers"]:
        users[(row["kind"], row["value"])].add(row["customer_id"])
    shared = {key: who for key, who in users.items() if len(who) > 1}
    rings = jsonl(clean / "ground_truth" / "identifier_rings.jsonl")
    assert len(rings) >= 3
    assert shared == {(r["kind"], r["value"]): set(r["members"]) for r in rings}
    assert all(3 <= len(r["members"]) <= 8 and r["kind"] in ("DEVICE", "PHONE") for r in rings)
    phones = Counter(c["phone"] for c in tables["customers"] if c["phone"])
    assert {p for p, k in phones.items() if k > 1} == {
        r["value"] for r in rings if r["kind"] == "PHONE"
    }
    assert {row["kind"] for row in tables["identifiers"]} == {"PHONE", "DEVICE", "ADDRESS", "EMAIL"}


def test_fund_cycles_are_the_only_cycles(clean: Path, tables: dict[str, list[Row]]) -> None:
    transfers = tables["transfers"]
    graph = nx.DiGraph((t["src_id"], t["dst_id"]) for t in transfers)
    found = {canonical(c) for c in nx.simple_cycles(graph)}
    cycles = jsonl(clean / "ground_truth" / "fund_cycles.jsonl")
    assert len(cycles) >= 3
    assert found == {canonical(c["members"]) for c in cycles}
    rows = {(t["src_id"], t["dst_id"], t["at"], t["amount"]) for t in transfers}
    for cycle in cycles:
        assert 3 <= len(cycle["members"]) <= 6
        times = [datetime.fromisoformat(t["at"]) for t in cycle["transfers"]]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        assert (times[-1] - times[0]).days < 7
        for t in cycle["transfers"]:
            assert (t["src_id"], t["dst_id"], t["at"], t["amount"]) in rows
    amounts = np.array([float(t["amount"]) for t in transfers])
    assert amounts.min() > 0
    assert amounts.max() / np.median(amounts) > 100


def test_control_groups_are_what_a_majority_chain_walk_finds(
    clean: Path, tables: dict[str, list[Row]]
) -> None:
    kind = {c["customer_id"]: c["kind"] for c in tables["customers"]}
    stakes = tables["shareholdings"]
    assert all(kind[s["company_id"]] == "COMPANY" for s in stakes)
    total: Counter[str] = Counter()
    for s in stakes:
        total[s["company_id"]] += round(float(s["pct"]) * 100)
    assert max(total.values()) <= 10_000
    control = nx.DiGraph((s["holder_id"], s["company_id"]) for s in stakes if float(s["pct"]) > 50)
    roots = [v for v in control if control.in_degree(v) == 0]
    found = {root: nx.descendants(control, root) for root in roots}
    groups = jsonl(clean / "ground_truth" / "control_groups.jsonl")
    assert len(groups) >= 3
    assert found == {g["controller"]: set(g["companies"]) for g in groups}
    assert all(2 <= len(g["companies"]) <= 6 for g in groups)
    assert any(
        nx.dag_longest_path_length(control.subgraph(found[g["controller"]] | {g["controller"]}))
        >= 2
        for g in groups
    )  # chains
    planted = {(e["holder_id"], e["company_id"]) for g in groups for e in g["edges"]}
    assert len(planted) == sum(len(g["companies"]) for g in groups)
    background = [s for s in stakes if (s["holder_id"], s["company_id"]) not in planted]
    assert all(float(s["pct"]) < 50 for s in background)


# --- bad rows -----------------------------------------------------------------------------------
def test_every_planted_bad_row_is_bad_where_recorded_and_nothing_else(dirty: Path) -> None:
    planted = planted_bad_rows(dirty)
    assert validate(dirty, "csv") == planted
    assert {reason for _, _, reason in planted} == {str(r) for r in PLANTED_REASONS}
    per_file = Counter(file for file, _, _ in planted)
    assert set(per_file) == {f"{name}.csv" for name in FILE_ORDER if name not in HEADER_ONLY}
    customers = sum(1 for _ in records(dirty / "customers.csv"))
    assert per_file["customers.csv"] == round(0.02 * (customers - per_file["customers.csv"]))
    assert set(CHECK_ORDER) == set(PLANTED_REASONS)


def test_bad_rows_do_not_touch_the_planted_truth(dirty: Path) -> None:
    bad = planted_bad_rows(dirty)
    lines = {(f, line) for f, line, _ in bad}
    guarantees = [
        r
        for i, r in records(dirty / "guarantees.csv")
        if r is not None and ("guarantees.csv", i) not in lines
    ]
    graph = nx.DiGraph((g["guarantor_id"], g["borrower_id"]) for g in guarantees)
    planted = jsonl(dirty / "ground_truth" / "guarantee_circles.jsonl")
    assert {canonical(c) for c in nx.simple_cycles(graph)} == {
        canonical(c["members"]) for c in planted
    }
    # Even read leniently (bad rows included), transfers gain no cycle.
    everything = [
        r for _, r in records(dirty / "transfers.csv") if r and r["src_id"] and r["dst_id"]
    ]
    loose = nx.DiGraph((t["src_id"], t["dst_id"]) for t in everything if t["src_id"] != t["dst_id"])
    cycles = jsonl(dirty / "ground_truth" / "fund_cycles.jsonl")
    assert {canonical(c) for c in nx.simple_cycles(loose)} == {
        canonical(c["members"]) for c in cycles
    }


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_other_formats_carry_the_same_data(
    tmp_path: Path, file_format: Literal["jsonl", "parquet"]
) -> None:
    generate_bank(tmp_path / "csv", customers=500, seed=21)
    generate_bank(tmp_path / file_format, customers=500, seed=21, file_format=file_format)
    for name in FILE_ORDER:
        expected = read_csv(tmp_path / "csv" / f"{name}.csv")
        got = [row for _, row in records(tmp_path / file_format / f"{name}.{file_format}")]
        assert got == expected, name
    for truth in ("communities.csv", "fund_cycles.jsonl", "control_groups.jsonl"):
        a = (tmp_path / "csv" / "ground_truth" / truth).read_bytes()
        assert a == (tmp_path / file_format / "ground_truth" / truth).read_bytes()


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_other_formats_carry_planted_bad_rows(
    tmp_path: Path, file_format: Literal["jsonl", "parquet"]
) -> None:
    generate_bank(tmp_path, customers=600, seed=8, bad_row_rate=0.05, file_format=file_format)
    planted = planted_bad_rows(tmp_path)
    assert validate(tmp_path, file_format) == planted
    reasons = {reason for _, _, reason in planted}
    assert reasons == {str(r) for r in PLANTED_REASONS} - {"BAD_UTF8"}


# --- issue 9: eligibility, birth dates, defaulted borrowers ------------------------------------
def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_products_carry_sensible_eligibility_and_holders_fit_it(
    tables: dict[str, list[Row]],
) -> None:
    products = {p["name"]: p for p in tables["products"]}
    for corporate in ("单位结算账户", "供应链融资", "小微经营贷"):
        assert products[corporate]["eligible_kinds"] == "COMPANY"
    campus = products["校园信用卡"]
    assert campus["eligible_kinds"] == "PERSON"
    assert campus["min_age"]
    assert campus["max_age"]
    assert int(campus["min_age"]) <= 18
    assert 23 <= int(campus["max_age"]) <= 30
    assert products["代发专属信用卡"]["eligible_scenario_kinds"] == "PAYROLL"
    assert products["白金信用卡"]["min_tier"] in ("AFFLUENT", "HIGH_NET_WORTH")
    audience = {name: who for name, _, who, _ in vocab.PRODUCTS}
    for name, product in products.items():  # B: persons and companies alike, no kind rule
        expected = {"P": "PERSON", "C": "COMPANY", "B": ""}[audience[name]]
        assert product["eligible_kinds"] == expected, name
    # what the generator plants fits its own rules: holders are of the product's kind
    kind = {c["customer_id"]: c["kind"] for c in tables["customers"]}
    rule = {p["product_id"]: p["eligible_kinds"] for p in tables["products"]}
    for product_id, kinds in rule.items():
        holders = [h["customer_id"] for h in tables["holdings"] if h["product_id"] == product_id]
        if kinds and holders:
            fits = sum(kind[h] in kinds.split(";") for h in holders) / len(holders)
            assert fits >= 0.95, (product_id, fits)


def test_persons_have_birth_dates_that_match_their_id_numbers(
    tables: dict[str, list[Row]],
) -> None:
    for c in tables["customers"]:
        if c["kind"] == "COMPANY":
            assert c["birth_date"] == ""
            continue
        birth = date.fromisoformat(c["birth_date"])
        assert c["id_number"][6:14] == birth.strftime("%Y%m%d")
        assert 18 <= _age(birth, REF_DATE) <= 86


def test_defaulted_borrowers_are_planted_in_circles_and_elsewhere(
    clean: Path, tables: dict[str, list[Row]]
) -> None:
    defaulted = {
        c["customer_id"]: c["defaulted_at"] for c in tables["customers"] if c["defaulted_at"]
    }
    truth = read_csv(clean / "ground_truth" / "defaulted_borrowers.csv")
    assert {t["customer_id"]: t["defaulted_at"] for t in truth} == defaulted
    borrowers = {g["borrower_id"] for g in tables["guarantees"]}
    assert set(defaulted) <= borrowers  # a default is a borrower's
    in_circles = {
        m
        for circle in jsonl(clean / "ground_truth" / "guarantee_circles.jsonl")
        for m in circle["members"]
    }
    assert {t["in_circle"] for t in truth} == {"true", "false"}
    for t in truth:
        assert (t["customer_id"] in in_circles) == (t["in_circle"] == "true")
        assert date.fromisoformat(t["defaulted_at"]) <= REF_DATE
    summary = json.loads((clean / "ground_truth" / "summary.json").read_text(encoding="utf-8"))
    assert summary["defaulted_borrowers"] == len(defaulted) > 0
