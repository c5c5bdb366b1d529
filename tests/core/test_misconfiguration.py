"""A misconfigured start or command is one line on stderr and a non-zero exit, never a
traceback, and a start says which database and policy it serves."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from app.failures import MIGRATE_FIRST

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k" * 40


def run(
    cwd: Path, env: dict[str, str], *args: str, input: str = "p" * 12 + "\n"
) -> subprocess.CompletedProcess[str]:
    """`zhucun ARGS` in a fresh process started in `cwd`, with only `env` of ours set."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ZHUCUN_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        input=input,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_production_without_a_database_url_refuses_and_makes_no_file(tmp_path):
    result = run(tmp_path, {"ZHUCUN_ENV": "production", "ZHUCUN_SECRET_KEY": STRONG}, "serve")
    assert result.returncode == 2
    assert one_line(result).startswith(
        "zhucun: DATABASE_URL must be set when ZHUCUN_ENV=production"
    )
    assert list(tmp_path.iterdir()) == []  # no zhucun.db in the working folder


def test_production_without_a_signing_key_is_one_line_before_anything_starts(tmp_path):
    database = tmp_path / "zhucun.db"
    env = {
        "ZHUCUN_ENV": "production",
        "ZHUCUN_SECRET_KEY": STRONG,
        "DATABASE_URL": f"sqlite:///{database}",
    }
    result = run(tmp_path, env, "serve", "--port", str(_free_port()))
    assert result.returncode == 2
    assert one_line(result) == (
        "zhucun: ZHUCUN_SIGNING_KEY_FILE must name a key made by `zhucun audit keygen` "
        "when ZHUCUN_ENV=production"
    )
    assert not database.exists()  # refused before migrating anything
    missing = run(tmp_path, {**env, "ZHUCUN_SIGNING_KEY_FILE": str(tmp_path / "no.pem")}, "serve")
    assert missing.returncode == 2
    assert one_line(missing) == f"zhucun: the signing key file {tmp_path / 'no.pem'} does not exist"


@pytest.mark.parametrize(
    "command",
    [
        ["import-villages", str(ROOT / "examples" / "villages.geojson")],
        ["leave", "scan-overdue"],
        ["create-user", "--username", "admin1", "--password-stdin", "--role", "admin"],
    ],
)
def test_commands_on_an_unmigrated_database_say_to_upgrade(tmp_path, command):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = run(tmp_path, env, *command)
    assert result.returncode == 1
    assert one_line(result) == f"zhucun: {MIGRATE_FIRST}"


@pytest.mark.postgis
def test_a_command_on_an_unmigrated_server_database_says_to_upgrade(tmp_path):
    admin_url = os.environ.get(
        "ZHUCUN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"zhucun_unmigrated_cli_{os.getpid()}"
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        result = run(
            tmp_path,
            {"DATABASE_URL": url},
            "import-villages",
            str(ROOT / "examples" / "villages.geojson"),
        )
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
    assert result.returncode == 1
    assert one_line(result) == f"zhucun: {MIGRATE_FIRST}"


def test_a_database_out_of_reach_is_one_line_with_its_password_hidden(tmp_path):
    url = f"postgresql+psycopg://zhucun:hunter2@127.0.0.1:{_free_port()}/zhucun"
    result = run(tmp_path, {"DATABASE_URL": url}, "leave", "scan-overdue")
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("zhucun: cannot reach the database postgresql+psycopg://zhucun:***@")
    assert "hunter2" not in result.stderr


def test_a_start_logs_its_database_without_the_password_and_its_policy(db_url, tmp_path):
    url = db_url
    if not db_url.startswith("sqlite"):  # trust authentication ignores the password
        url = make_url(db_url).set(password="hunter2").render_as_string(hide_password=False)
    policy = tmp_path / "policy.toml"
    policy.write_text("[day_rule]\nmin_checkins = 1\n")
    env = {
        "DATABASE_URL": url,
        "ZHUCUN_POLICY": str(policy),
        "ZHUCUN_SECRET_KEY": STRONG,
        "ZHUCUN_SIGNING_KEY_FILE": str(tmp_path / "key.pem"),
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ZHUCUN_", "DATABASE_"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(_free_port()), "--workers", "1"],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        line = _wait_for_line(server, '"msg": "starting"')
    finally:
        server.terminate()
        server.wait(timeout=30)
    shown = make_url(url).render_as_string(hide_password=True)
    assert f'"database": "{shown}"' in line
    assert f'"policy": "{policy}"' in line
    assert "hunter2" not in line


def _wait_for_line(process: subprocess.Popen[str], needle: str) -> str:
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=1):
            line = process.stderr.readline()
            seen.append(line)
            if needle in line:
                return line
    raise AssertionError(f"no line with {needle!r}; the server said: {''.join(seen)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
