"""Schemathesis against the running service (uvicorn on loopback) with the demo county loaded.

    .venv/bin/pip install 'schemathesis>=4'        # not a project dependency
    .venv/bin/python bench/schemathesis_run.py [--backend sqlite|postgis] [--max-examples 20]
        [--login demo-county] [-- extra schemathesis arguments]

Every operation, all checks; prints schemathesis' summary and exits with its status. A long
run is the same command with a larger --max-examples.
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgis"], default="sqlite")
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--login", default="demo-county")
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
    env = {**os.environ, "DATABASE_URL": url, "ZHUCUN_LOG_LEVEL": "ERROR"}
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
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": args.login, "password": "demo-password"},
        ).json()["access_token"]
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(args.max_examples),
            "-H",
            f"Authorization: Bearer {token}",
            *extra,
        ]
        return subprocess.call(command, cwd=workdir)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
        if pg_name:
            with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    sys.exit(main())
