"""Login, tokens and throttling through the real HTTP stack."""

from __future__ import annotations

import jwt

from tests.world import PASSWORD, SECRET


def login(client, username: str, password: str):
    return client.post(
        "/api/v1/auth/token",
        data={"username": username, "password": password},
    )


def test_login_issues_a_working_bearer_token(world, client):
    r = login(client, "county", PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "id": world.users["county"].id,
        "username": "county",
        "full_name": "county",
        "role": "county",
        "scope": "430121",
        "member_id": None,
        "notice_version": None,  # the privacy notice not acknowledged yet
    }


def test_me_of_a_member_names_the_member(world):
    r = world.get("alice", "/me")
    assert r.json()["member_id"] == world.members["alice"].id
    assert r.json()["role"] == "member"


def test_wrong_password_is_401_invalid_credentials(world, client):
    r = login(client, "county", "not-the-password")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_credentials"
    assert login(client, "nobody", PASSWORD).json()["code"] == "invalid_credentials"


def test_five_failures_lock_the_username_even_for_the_right_password(world, client):
    for _ in range(5):
        assert login(client, "city", "wrong-password").status_code == 401
    r = login(client, "city", PASSWORD)
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0
    # Another user is not affected by someone guessing at "city".
    assert login(client, "county", PASSWORD).status_code == 200


def test_successful_logins_are_not_limited(world, client):
    for _ in range(8):
        assert login(client, "auditor", PASSWORD).status_code == 200


def test_fifty_failures_from_one_address_lock_that_address(world, client):
    for i in range(50):
        assert login(client, f"guess{i}", "wrong-password").status_code == 401
    r = login(client, "county", PASSWORD)
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"


def test_missing_token_is_401(client, world):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_tampered_token_is_401_invalid_token(world, client):
    token = world.token("county")
    head, payload, sig = token.split(".")
    forged = jwt.encode(
        {"sub": str(world.users["admin"].id), "role": "admin", "scope": "", "exp": 9999999999},
        "some-other-secret-of-sufficient-length-0000",
        algorithm="HS256",
    )
    for bad in (f"{head}.{payload}.{sig[:-2]}xx", forged, "garbage"):
        r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.json()["code"] == "invalid_token"


def test_expired_token_is_401_invalid_token(world, client):
    expired = jwt.encode(
        {"sub": str(world.users["county"].id), "role": "county", "scope": "430121", "exp": 1000},
        SECRET,
        algorithm="HS256",
    )
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


def test_deactivated_user_token_stops_working(world, client, db):
    user = world.users["city"]
    user.is_active = False
    db.commit()
    r = client.get("/api/v1/me", headers=world.headers("city"))
    assert r.json()["code"] == "invalid_token"


def test_a_token_seen_before_still_expires(world, client):
    import time

    # exp is whole seconds (truncated): a 2 s token lives 1-2 s; a 1 s one could live 0.05 s.
    token = world.token("county", ttl=2)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    time.sleep(2.2)
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


def test_a_username_longer_than_the_stored_column_is_still_throttled(world, client):
    long_name = "x" * 100  # failures store the first 64 characters
    for _ in range(5):
        assert login(client, long_name, "wrong-password").status_code == 401
    assert login(client, long_name, "wrong-password").status_code == 429
