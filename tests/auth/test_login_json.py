"""Issue 18, item 7b: `wx.request` sends JSON. `POST /auth/token` takes the same fields as JSON
as it takes them as a form: same throttle, same answer; and the OpenAPI document describes both
bodies, so that generated clients can send either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.world import PASSWORD

TOKEN = "/api/v1/auth/token"
SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def as_json(client, username: str, password: str, **extra):
    return client.post(TOKEN, json={"username": username, "password": password, **extra})


def as_form(client, username: str, password: str):
    return client.post(TOKEN, data={"username": username, "password": password})


def test_a_json_sign_in_answers_a_working_pair(world, client):
    r = as_json(client, "alice", PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert (me.status_code, me.json()["username"]) == (200, "alice")
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 200


def test_a_json_body_with_a_charset_is_json(world, client):
    r = client.post(
        TOKEN,
        content=json.dumps({"username": "county", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text


def test_json_and_form_answer_alike(world, client):
    for send in (as_json, as_form):
        wrong = send(client, "county", "not-the-password")
        assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
        nobody = send(client, "nobody", PASSWORD)
        assert (nobody.status_code, nobody.json()["code"]) == (401, "invalid_credentials")
        assert set(send(client, "county", PASSWORD).json()) == {
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "refresh_expires_in",
        }


def test_json_and_form_failures_count_in_one_throttle(world, client):
    for send in (as_json, as_form, as_json, as_form, as_json):
        assert send(client, "city", "wrong-password").status_code == 401
    for send in (as_json, as_form):
        r = send(client, "city", PASSWORD)
        assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")
        assert int(r.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"username": "alice"}, ["body", "password"]),
        ({"password": PASSWORD}, ["body", "username"]),
        ({"username": "", "password": PASSWORD}, ["body", "username"]),
        ({"username": 12, "password": PASSWORD}, ["body", "username"]),
        ({"username": "alice", "password": PASSWORD, "remember_me": True}, ["body", "remember_me"]),
        (["alice", PASSWORD], ["body"]),
    ],
)
def test_a_json_body_that_does_not_fit_is_a_422_naming_the_field(world, client, body, where):
    r = client.post(TOKEN, json=body)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error"), r.text
    assert [e["loc"] for e in r.json()["errors"]] == [where]


def test_a_missing_json_field_is_named_in_chinese(world, client):
    r = client.post(TOKEN, json={"username": "alice"})
    assert r.headers["content-language"] == "zh-CN"
    assert r.json()["errors"] == [{"loc": ["body", "password"], "msg": "缺少必填字段"}]


@pytest.mark.parametrize(
    "content", [b"{", b'{"username": "alice",', b"\xff\xfe", b"", b"null", b'"text"']
)
def test_malformed_json_is_a_422_never_a_500(world, client, content):
    r = client.post(TOKEN, content=content, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error"), r.text


def test_nul_in_a_json_credential_is_refused_before_any_lookup(world, client):
    r = as_json(client, "alice\x00", PASSWORD)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_the_form_still_signs_in_and_names_missing_fields(world, client):
    assert as_form(client, "alice", PASSWORD).status_code == 200
    r = client.post(TOKEN, data={"username": "alice", "password": ""})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    assert [e["loc"] for e in r.json()["errors"]] == [["body", "password"]]
    multipart = {"username": (None, "alice"), "password": (None, PASSWORD)}
    assert client.post(TOKEN, files=multipart).status_code == 200


def test_the_contract_describes_both_bodies():
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    body = spec["paths"][TOKEN]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/LoginForm"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/LoginIn"}},
    }
    schemas = spec["components"]["schemas"]
    assert set(schemas["LoginIn"]["required"]) == {"username", "password"}
    assert schemas["LoginIn"]["additionalProperties"] is False
    assert set(schemas["LoginForm"]["required"]) == {"username", "password"}
    assert "default" not in schemas["LoginForm"]["properties"]["grant_type"]
