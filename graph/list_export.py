"""A list version as a file to hand to a channel: CSV or Parquet, and its manifest.

The bytes are a function of the rows alone (no timestamps, fixed column order, ``\\n`` line
ends, one Parquet schema), so delivering the same version again gives the same file. A
marketer's file carries ids, treatment codes and reasons and no personal data; the contact
columns (``name``, ``phone``, ``email``) are added only for a contact export. A CSV text
cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is written with a leading ``'`` so
a spreadsheet shows it instead of running it (Parquet keeps the values as they are).

Examples
--------
>>> reasons = {"score": 0.5, "community": "7", "introducer_id": "C9", "path": ["C9", "C1"]}
>>> rows = [{"customer_id": "C1", "position": 1, "treatment": "T", "reasons": reasons}]
>>> table = export_rows("K1:v1", rows)
>>> to_csv(table, contact=False) == to_csv(table, contact=False)
True
>>> to_csv(table, contact=False).decode().splitlines()[1]
'K1:v1,1,C1,T,0.5,7,C9,C9>C1,"{""community"":""7"",""introducer_id"":""C9"",""path"":[""C9"",""C1""],""score"":0.5}"'
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any, Final, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from graph.lists import canonical

ExportFormat = Literal["csv", "parquet"]
FIELDS: Final = (
    "list_version_id",
    "position",
    "customer_id",
    "treatment",
    "score",
    "community",
    "introducer_id",
    "path",
    "reasons",
)
CONTACT_FIELDS: Final = ("name", "phone", "email")
_INTEGERS: Final = {"position"}
_FLOATS: Final = {"score"}
_FORMULA_LEADS: Final = ("=", "+", "-", "@", "\t", "\r")


def fields(*, contact: bool) -> tuple[str, ...]:
    return FIELDS + CONTACT_FIELDS if contact else FIELDS


def export_rows(
    list_version_id: str,
    rows: list[dict[str, Any]],
    contacts: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One flat record per row, in list order; contact columns only when ``contacts``."""
    table = []
    for row in rows:
        reasons = row["reasons"]
        record: dict[str, Any] = {
            "list_version_id": list_version_id,
            "position": int(row["position"]),
            "customer_id": row["customer_id"],
            "treatment": row["treatment"],
            "score": reasons.get("score"),
            "community": reasons.get("community"),
            "introducer_id": reasons.get("introducer_id"),
            "path": ">".join(reasons.get("path") or []),
            "reasons": canonical(reasons),
        }
        if contacts is not None:
            person = contacts.get(row["customer_id"], {})
            record.update({f: person.get(f) for f in CONTACT_FIELDS})
        table.append(record)
    return table


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (leading = + - @, tab or CR) gets a
    leading ``'``; numbers and other text are kept."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS):
        return f"'{value}"
    return value


def to_csv(table: list[dict[str, Any]], *, contact: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = fields(contact=contact)
    writer.writerow(names)
    for record in table:
        writer.writerow([_cell(record.get(f)) for f in names])
    return out.getvalue().encode("utf-8")


def to_parquet(table: list[dict[str, Any]], *, contact: bool) -> bytes:
    names = fields(contact=contact)
    schema = pa.schema(
        [
            (n, pa.int64() if n in _INTEGERS else pa.float64() if n in _FLOATS else pa.string())
            for n in names
        ]
    )
    columns = {n: [record.get(n) for record in table] for n in names}
    arrow = pa.Table.from_pydict(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(arrow, sink, compression="zstd", write_statistics=False)
    return sink.getvalue()


def render(table: list[dict[str, Any]], export_format: ExportFormat, *, contact: bool) -> bytes:
    if export_format == "csv":
        return to_csv(table, contact=contact)
    return to_parquet(table, contact=contact)


def manifest(
    version: dict[str, Any],
    *,
    export_format: ExportFormat,
    contact: bool,
    content: bytes,
    row_count: int,
    suppressed_at_draw: dict[str, int],
    suppressed_at_export: dict[str, int],
    removed_at_export: int,
    treatment_codes: dict[str, int] | None = None,
    control_withheld: int = 0,
) -> dict[str, Any]:
    """What a delivery holds, for the receiving system (no timestamps: re-delivery is equal).

    ``treatment_codes``: the file's rows per arm; ``control_withheld``: the hold-out's control
    rows a contact export leaves out (they are never contacted)."""
    described = {
        "list_version_id": version["list_version_id"],
        "campaign_id": version["campaign_id"],
        "version": version["version"],
        "content_hash": version["content_hash"],
        "format": export_format,
        "fields": list(fields(contact=contact)),
        "contact_details": contact,
        "rows": row_count,
        "treatment_codes": treatment_codes or {"T": row_count},
        "suppressed_at_draw": suppressed_at_draw,
        "suppressed_at_export": suppressed_at_export,
        "removed_at_export": removed_at_export,
        "file_sha256": hashlib.sha256(content).hexdigest(),
    }
    if "holdout_share" in version:  # a list drawn with a hold-out
        described["holdout"] = {
            "share": version["holdout_share"],
            "arms": {"T": version["treated_count"], "C": version["control_count"]},
            "srm_p_value": version["srm_p_value"],
            "srm_warning": version["srm_warning"],
            "control_withheld": control_withheld,
        }
    return described
