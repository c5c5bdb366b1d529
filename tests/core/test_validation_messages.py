"""Validation problems: malformed bodies are 422 validation_error, messages follow the
request's language, and every problem says which language it is in."""

from __future__ import annotations

import uuid


def test_malformed_json_is_422_validation_error(client):
    for body in (b'{"refresh_token": ', b'{"refresh_token": "\xff"}'):
        r = client.post(
            "/api/v1/auth/refresh", content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "validation_error"
        assert r.json()["errors"][0]["loc"][0] == "body"


def test_messages_are_chinese_under_zh_cn_and_english_under_en(world):
    body = {
        "client_id": str(uuid.uuid4()),
        "captured_at": "2026-11-28T08:30:00+08:00",
        "latitude": 95,
        "longitude": 113.0,
    }
    r = world.client.post(
        "/api/v1/checkins",
        json=body,
        headers={**world.headers("alice"), "Accept-Language": "zh-CN"},
    )
    assert r.status_code == 422
    assert r.headers["Content-Language"] == "zh-CN"
    msgs = {tuple(e["loc"]): e["msg"] for e in r.json()["errors"]}
    assert msgs[("body", "latitude")] == "应小于或等于 90"
    assert msgs[("body", "accuracy_m")] == "缺少必填字段"

    r = world.client.post(
        "/api/v1/checkins", json=body, headers={**world.headers("alice"), "Accept-Language": "en"}
    )
    assert r.headers["Content-Language"] == "en"
    msgs = {tuple(e["loc"]): e["msg"] for e in r.json()["errors"]}
    assert msgs[("body", "accuracy_m")] == "Field required"


def test_batch_item_messages_follow_the_language(world):
    r = world.client.post(
        "/api/v1/checkins/batch",
        json={"items": [{"client_id": "not-a-uuid"}]},
        headers={**world.headers("alice"), "Accept-Language": "zh-CN"},
    )
    assert r.status_code == 200
    error = r.json()["results"][0]["error"]
    assert error["code"] == "validation_error"
    assert all(not e["msg"].isascii() for e in error["errors"])
