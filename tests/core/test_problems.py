"""Problem responses: language, validation errors, body limit, no 500 leaks."""

from __future__ import annotations


def test_problem_is_in_chinese_by_default_and_english_on_request(world, client):
    zh = client.get("/api/v1/me")
    en = client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert zh.json()["code"] == en.json()["code"] == "not_authenticated"
    assert zh.json()["title"] == "未登录"
    assert en.json()["title"] == "Not authenticated"
    for r in (zh, en):
        assert set(r.json()) >= {"type", "title", "status", "detail", "code"}


def test_validation_error_carries_errors(world):
    r = world.get("county", "/villages/locate", params={"latitude": "north", "longitude": 500})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert ("query", "latitude") in locs
    assert ("query", "longitude") in locs


def test_unknown_path_is_a_problem(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_oversized_body_is_413(world, client):
    big = "x" * 2_100_000
    r = client.post(
        "/api/v1/auth/token",
        content=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_oversized_chunked_body_is_413(world, client):
    def chunks():
        for _ in range(30):
            yield b"x" * 100_000

    r = client.post(
        "/api/v1/auth/token",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_every_response_has_a_request_id(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.headers["x-request-id"]
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"


def test_unexpected_error_is_500_problem_with_request_id(app, client, caplog):
    from fastapi import APIRouter

    boom = APIRouter()

    @boom.get("/boom")
    def explode() -> None:
        raise RuntimeError("secret internals")

    app.include_router(boom)
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal_error"
    assert "secret internals" not in r.text
    assert body["request_id"] in body["detail"]


def test_readyz_and_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
