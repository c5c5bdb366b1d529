"""app.core is the floor every domain stands on: it imports nothing from them (app.auth
included; `GET /policy`, which needs a signed-in caller, is app.policy's). An arrow that runs
up makes import cycles and hides who depends on whom (issue 23 item 10)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "app" / "core"


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_core_imports_no_domain():
    upward = {
        f"{path.relative_to(CORE.parent.parent)}: {name}"
        for path in CORE.rglob("*.py")
        for name in _imports(path)
        if (name == "app" or name.startswith("app.")) and not name.startswith("app.core")
    }
    assert upward == set()
