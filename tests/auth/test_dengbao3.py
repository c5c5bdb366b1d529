"""Sign-in for 等保 2.0 level 3 (issue 21 item 6) under `policy.security.profile = "dengbao3"`:
password complexity and history, maximum age, lockout and unlock by a security administrator,
idle sessions, the TOTP second factor, the login log and the security events."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from app.auth.models import AuthSession, LoginAttempt, User
from app.core.policy import Policy
from tests.world import PASSWORD

STRONG = "Strong-Pass-2026"


@pytest.fixture
def policy() -> Policy:
    return Policy.model_validate({"security": {"profile": "dengbao3"}})


def login(client, username: str, password: str, **extra: str):
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **extra}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def change(client, token: str, current: str, new: str):
    return client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


def test_the_profile_turns_on_every_item_and_each_stays_overridable():
    security = Policy.model_validate({"security": {"profile": "dengbao3"}}).security
    assert (security.password_classes, security.password_history) == (3, 5)
    assert (security.password_max_age_days, security.lockout_failures) == (90, 5)
    assert (security.lockout_minutes, security.idle_timeout_minutes) == (30, 30)
    assert "county" in security.second_factor_roles
    assert security.separation_of_duties
    tuned = Policy.model_validate(
        {"security": {"profile": "dengbao3", "lockout_failures": 3, "idle_timeout_minutes": 0}}
    ).security
    assert (tuned.lockout_failures, tuned.idle_timeout_minutes) == (3, 0)
    basic = Policy().security
    assert not (basic.password_classes)
    assert not (basic.lockout_failures)
    assert not (basic.second_factor_roles)


def test_a_new_password_needs_three_classes_and_may_not_repeat_the_last_five(world, client):
    token = login(client, "township1", PASSWORD).json()["access_token"]
    weak = change(client, token, PASSWORD, "alllowercase")
    assert (weak.status_code, weak.json()["code"]) == (422, "weak_password")
    assert "3" in weak.json()["detail"]
    assert change(client, token, PASSWORD, STRONG).status_code == 204
    again = change(client, token, STRONG, PASSWORD + "A1")
    assert again.status_code == 204
    # Back to one of the last five: refused, whichever it was.
    for old in (STRONG, PASSWORD):
        refused = change(client, token, PASSWORD + "A1", old)
        assert (refused.status_code, refused.json()["code"]) == (422, "weak_password"), old
    user = world.db.scalar(select(User).where(User.username == "township1"))
    world.db.refresh(user)
    assert user.password_changed_at is not None


def test_an_expired_password_allows_only_changing_it(world, client, db):
    db.execute(
        update(User)
        .where(User.username == "township1")
        .values(password_changed_at=datetime.now(UTC) - timedelta(days=91))
    )
    db.commit()
    # A session opened before it expired is held to it on its next request.
    old = world.get("township1", "/villages?scope=430121001")
    assert (old.status_code, old.json()["code"]) == (403, "password_expired")
    token = login(client, "township1", PASSWORD).json()["access_token"]
    refused = client.get("/api/v1/villages?scope=430121001", headers=bearer(token))
    assert (refused.status_code, refused.json()["code"]) == (403, "password_expired")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert change(client, token, PASSWORD, STRONG).status_code == 204
    assert client.get("/api/v1/villages?scope=430121001", headers=bearer(token)).status_code == 200


def test_five_wrong_passwords_lock_the_account_until_a_security_admin_unlocks_it(
    world, client, caplog
):
    world.add_user("secadmin", "security_admin", "")
    world.db.commit()
    with caplog.at_level(logging.WARNING, logger="zhucun.security"):
        for _ in range(5):
            r = login(client, "township1", "wrong-password")
            assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")
    locked = login(client, "township1", PASSWORD)
    assert (locked.status_code, locked.json()["code"]) == (423, "account_locked")
    assert 0 < int(locked.headers["Retry-After"]) <= 30 * 60
    events = [r for r in caplog.records if getattr(r, "event", None) == "account_locked"]
    assert [e.username for e in events] == ["township1"]  # type: ignore[attr-defined]
    # Not the per-username 429 of the basic profile; another account is not affected.
    assert login(client, "township2", PASSWORD).status_code == 200
    target = world.users["township1"].id
    assert world.post("township2", f"/users/{target}/unlock").status_code == 403
    unlocked = world.post("secadmin", f"/users/{target}/unlock")
    assert unlocked.status_code == 200, unlocked.text
    assert login(client, "township1", PASSWORD).status_code == 200
    # The row of failures starts again after a success.
    for _ in range(4):
        assert login(client, "township1", "wrong-password").status_code == 401
    assert login(client, "township1", PASSWORD).status_code == 200
    assert world.db.scalar(select(User.failed_logins).where(User.id == target)) == 0


def test_an_idle_non_member_session_ends_and_a_member_session_does_not(world, db):
    assert world.get("township1", "/me").status_code == 200
    long_ago = datetime.now(UTC) - timedelta(minutes=31)
    for name in ("township1", "alice"):
        db.execute(
            update(AuthSession)
            .where(AuthSession.id == world.session_id(name))
            .values(last_seen_at=long_ago)
        )
    db.commit()
    idle = world.get("township1", "/me")
    assert (idle.status_code, idle.json()["code"]) == (401, "session_idle")
    assert world.get("township1", "/me").json()["code"] == "invalid_token"  # ended for good
    assert world.get("alice", "/me").status_code == 200
    # A request notes the session's activity (to the minute).
    seen = db.scalar(
        select(AuthSession.last_seen_at).where(AuthSession.id == world.session_id("alice"))
    )
    db.commit()
    assert seen is not None


def test_totp_enrolment_then_login_with_and_without_the_code(world, client, caplog):
    first = login(client, "county", PASSWORD)
    assert first.status_code == 200, first.text
    token = first.json()["access_token"]
    limited = client.get("/api/v1/villages?scope=430121", headers=bearer(token))
    assert (limited.status_code, limited.json()["code"]) == (
        403,
        "second_factor_enrolment_required",
    )
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    enrolment = client.post("/api/v1/me/totp", headers=bearer(token))
    assert enrolment.status_code == 200, enrolment.text
    body = enrolment.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].lstrip().startswith("<svg")
    assert "</svg>" in body["qr_svg"]
    totp = pyotp.TOTP(body["secret"])
    wrong = client.post("/api/v1/me/totp/confirm", json={"code": "000000"}, headers=bearer(token))
    if totp.verify("000000", valid_window=1):  # one chance in a third of a million
        pytest.skip("the wrong code happened to be right")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_second_factor")
    now = time.time()
    confirmed = client.post(
        "/api/v1/me/totp/confirm", json={"code": totp.at(now)}, headers=bearer(token)
    )
    assert confirmed.status_code == 204, confirmed.text
    # This session proved both factors: it is free now.
    assert client.get("/api/v1/villages?scope=430121", headers=bearer(token)).status_code == 200

    missing = login(client, "county", PASSWORD)
    assert (missing.status_code, missing.json()["code"]) == (401, "second_factor_required")
    with caplog.at_level(logging.WARNING, logger="zhucun.security"):
        reused = login(client, "county", PASSWORD, totp=totp.at(now))  # accepted once only
    assert (reused.status_code, reused.json()["code"]) == (401, "invalid_second_factor")
    assert any(getattr(r, "event", None) == "totp_failure" for r in caplog.records)
    later = login(client, "county", PASSWORD, totp=totp.at(now + 30))
    assert later.status_code == 200, later.text
    full = later.json()["access_token"]
    assert client.get("/api/v1/villages?scope=430121", headers=bearer(full)).status_code == 200
    # JSON sign-in takes the code too.
    json_login = client.post(
        "/api/v1/auth/token",
        json={"username": "county", "password": PASSWORD, "totp": totp.at(now + 30)},
    )
    assert json_login.json()["code"] == "invalid_second_factor"  # that step was used
    again = client.post("/api/v1/me/totp", headers=bearer(full))
    assert (again.status_code, again.json()["code"]) == (409, "second_factor_enrolled")


def test_every_login_attempt_is_logged_for_the_audit_administrator(world, client, db):
    world.add_user("auditadmin", "audit_admin", "")
    world.add_user("sysadmin", "sysadmin", "")
    world.db.commit()
    assert login(client, "township1", "wrong-password").status_code == 401
    assert login(client, "township1", PASSWORD).status_code == 200
    assert login(client, "nobody", PASSWORD).status_code == 401
    page = world.get("auditadmin", "/audit/logins?username=township1")
    assert page.status_code == 200, page.text
    results = [a["result"] for a in page.json()["items"]]
    assert results == ["success", "invalid_credentials"]  # newest first
    item = page.json()["items"][0]
    assert item["method"] == "password"
    assert item["user_id"] == world.users["township1"].id
    assert item["address"]
    assert item["user_agent"]
    assert world.get("sysadmin", "/audit/logins").status_code == 403
    unknown = db.scalars(select(LoginAttempt.result).where(LoginAttempt.username == "nobody"))
    assert list(unknown) == ["invalid_credentials"]
    db.commit()


def test_an_idle_session_cannot_be_refreshed_either(world, client, db):
    pair = login(client, "township1", PASSWORD).json()
    db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == world.users["township1"].id)
        .values(created_at=datetime.now(UTC) - timedelta(minutes=45))
    )
    db.commit()
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert (refreshed.status_code, refreshed.json()["code"]) == (401, "session_idle")
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.json()["code"] == "invalid_refresh_token"  # the session ended
