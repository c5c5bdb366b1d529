"""Schemathesis against the running service (uvicorn on loopback) with the demo county loaded:
the long run of tests/contract/test_schemathesis.py (which CI runs with a few examples).

    .venv/bin/python bench/schemathesis_run.py [--backend sqlite|postgis] [--max-examples 200]
        [--login demo-county ...] [-- extra schemathesis arguments]

Every operation, all checks, with the test's hooks (tests/contract/schemathesis_hooks.py):
callers rotate through the demo logins (every role unless --login names some), and
`positive_data_acceptance` is replaced by the hooks' check that refuses only schema drift.
Prints schemathesis' summary and exits with its status.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
sys.path.insert(0, str(ROOT))

from app.demo import LOGINS, MEMBER_LOGIN  # noqa: E402
from tests.contract.refusing_wechat import refusing_wechat  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgis"], default="sqlite")
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--login", action="append", help="demo login(s) to rotate through")
    parser.add_argument("--port", type=int, default=8765)
    args, extra = parser.parse_known_args()

    workdir = Path(tempfile.mkdtemp(prefix="zhucun-schemathesis-"))
    pg_name = None
    if args.backend == "sqlite":
        url = f"sqlite:///{workdir / 'zhucun.db'}"
    else:
        from app.core.migrate import upgrade
        from app.demo import load_demo_if_empty

        pg_name = f"zhucun_schemathesis_{uuid.uuid4().hex[:6]}"
        with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
        upgrade(url)
        load_demo_if_empty(url)
    wechat = refusing_wechat()  # POST /auth/wechat answers 401, not 503 wechat_disabled
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZHUCUN_LOG_LEVEL": "ERROR",
        "ZHUCUN_WECHAT_APPID": "wx-schemathesis",
        "ZHUCUN_WECHAT_SECRET": "s",
        "ZHUCUN_WECHAT_API": wechat.__enter__(),
    }
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(args.port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start")
            time.sleep(0.2)
        logins = args.login or [*(login for login, _, _ in LOGINS), MEMBER_LOGIN]
        tokens = {login: _token(base, login) for login in logins}
        # Sessions of a login outside the rotation, for logout and password change.
        spare = [_token(base, f"{MEMBER_LOGIN}-02") for _ in range(20)]
        env = {
            **env,
            "SCHEMATHESIS_HOOKS": str(ROOT / "tests" / "contract" / "schemathesis_hooks.py"),
            "ZHUCUN_ST_TOKENS": json.dumps(tokens),
            "ZHUCUN_ST_SPARE": json.dumps(spare),
        }
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            str(args.max_examples),
            *extra,
        ]
        return subprocess.call(command, cwd=workdir, env=env)
    finally:
        server.terminate()
        server.wait(10)
        wechat.__exit__(None, None, None)
        shutil.rmtree(workdir, ignore_errors=True)
        if pg_name:
            with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def _token(base: str, login: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": login, "password": "demo-password"}
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


if __name__ == "__main__":
    sys.exit(main())
