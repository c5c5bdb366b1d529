"""A TypeScript client generated from openapi/openapi.json (the pinned @hey-api/openapi-ts,
scripts/generate-client) compiles under `tsc --strict`, together with a hand-written use of it
(clients/typescript/check/usage.ts) that proves the batch results' problems, the report pages'
rows and the other answers of issue 18 are typed, not `unknown`. Without node and npm the test
is skipped, except in CI (.ci/run), where they are required."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.node


def _node_or_skip() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the TypeScript client test needs {', '.join(missing)} (.ci/run)")
        pytest.skip(f"needs {', '.join(missing)}")


def test_the_generated_client_compiles_under_strict_with_its_types_used():
    _node_or_skip()
    run = subprocess.run(
        [str(ROOT / "scripts" / "generate-client"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    types = (ROOT / "clients/typescript/build/client/types.gen.ts").read_text(encoding="utf-8")
    assert "export type PresenceReportPage = {" in types
    assert "error: Problem | null;" in types
