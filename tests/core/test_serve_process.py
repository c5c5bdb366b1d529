"""`zhucun serve` as an operator meets it: clear one-line refusals before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_busy_port_says_so_before_printing_demo_logins(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(
            {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"},
            "serve", "--demo", "--port", str(port),
        )  # fmt: skip
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "demo-password" not in result.stdout
    assert "Traceback" not in result.stderr


def test_a_weak_secret_in_production_is_one_clear_line(tmp_path):
    result = run(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "ZHUCUN_ENV": "production",
            "ZHUCUN_SECRET_KEY": "too-short",
        },
        "serve",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "zhucun: ZHUCUN_SECRET_KEY must be set to a random value of at least 32 characters "
        "when ZHUCUN_ENV=production"
    ]


@pytest.mark.postgis
def test_an_unmigrated_server_database_is_one_clear_line():
    admin_url = os.environ.get(
        "ZHUCUN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"zhucun_unmigrated_{os.getpid()}"
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        result = run(
            {"DATABASE_URL": admin_url.rsplit("/", 1)[0] + f"/{name}"},
            "serve", "--demo", "--port", "0",
        )  # fmt: skip
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "the database lacks this version's migrations: run `zhucun db upgrade` first"
    )
