"""Refresh tokens, logout, password change and deactivation, through the real HTTP stack."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import AuthSession, RefreshToken
from tests.world import PASSWORD


def login(client, username: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def bearer(pair: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def me(client, pair: dict) -> int:
    return client.get("/api/v1/me", headers=bearer(pair)).status_code


def test_login_answers_a_refresh_token_that_is_stored_hashed(world, client, db):
    pair = login(client, "alice")
    assert pair["refresh_token"]
    assert pair["refresh_expires_in"] > pair["expires_in"]
    stored = db.scalars(select(RefreshToken.token_hash)).all()
    assert hashlib.sha256(pair["refresh_token"].encode()).hexdigest() in stored
    assert pair["refresh_token"] not in stored


def test_refresh_rotates_and_the_old_token_stops_working(world, client):
    first = login(client, "alice")
    r = refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second) == 200
    third = refresh(client, second["refresh_token"])
    assert third.status_code == 200


def test_reusing_a_rotated_token_revokes_the_whole_family(world, client, db):
    first = login(client, "alice")
    second = refresh(client, first["refresh_token"]).json()
    # Past the grace (tests/auth/test_refresh_grace.py), someone replays the first token:
    # refused, and the session it belongs to ends.
    for row in db.scalars(select(RefreshToken).where(RefreshToken.rotated_at.is_not(None))):
        row.rotated_at -= timedelta(seconds=31)
    db.commit()
    r = refresh(client, first["refresh_token"])
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_refresh_token"
    assert refresh(client, second["refresh_token"]).status_code == 401
    assert me(client, second) == 401
    reasons = db.scalars(select(AuthSession.revoked_reason).where(AuthSession.method == "password"))
    assert "refresh_reuse" in list(reasons)


def test_unknown_or_expired_refresh_token_is_refused(world, client, db):
    assert refresh(client, "not-a-token").json()["code"] == "invalid_refresh_token"
    pair = login(client, "bob")
    row = db.scalar(select(RefreshToken).order_by(RefreshToken.id.desc()))
    row.expires_at = row.created_at
    db.commit()
    assert refresh(client, pair["refresh_token"]).status_code == 401


def test_logout_ends_access_and_refresh_tokens_of_that_session_only(world, client):
    phone = login(client, "county")
    laptop = login(client, "county")
    r = client.post("/api/v1/auth/logout", headers=bearer(phone))
    assert r.status_code == 204
    assert me(client, phone) == 401
    assert client.get("/api/v1/me", headers=bearer(phone)).json()["code"] == "invalid_token"
    assert refresh(client, phone["refresh_token"]).status_code == 401
    assert me(client, laptop) == 200
    assert refresh(client, laptop["refresh_token"]).status_code == 200


def test_logout_needs_a_token(world, client):
    assert client.post("/api/v1/auth/logout").json()["code"] == "not_authenticated"


def test_password_change_signs_out_the_other_sessions(world, client):
    phone = login(client, "township1")
    other = login(client, "township1")
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-new-long-password"},
        headers=bearer(phone),
    )
    assert r.status_code == 204, r.text
    assert me(client, phone) == 200
    assert me(client, other) == 401
    assert refresh(client, other["refresh_token"]).status_code == 401
    assert refresh(client, phone["refresh_token"]).status_code == 200
    # The new password signs in; the old one does not.
    login(client, "township1", "a-new-long-password")
    r = client.post("/api/v1/auth/token", data={"username": "township1", "password": PASSWORD})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("current", "new", "status", "code"),
    [
        ("wrong-password", "a-new-long-password", 403, "wrong_password"),
        (PASSWORD, "short", 422, "weak_password"),
        (PASSWORD, PASSWORD, 422, "weak_password"),
    ],
)
def test_password_change_refusals(world, client, current, new, status, code):
    pair = login(client, "city")
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(pair),
    )
    assert r.status_code == status
    assert r.json()["code"] == code
    assert me(client, pair) == 200


def test_wrong_current_passwords_are_throttled_like_logins(world, client):
    pair = login(client, "auditor")
    body = {"current_password": "guess-guess", "new_password": "a-new-long-password"}
    for _ in range(5):
        r = client.post("/api/v1/me/password", json=body, headers=bearer(pair))
        assert r.status_code == 403
    r = client.post("/api/v1/me/password", json=body, headers=bearer(pair))
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"


def test_admin_deactivation_ends_every_session_at_once(world, client):
    pair = login(client, "bob")
    r = world.post("admin", f"/users/{world.users['bob'].id}/deactivate")
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    assert me(client, pair) == 401
    assert refresh(client, pair["refresh_token"]).status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "bob", "password": PASSWORD})
    assert r.json()["code"] == "invalid_credentials"
    # Reactivated, the account signs in afresh; the old session stays ended.
    assert world.post("admin", f"/users/{world.users['bob'].id}/activate").status_code == 200
    assert me(client, pair) == 401
    login(client, "bob")


def test_deactivation_is_for_admins_and_not_of_oneself(world):
    target = world.users["bob"].id
    r = world.post("county", f"/users/{target}/deactivate")
    assert (r.status_code, r.json()["code"]) == (403, "role_required")
    r = world.post("admin", f"/users/{world.users['admin'].id}/deactivate")
    assert (r.status_code, r.json()["code"]) == (409, "cannot_deactivate_self")
    r = world.post("admin", "/users/999999/deactivate")
    assert (r.status_code, r.json()["code"]) == (404, "user_not_found")


def test_a_token_without_a_session_is_refused(world, client):
    from app.core.security import TokenClaims, issue_token
    from tests.world import SECRET

    user = world.users["county"]
    token = issue_token(TokenClaims(user.id, user.role, user.scope), SECRET, 600)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json()["code"] == "invalid_token"


@pytest.mark.postgis
def test_concurrent_refreshes_with_one_token_never_both_succeed(world, settings, policy):
    """Without a grace, two phones (or a thief and the owner) refresh with the same token at
    the same moment: the row lock lets one through; the other sees reuse and ends the session.
    (Within the grace both answer one pair: tests/auth/test_refresh_grace.py.)"""
    import threading

    from starlette.testclient import TestClient

    from app.main import create_app

    app = create_app(settings.model_copy(update={"refresh_grace_seconds": 0}), policy)
    for _ in range(5):
        with TestClient(app) as c:
            pair = login(c, "alice")
        barrier = threading.Barrier(2)
        results: list[int] = []

        def go(
            token: str = pair["refresh_token"],
            barrier: threading.Barrier = barrier,
            results: list[int] = results,
        ) -> None:
            with TestClient(app) as c:
                barrier.wait()
                results.append(refresh(c, token).status_code)

        threads = [threading.Thread(target=go) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 401]
