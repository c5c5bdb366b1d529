"""Settings refuse weak secrets in production; the policy comes from defaults and TOML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError

from app.core.config import DEVELOPMENT_SECRET, Settings
from app.core.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql+psycopg://zhucun:secret@db/zhucun"


def test_production_refuses_the_default_and_short_secrets():
    with pytest.raises(ValidationError, match="ZHUCUN_SECRET_KEY"):
        Settings(ZHUCUN_ENV="production")
    with pytest.raises(ValidationError):
        Settings(ZHUCUN_ENV="production", ZHUCUN_SECRET_KEY="short")
    ok = Settings(ZHUCUN_ENV="production", ZHUCUN_SECRET_KEY="k" * 40, DATABASE_URL=PG)
    assert ok.secret_key == "k" * 40
    assert Settings().secret_key == DEVELOPMENT_SECRET  # development keeps working


def test_production_refuses_a_missing_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="DATABASE_URL must be set"):
        Settings(ZHUCUN_ENV="production", ZHUCUN_SECRET_KEY="k" * 40)
    assert Settings().effective_database_url.endswith("/zhucun.db")  # development keeps it


def test_default_policy_is_the_city_rules():
    p = Policy()
    assert p.quota.days_per_quarter == 50
    assert (p.day_rule.min_checkins, p.day_rule.min_span_hours) == (2, 6.0)
    assert (p.geofence.near_m, p.geofence.max_accuracy_m) == (200.0, 200.0)
    assert p.leave.tier_for(3).approver == "township"
    assert p.leave.tier_for(4).approver == "county"
    assert p.leave.tier_for(4).filed_with == "city"
    assert p.flags.uncredited == ("mock_location",)
    assert p.timezone == "Asia/Shanghai"


def test_policy_toml_overrides_only_what_it_names(tmp_path):
    f = tmp_path / "policy.toml"
    f.write_text(
        'timezone = "Asia/Urumqi"\n[quota]\ndays_per_quarter = 60\n'
        "[calendar]\nholidays = [2027-01-01]\n",
        encoding="utf-8",
    )
    p = load_policy(f)
    assert p.quota.days_per_quarter == 60
    assert p.timezone == "Asia/Urumqi"
    assert p.day_rule.min_checkins == 2
    assert str(p.calendar.holidays[0]) == "2027-01-01"


@pytest.mark.parametrize(
    "text",
    [
        "[quota]\ndays_per_quarter = -1\n",
        'timezone = "Mars/Olympus"\n',
        "[quota]\nunknown = 1\n",
        '[[leave.tiers]]\nmax_days = 3\napprover = "township"\n',
    ],
)
def test_bad_policy_files_are_refused(tmp_path, text):
    f = tmp_path / "policy.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError):
        load_policy(f)


def test_policy_endpoint_shows_the_effective_policy(world):
    r = world.get("alice", "/policy")
    assert r.status_code == 200
    assert r.json()["quota"]["days_per_quarter"] == 50


def test_zhucun_policy_show_prints_the_override(tmp_path):
    f = tmp_path / "policy.toml"
    f.write_text("[day_rule]\nmin_span_hours = 4\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "policy", "show"],
        env={"ZHUCUN_POLICY": str(f), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert json.loads(out.stdout)["day_rule"]["min_span_hours"] == 4


def test_openapi_document_is_committed_and_current():
    from app.openapi import PATH, render

    assert PATH.read_text(encoding="utf-8") == render(), "run: python -m app.openapi"


def test_workers_default_one_per_core_on_postgresql_and_one_on_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.cli import default_workers

    monkeypatch.delenv("ZHUCUN_WORKERS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert default_workers("sqlite:///x.db") == 1
    assert default_workers("postgresql+psycopg://u@h/db") == 6
    monkeypatch.setenv("ZHUCUN_WORKERS", "3")
    assert default_workers("sqlite:///x.db") == 3
    for bad in ("0", "two"):
        monkeypatch.setenv("ZHUCUN_WORKERS", bad)
        with pytest.raises(typer.Exit):
            default_workers("sqlite:///x.db")
