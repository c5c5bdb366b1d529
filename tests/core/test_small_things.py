"""Small things a user sees (issue 23 item 8): problem types that resolve to the service's own
pages, a favicon, a CORS preflight that says why it fails, `Vary: Accept-Language` on localised
answers, JSON logs without uvicorn's ANSI copy and with the client's address."""

from __future__ import annotations

import json
import logging

from app.core.logging import JsonFormatter
from app.main import create_app
from tests.checkins.helpers import fix


def test_a_problem_type_is_the_services_own_page(world, client):
    problem = client.get("/api/v1/me").json()
    assert problem["type"] == "/problems/not_authenticated"
    page = client.get(problem["type"])
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-CN">' in page.text
    assert "未登录" in page.text
    assert "Not authenticated" in page.text
    assert "HTTP 401" in page.text


def test_a_template_detail_shows_placeholders_not_braces(client):
    page = client.get("/problems/payload_too_large")
    assert "请求体不得超过 … 字节。" in page.text


def test_the_list_of_problem_codes_links_every_code(client):
    page = client.get("/problems")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    for code in ("validation_error", "not_found", "invalid_credentials", "cors_not_configured"):
        assert f'href="/problems/{code}"' in page.text


def test_an_unknown_problem_code_is_not_found(client):
    r = client.get("/problems/no_such_code")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_favicons(client):
    svg = client.get("/favicon.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg")
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert 'href="/favicon.svg"' in client.get("/dashboard").text


PREFLIGHT = {
    "Origin": "https://app.example.cn",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def test_a_preflight_with_no_origins_configured_says_so(client):
    r = client.options("/api/v1/checkins", headers=PREFLIGHT)
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "cors_not_configured"
    assert "ZHUCUN_CORS_ORIGINS" in body["detail"]
    assert "https://app.example.cn" in body["detail"]
    assert "access-control-allow-origin" not in r.headers


def test_a_preflight_to_an_allowed_origin_still_passes(settings):
    from starlette.testclient import TestClient

    allowed = settings.model_copy(update={"cors_origins": "https://app.example.cn"})
    with TestClient(create_app(allowed)) as client:
        r = client.options("/api/v1/checkins", headers=PREFLIGHT)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example.cn"


def test_localised_answers_vary_on_accept_language(world, client):
    problem = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert problem.headers["content-language"] == "en"
    assert "Accept-Language" in problem.headers["vary"]

    # A check-in's answer carries flag reasons in the caller's language.
    sent = world.post("alice", "/checkins", json=fix(accuracy_m=900.0))
    assert sent.status_code in (200, 201), sent.text
    headers = {**world.headers("alice"), "Accept-Language": "en"}
    listed = client.get("/api/v1/checkins", headers=headers)
    assert listed.status_code == 200
    assert listed.headers["content-language"] == "en"
    assert "Accept-Language" in listed.headers["vary"]

    # An answer with no text in it does not.
    health = client.get("/healthz", headers={"Accept-Language": "en"})
    assert "vary" not in health.headers
    assert "content-language" not in health.headers


def _formatted(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter().format(record))


def test_json_logs_drop_uvicorns_coloured_copy():
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started %s", ("x",), None)
    record.color_message = "Started \x1b[1m%s\x1b[0m"
    line = _formatted(record)
    assert "color_message" not in line
    assert line["msg"] == "Started x"
    assert "\x1b" not in json.dumps(line)


def test_the_access_log_names_the_client(client, caplog):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="zhucun.access"):
        client.get("/healthz")
    (record,) = [r for r in caplog.records if r.name == "zhucun.access"]
    assert _formatted(record)["client"] == "testclient"
