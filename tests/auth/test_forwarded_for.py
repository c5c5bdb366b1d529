"""X-Forwarded-For is believed only from configured proxies (issue 11, defect 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.auth.models import LoginFailure
from app.core.config import Settings
from app.core.proxies import client_address, parse_networks
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
PROXY = parse_networks("10.0.0.5, 172.16.0.0/12")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.9", ["203.0.113.1"], "198.51.100.9"),  # not a proxy: header ignored
        ("127.0.0.1", ["203.0.113.1"], "127.0.0.1"),  # loopback is not trusted by default
        ("10.0.0.5", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.5", ["1.2.3.4, 203.0.113.1"], "203.0.113.1"),  # the client forged 1.2.3.4
        ("10.0.0.5", ["203.0.113.1, 172.16.3.4"], "203.0.113.1"),  # two proxies deep
        ("10.0.0.5", ["203.0.113.1", "172.16.3.4"], "203.0.113.1"),  # repeated header
        ("10.0.0.5", ["not-an-ip"], "10.0.0.5"),
        ("10.0.0.5", ["203.0.113.1, junk, 172.16.3.4"], "172.16.3.4"),
        ("10.0.0.5", [], "10.0.0.5"),
        ("2001:db8::1", ["203.0.113.1"], "2001:db8::1"),
    ],
)
def test_client_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXY) == expected


def test_no_proxy_is_trusted_by_default():
    assert client_address("127.0.0.1", ["203.0.113.1"], parse_networks("")) == "127.0.0.1"


def test_a_bad_proxy_setting_is_refused():
    with pytest.raises(ValueError, match="not-a-network"):
        Settings(ZHUCUN_TRUSTED_PROXIES="10.0.0.1, not-a-network")


def _serve(db_url: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": db_url, "ZHUCUN_LOG_LEVEL": "WARNING", **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 120  # two worker processes importing on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("zhucun serve did not start")


def _failed_addresses(db) -> list[str]:
    rows = db.scalars(select(LoginFailure.address).order_by(LoginFailure.id)).all()
    db.commit()
    return list(rows)


def test_zhucun_serve_ignores_forwarded_for_by_default(world, db_url, db):
    port = free_port()
    server = _serve(db_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        for i in range(3):
            r = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": f"guess{i}", "password": "wrong-password"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            assert r.status_code == 401
    finally:
        server.terminate()
        server.wait(10)
    # A rotating header did not make three addresses out of one client.
    assert _failed_addresses(db) == ["127.0.0.1"] * 3


def test_zhucun_serve_believes_a_configured_proxy(world, db_url, db):
    port = free_port()
    server = _serve(db_url, port, ZHUCUN_TRUSTED_PROXIES="127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        r = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "guess", "password": "wrong-password"},
            headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7"},
        )
        assert r.status_code == 401
    finally:
        server.terminate()
        server.wait(10)
    assert _failed_addresses(db) == ["203.0.113.7"]
