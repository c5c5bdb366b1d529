"""Every bench runs, at a size that takes seconds (`--smoke` or tiny arguments), on the backend
it needs: a bench that breaks (a changed API, a token the service no longer accepts) fails the
build instead of waiting for the next person who needs its figures. Figures are not judged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("ZHUCUN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

pytestmark = pytest.mark.slow


def bench(script: str, *args: str) -> str:
    """Run bench/SCRIPT with ARGS from the project root; its output, which must end well."""
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        env={**os.environ, "ZHUCUN_BENCH_PG_URL": PG_URL},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{script}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stdout


def test_geofence_bench():
    out = bench("geofence_bench.py", "--smoke")
    assert "locate_many:" in out
    assert "smoke run: the targets are not judged" in out


def test_flags_bench(backend):
    if backend != "sqlite":
        pytest.skip("flags_bench makes its own SQLite database: run once, in the SQLite half")
    out = bench("flags_bench.py", "--members", "3", "--days", "3")
    assert "faked days: share of days raising each flag" in out


def test_village_outline_bench(backend):
    if backend != "sqlite":
        pytest.skip("village_outline_bench makes its own SQLite database: run in the SQLite half")
    out = bench("village_outline_bench.py", "--vertices", "2000")
    assert "outline 5 m, cached" in out


def test_ledger_bench(backend):
    out = bench("ledger_bench.py", "--backend", backend, "--smoke")
    assert f"{backend}: seeded 20 members" in out
    assert "ledger refresh costs" in out


def test_soak(backend):
    out = bench("soak.py", "--backend", backend, "--minutes", "0.1")
    assert "errors: 0" in out
    assert "intact" in out


@pytest.mark.postgis
def test_compliance_bench():
    out = bench("compliance_bench.py", "--smoke")
    assert "GET /compliance (city, 30 members" in out
    assert "rotation, every team of the city" in out


@pytest.mark.postgis
def test_roll_call_bench():
    out = bench("roll_call_bench.py", "--smoke")
    assert "POST /roll-calls over 50 members" in out
    assert "'called': 50" in out


@pytest.mark.postgis
def test_reports_bench():
    out = bench("reports_bench.py", "--smoke")
    assert "CSV  2,760 rows" in out
    assert "dashboard overview, 300 villages" in out


@pytest.mark.postgis
def test_checkins_bench():
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is missing: .ci/run installs it")
        pytest.skip("checkins_bench drives the server with wrk: apt-get install wrk")
    out = bench("checkins_bench.py", "--smoke")
    assert "chains intact" in out


def test_households_bench(backend):
    if backend != "postgis":
        pytest.skip("households_bench makes its own PostGIS database: run in the PostGIS half")
    out = bench("households_bench.py", "--smoke")
    assert "GET /households?scope=430101" in out
    assert "a visit costs" in out
    assert "annual evaluation of county 430101" in out


@pytest.mark.browser
def test_pages_bench(backend):
    if backend != "sqlite":
        pytest.skip(
            "pages_bench serves the shell from its own SQLite app: run once, in the SQLite half"
        )
    out = bench("pages_bench.py", "--smoke")
    assert "/app from the service worker:" in out
    assert "smoke run: the targets are not judged" in out


@pytest.mark.postgis
def test_surveys_bench():
    out = bench("surveys_bench.py", "--smoke")
    assert "GET /surveys/{id}/results, 120 answers in 6 villages" in out
    assert "POST /public/surveys/{code}: p95" in out
    assert "smoke run: the targets are not judged" in out
