"""The sample files the operator's guide (docs/operator.md) points at import as it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def zhucun(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


def test_the_readme_samples_import_and_sign_in(db_url, client):
    steps = [
        ("import-villages", str(EXAMPLES / "villages.geojson")),
        ("import-roster", str(EXAMPLES / "roster.csv")),
        ("import-roster", str(EXAMPLES / "roster-gb18030.csv")),
    ]
    for step in steps:
        result = zhucun(db_url, *step)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    r = client.post(
        "/api/v1/auth/token", data={"username": "wf-dongshan", "password": "a-long-password"}
    )
    assert r.status_code == 200, r.text
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    ).json()
    assert me["full_name"] == "王芳"
    # Importing the same roster again is refused whole, naming the lines.
    again = zhucun(db_url, "import-roster", str(EXAMPLES / "roster.csv"))
    assert again.returncode != 0
    assert "already exists" in again.stderr + again.stdout
