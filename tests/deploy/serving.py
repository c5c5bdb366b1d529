"""`zhucun serve` as processes of their own, for tests that kill them or put them behind
HAProxy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {seconds} s")


@contextmanager
def serve_processes(
    db_url: str, key_file: Path, log_dir: Path, count: int, extra_env: dict[str, str] | None = None
) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    env = (
        os.environ
        | (extra_env or {})
        | {
            "DATABASE_URL": db_url,
            "ZHUCUN_SECRET_KEY": TEST_SECRET,
            "ZHUCUN_SIGNING_KEY_FILE": str(key_file),
            "ZHUCUN_LOG_LEVEL": "WARNING",
            "ZHUCUN_TRUSTED_PROXIES": "127.0.0.1/32",
        }
    )
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for i in range(count):
            port = free_port()
            log = (log_dir / f"serve{i}.log").open("wb")
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started.append((f"127.0.0.1:{port}", proc))
        for address, proc in started:
            wait_ready(f"http://{address}", proc)
        yield started
    finally:
        for _, proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in started:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
