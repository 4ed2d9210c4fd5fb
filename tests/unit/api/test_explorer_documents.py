"""Every GraphQL document the explorer page sends validates against the schema the API serves
(no database: the documents come from explorer/src/queries.ts, bundled by the same esbuild
the page is built with, and run in Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from graphql import parse, validate

from api.graphql.schema import build_schema
from graph.settings import CrkgSettings, Environment

ROOT = Path(__file__).resolve().parents[3]
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
# calls every document builder of queries.ts with each permission set the page knows
DUMP = """
import * as Q from "./queries.mjs";
const docs = {};
const add = (name, text) => { if (/^\\s*(query|mutation)\\b/.test(text)) docs[name] = text; };
for (const [name, value] of Object.entries(Q)) {
  if (typeof value === "string") add(name, value);
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) if (typeof v === "string") add(`${name}.${k}`, v);
}
for (const perms of [[], ["read_risk"], ["read_risk", "read_identifiers"]])
  add(`customerDetails(${perms})`, Q.customerDetails(new Set(perms)));
add("CUSTOMER_BRIEFS", Q.CUSTOMER_BRIEFS(["C1", "C2"]));
console.log(JSON.stringify(docs));
"""


def _documents(tmp_path: Path) -> dict[str, str]:
    node = shutil.which("node")
    assert node, "Node is needed to build the explorer (make install)"
    assert ESBUILD.exists(), f"{ESBUILD} is missing: run make install (npm ci)"
    bundle = tmp_path / "queries.mjs"
    subprocess.run(
        [
            str(ESBUILD),
            str(ROOT / "explorer/src/queries.ts"),
            "--format=esm",
            f"--outfile={bundle}",
        ],
        check=True,
        capture_output=True,
    )
    script = tmp_path / "dump.mjs"
    script.write_text(DUMP, encoding="utf-8")
    done = subprocess.run([node, str(script)], check=True, capture_output=True, text=True)
    documents: dict[str, str] = json.loads(done.stdout)
    return documents


def test_every_document_the_page_sends_is_valid_for_the_schema(tmp_path: Path) -> None:
    documents = _documents(tmp_path)
    assert {"NEIGHBOURHOOD", "EXPAND", "LINKAGE", "customerDetails(read_risk)"} <= set(documents)
    schema = build_schema(CrkgSettings(_env_file=None, environment=Environment.TEST))._schema
    problems = {
        name: [error.message for error in validate(schema, parse(text))]
        for name, text in documents.items()
    }
    assert {name: found for name, found in problems.items() if found} == {}
