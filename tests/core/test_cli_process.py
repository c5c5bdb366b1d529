"""The `zhucun` command as a user runs it: a fresh process, configured by the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def zhucun(db_url: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        input=input,
        cwd=ROOT,
        timeout=120,
    )


def test_create_user_in_a_fresh_process_then_log_in(db_url, client):
    made = zhucun(
        db_url,
        "create-user",
        "--username", "county-admin",
        "--password-stdin",
        "--role", "county",
        "--scope", "430121",
        input="a-long-password\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "created user county-admin" in made.stdout
    r = client.post(
        "/api/v1/auth/token", data={"username": "county-admin", "password": "a-long-password"}
    )
    assert r.status_code == 200


def test_refusals_are_one_line_not_a_traceback(db_url):
    bad = zhucun(db_url, "create-user", "--username", "x1", "--password-stdin", "--role", "city")
    assert bad.returncode == 2
    assert "--scope is required" in bad.stderr
    bad = zhucun(
        db_url,
        "create-user",
        "--username", "town",
        "--password-stdin",
        "--role", "township",
        "--scope", "4301",
        input="p" * 10 + "\n",
    )  # fmt: skip
    assert bad.returncode == 2
    assert "9-digit" in bad.stderr
    assert "Traceback" not in bad.stderr
