"""The vendored GraphiQL page's own script, read as text (no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

SETUP = Path(__file__).resolve().parents[3] / "api" / "static" / "graphiql" / "setup.js"


def test_the_default_headers_are_valid_http_header_values() -> None:
    # fetch() refuses a header value outside ISO-8859-1: GraphiQL then fails every request
    text = SETUP.read_text(encoding="utf-8")
    block = text.split("const defaultHeaders", 1)[1].split(");", 1)[0]
    values = re.findall(r'"([^"]*)"', block)
    assert values, "no default header found in setup.js"
    for value in values:
        value.encode("latin-1")  # raises for '…' and other non-ISO-8859-1 characters
