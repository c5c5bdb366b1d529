"""Hostile input found by probing from outside: each must answer a 4xx problem, never a 500.

One row per probe (issue 11, defect 1): ids beyond what our columns hold, cursors that decode
to the wrong types or extreme values, dates at the ends of the calendar, and NUL characters in
text that PostgreSQL cannot store.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.checkins.helpers import fix
from tests.world import PASSWORD, World

BIG = 2**31  # one more than a PostgreSQL integer holds
HUGE = 2**70


def raw_cursor(text: str) -> str:
    """A cursor as a client could forge it: any JSON, base64url without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FORGED_CURSORS = [
    '["a"]',
    "[null]",
    "[1e999]",
    f"[{HUGE}]",
    "[true]",
    '["\\u0000"]',
    "[]",
    "[1, 2, 3]",
    '["9999-12-31T23:59:59-23:59", 1]',
    '["0001-01-01T00:00:00+14:00", 1]',
    f'["2026-01-01T00:00:00+08:00", {HUGE}]',
    '["2026-01-01T00:00:00", 1]',
    '[{"a": 1}, 1]',
]

# (who, method, path, request kwargs, status, code); "{alice}" is alice's member id.
PROBES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    ("county", "GET", f"/leave-requests/{BIG}", {}, 422, "validation_error"),
    ("township1", "POST", f"/leave-requests/{BIG}/approve", {}, 422, "validation_error"),
    ("township1", "POST", f"/leave-requests/{BIG}/reject", {}, 422, "validation_error"),
    ("alice", "POST", f"/leave-requests/{BIG}/cancel", {}, 422, "validation_error"),
    (
        "alice",
        "POST",
        f"/leave-requests/{BIG}/return",
        {"json": {"returned_on": "2026-01-01"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "POST",
        f"/leave-requests/{BIG}/extend",
        {"json": {"end_date": "2026-01-01"}},
        422,
        "validation_error",
    ),
    ("county", "GET", f"/members/{BIG}/presence", {}, 404, "member_not_found"),
    ("county", "GET", f"/members/{HUGE}/presence", {}, 422, "validation_error"),
    ("county", "GET", "/members/" + "9" * 5000 + "/presence", {}, 422, "validation_error"),
    ("county", "GET", "/checkins", {"params": {"member_id": BIG}}, 422, "validation_error"),
    ("county", "GET", "/leave-requests", {"params": {"member_id": BIG}}, 422, "validation_error"),
    ("county", "GET", f"/checkins/{HUGE}/void", {}, 405, "method_not_allowed"),
    (
        "county",
        "POST",
        f"/checkins/{HUGE}/void",
        {"json": {"reason": "x"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "GET",
        "/members/me/presence",
        {"params": {"to": "0001-01-05"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "GET",
        "/members/me/presence",
        {"params": {"from": "9999-12-01", "to": "9999-12-31"}},
        422,
        "validation_error",
    ),
    (
        "county",
        "GET",
        "/presence/on-post",
        {"params": {"date": "0001-01-01"}},
        422,
        "validation_error",
    ),
    (
        "county",
        "GET",
        "/checkins",
        {"params": {"member_id": "{alice}", "from": "0001-01-01"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "POST",
        "/leave-requests",
        {"json": {"type": "personal", "start_date": "9999-12-30", "end_date": "9999-12-31"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "POST",
        "/leave-requests",
        {
            "json": {
                "type": "personal",
                "start_date": "2099-01-01",
                "end_date": "2099-01-02",
                "reason": "家中\x00有事",
            }
        },
        422,
        "validation_error",
    ),
    (
        "township1",
        "POST",
        "/leave-requests/1/approve",
        {"json": {"comment": "同意\x00"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "POST",
        "/leave-requests/1/cancel",
        {"json": {"comment": "\x00"}},
        422,
        "validation_error",
    ),
    (
        "county",
        "GET",
        "/leave-requests",
        {"params": {"filed_with": "ci\x00ty"}},
        422,
        "validation_error",
    ),
    (
        "alice",
        "POST",
        "/checkins",
        {"json": fix(device_id="phone\x00")},
        422,
        "validation_error",
    ),
    (
        "county",
        "GET",
        "/villages",
        {"params": {"cursor": raw_cursor('["\\u0000"]')}},
        422,
        "invalid_cursor",
    ),
]

CURSOR_ROUTES = [
    ("county", "/checkins", {"member_id": "{alice}"}),
    ("county", "/leave-requests", {}),
    ("county", "/villages", {}),
]


@pytest.fixture
def probe_world(app, db) -> World:  # type: ignore[no-untyped-def]
    # A client that answers 500s instead of raising them, so a failing probe reports its status.
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        yield World.build(db, client)


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return value.replace("{alice}", str(world.members["alice"].id))
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _assert_problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status", "code"), PROBES)
def test_hostile_input_is_a_problem(probe_world, who, method, path, kwargs, status, code):
    world = probe_world
    kwargs = {k: _fill(v, world) for k, v in kwargs.items()}
    r = world.client.request(method, f"/api/v1{path}", headers=world.headers(who), **kwargs)
    _assert_problem(r, status, code)


@pytest.mark.parametrize(("who", "path", "params"), CURSOR_ROUTES)
def test_forged_cursor_is_invalid_cursor(probe_world, who, path, params):
    world = probe_world
    wrong = {}
    for forged in FORGED_CURSORS:
        query = {**_fill(params, world), "cursor": raw_cursor(forged)}
        r = world.get(who, path, params=query)
        # A village code cursor is text: "a" is a valid position.
        expected = 200 if path == "/villages" and forged == '["a"]' else 422
        if r.status_code != expected or (expected == 422 and r.json()["code"] != "invalid_cursor"):
            wrong[forged] = (r.status_code, r.text[:200])
    assert not wrong


@pytest.mark.parametrize("username", ["county\x00", "\x00", "\x00admin"])
def test_login_with_unstorable_username_is_refused(probe_world, username):
    r = probe_world.client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    _assert_problem(r, 422, "validation_error")


@pytest.mark.parametrize(
    "path", ["/checkins", "/leave-requests", "/leave-requests/1/cancel", "/checkins/batch"]
)
def test_undecodable_body_is_422_validation_error(probe_world, path):
    # Found by schemathesis: bytes that are not JSON answered 400 `http_error`.
    world = probe_world
    headers = {**world.headers("alice"), "Content-Type": "application/json"}
    r = world.client.post(f"/api/v1{path}", content=b"\x7f\xd9x\xe9$&\t\xff", headers=headers)
    _assert_problem(r, 422, "validation_error")
