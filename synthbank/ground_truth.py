"""ground_truth/: what the generator planted (communities, influencers, risk linkages, defaults,
bad rows), for the tests and benchmarks to score against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.contract import FILE_ORDER
from synthbank.bad_rows import BadRow
from synthbank.risk import FUND_CYCLE_WINDOW_DAYS
from synthbank.tables import Families, GeneratedBank
from synthbank.util import DAY_SECONDS
from synthbank.writer import line_bytes


def _write_csv(path: Path, header: tuple[str, ...], arrays: list[Any]) -> None:
    """A small all-text CSV from Arrow string arrays (ground truth files)."""
    with path.open("wb") as handle:
        handle.write((",".join(header) + "\n").encode("utf-8"))
        if len(arrays[0]):
            lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*arrays, ","), "\n", "")
            data, offsets = line_bytes(lines)
            handle.write(data[: offsets[-1] - offsets[0]])


def _jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Write records as JSON Lines (UTF-8, no ASCII escaping)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _timestamp(seconds: int) -> str:
    """ISO date-time of seconds since 1970-01-01 (no time zone, like the transfers)."""
    day = np.datetime64(seconds // DAY_SECONDS, "D")
    rest = seconds % DAY_SECONDS
    return f"{day}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"


def write_ground_truth(
    folder: Path,
    bank: GeneratedBank,
    ids: Families,
    bad: dict[str, list[BadRow]],
    extension: str,
) -> dict[str, int]:
    """Write ground_truth/ and return the counts of what was planted."""
    folder.mkdir(parents=True, exist_ok=True)
    label = ids.customers.label
    comm, soc = bank.comm, bank.social
    _write_csv(
        folder / "communities.csv",
        ("customer_id", "community_id"),
        [ids.customers.array, pc.cast(pa.array(comm.of + 1), pa.string())],
    )
    degree = soc.degree[soc.influencers]
    _write_csv(
        folder / "influencers.csv",
        ("customer_id", "planted_degree", "rank"),
        [
            ids.customers.array.take(pa.array(soc.influencers)),
            pc.cast(pa.array(degree), pa.string()),
            pc.cast(pa.array(np.arange(1, len(degree) + 1)), pa.string()),
        ],
    )
    _jsonl(
        folder / "guarantee_circles.jsonl",
        [
            {
                "circle_id": i + 1,
                "kind": "MUTUAL" if len(circle) == 2 else "CIRCLE",
                "length": len(circle),
                "members": [label(c) for c in circle],  # guarantor -> next ... -> first
            }
            for i, circle in enumerate(bank.guarantees.circles)
        ],
    )
    idents = bank.identifiers
    _jsonl(
        folder / "identifier_rings.jsonl",
        [
            {
                "ring_id": i + 1,
                "kind": kind,
                "value": str(int(idents.phones[value]))
                if kind == "PHONE"
                else f"{int(idents.devices[value]):016X}",
                "members": [label(c) for c in sorted(group)],
            }
            for i, (kind, value, group) in enumerate(idents.rings)
        ],
    )
    tr = bank.transfers
    _jsonl(
        folder / "fund_cycles.jsonl",
        [
            {
                "cycle_id": i + 1,
                "length": len(rows),
                "members": [label(int(tr.src[row])) for row in rows],
                "transfers": [
                    {
                        "src_id": label(int(tr.src[row])),
                        "dst_id": label(int(tr.dst[row])),
                        "amount": f"{tr.amount_cents[row] // 100}.{tr.amount_cents[row] % 100:02d}",
                        "at": _timestamp(int(tr.day[row] * DAY_SECONDS + tr.second[row])),
                    }
                    for row in rows
                ],
                "window_days": FUND_CYCLE_WINDOW_DAYS,
            }
            for i, rows in enumerate(tr.cycles)
        ],
    )
    sh = bank.shares
    planted_rows = np.flatnonzero(sh.planted)
    stake = {
        (int(sh.holder[i]), int(sh.company[i])): int(sh.pct_hundredths[i]) for i in planted_rows
    }
    groups = []
    for i, (controller, companies) in enumerate(sh.groups):
        edges = [(h, c, v) for (h, c), v in stake.items() if c in set(companies)]
        groups.append(
            {
                "group_id": i + 1,
                "controller": label(controller),
                "controller_kind": "COMPANY" if bank.people.is_company[controller] else "PERSON",
                "companies": [label(c) for c in companies],
                "edges": [
                    {
                        "holder_id": label(h),
                        "company_id": label(c),
                        "pct": f"{v // 100}.{v % 100:02d}",
                    }
                    for h, c, v in edges
                ],
            }
        )
    _jsonl(folder / "control_groups.jsonl", groups)
    defaulted = np.flatnonzero(bank.defaulted >= 0)
    in_circle = np.zeros(bank.people.n, dtype=np.bool_)
    for circle in bank.guarantees.circles:
        in_circle[circle] = True
    with (folder / "defaulted_borrowers.csv").open("w", encoding="utf-8", newline="\n") as out:
        out.write("customer_id,defaulted_at,in_circle\n")
        for c in defaulted.tolist():
            day = np.datetime64(int(bank.defaulted[c]), "D")
            out.write(f"{label(c)},{day},{'true' if in_circle[c] else 'false'}\n")
    with (folder / "bad_rows.csv").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("file,line,reason_code\n")
        for name in FILE_ORDER:
            for row in bad[name]:
                handle.write(f"{name}.{extension},{row.line},{row.reason.value}\n")
    counts = {
        "communities": len(comm.sizes),
        "influencers": len(soc.influencers),
        "guarantee_circles": len(bank.guarantees.circles),
        "identifier_rings": len(idents.rings),
        "fund_cycles": len(tr.cycles),
        "control_groups": len(sh.groups),
        "defaulted_borrowers": len(defaulted),
        "bad_rows": sum(len(v) for v in bad.values()),
    }
    return counts
