"""Under the default `basic` profile: every login attempt is logged (issue 21 item 6, "in both
profiles") and kept `login_log_days`; sign-in itself is as before (the per-username 429)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.auth.hardening import purge_login_log
from app.auth.models import LoginAttempt
from app.core.policy import Policy
from tests.world import PASSWORD


def login(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_basic_logs_every_attempt_and_keeps_the_per_username_throttle(world, client, db):
    for _ in range(5):
        assert login(client, "city", "wrong-password").status_code == 401
    assert login(client, "city", PASSWORD).status_code == 429  # not 423: no lockout here
    assert login(client, "county", PASSWORD).status_code == 200
    page = world.get("auditor", "/audit/logins?username=city")
    assert page.status_code == 200, page.text
    assert [a["result"] for a in page.json()["items"]] == ["too_many_attempts"] + [
        "invalid_credentials"
    ] * 5
    today = datetime.now(Policy().zone).date()
    mine = world.get("admin", f"/audit/logins?result=success&from={today}").json()["items"]
    assert [(a["username"], a["method"]) for a in mine] == [("county", "password")]
    assert world.get("county", "/audit/logins").status_code == 403


def test_the_daily_purge_keeps_180_days(world, client, db):
    assert login(client, "county", PASSWORD).status_code == 200
    db.add(
        LoginAttempt(
            at=datetime.now(UTC) - timedelta(days=181),
            username="county",
            user_id=None,
            address="10.0.0.1",
            user_agent="old",
            method="password",
            result="success",
        )
    )
    db.commit()
    assert purge_login_log(db, Policy().security) == 1
    db.commit()
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    db.commit()
