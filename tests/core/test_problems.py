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


def test_cors_allows_only_configured_origins(settings, policy):
    from starlette.testclient import TestClient

    from app.main import create_app

    configured = settings.model_copy(update={"cors_origins": "https://mp.example.cn"})
    app = create_app(configured, policy)
    with TestClient(app) as c:
        ok = c.options(
            "/api/v1/me",
            headers={"Origin": "https://mp.example.cn", "Access-Control-Request-Method": "GET"},
        )
        bad = c.options(
            "/api/v1/me",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert ok.headers["access-control-allow-origin"] == "https://mp.example.cn"
    assert "access-control-allow-origin" not in bad.headers


def test_accept_language_parsing():
    from app.core.i18n import pick_language

    assert pick_language(None) == "zh-CN"
    assert pick_language("en") == "en"
    assert pick_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert pick_language("fr-FR, en;q=0.5") == "en"
    assert pick_language("en;q=0.2, zh-TW;q=0.9") == "zh-CN"
    assert pick_language("de") == "zh-CN"
    assert pick_language("en;q=oops") == "zh-CN"
