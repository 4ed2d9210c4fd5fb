"""The import arrows of DESIGN.md, read from the source (every import, lazy ones too):

loaders -> graph <- algorithms;  api -> graph, algorithms, loaders;
synthbank -> loaders.contract, graph;  cli -> everything;  nothing -> cli.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph", "loaders", "algorithms", "api", "synthbank", "cli", "bench")
# what each package may import, besides itself (a dotted entry allows that module only)
ALLOWED: dict[str, set[str]] = {
    "graph": set(),
    "loaders": {"graph"},
    "algorithms": {"graph"},
    "api": {"graph", "algorithms", "loaders"},
    "synthbank": {"graph", "loaders.contract"},
    "cli": {"graph", "loaders", "algorithms", "api", "synthbank"},
    "bench": {"graph", "loaders", "algorithms", "api", "synthbank"},
}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top not in PACKAGES or top == package:
                continue
            allowed = ALLOWED[package]
            if top in allowed or any(module == a or module.startswith(f"{a}.") for a in allowed):
                continue
            found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_along_the_arrows(package: str) -> None:
    assert _violations(package) == []


def test_the_check_would_see_a_wrong_arrow(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from cli.main import app\n", encoding="utf-8")
    assert list(_imports(sample)) == [(2, "cli.main")]
