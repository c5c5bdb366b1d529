"""Every time a client can send, at the calendar's ends, answers a clean refusal (issue 18,
item 2): instants of year 1 to 9999 with offsets up to ±23:59, dates of any year, periods of
any year, quarter and month, through every route that takes one (leave, roll calls' and
inspections' and events' times, rectification due dates, reports, compliance periods, the
ledger's and the dashboard's days). Never a 500; every refusal one its operation declares
(a generated client switches on it); and the instants judged by the window they must meet.
Check-ins' `captured_at` has its own tests (tests/checkins/test_extreme_clocks.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.contract import declared_codes
from tests.extremes import dates, instants, periods

HOME = "430121001001"  # alice's village, in township1's and county's scope
SKEW = timedelta(seconds=300)  # policy.flags.max_clock_ahead_s
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no record of the service is older
MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Input:
    """One place a route takes a time: who calls, and the request a value makes."""

    user: str
    method: str
    template: str  # the operation's path in the document
    request: Callable[[Any, str], tuple[str, dict[str, Any]]]  # (world, value) -> path, kwargs


def _query(path: str, *names: str, **fixed: Any) -> Callable[[Any, str], tuple[str, Any]]:
    return lambda world, value: (path, {"params": {**dict.fromkeys(names, value), **fixed}})


def _body(path: str, make: Callable[[Any, str], dict[str, Any]]) -> Callable[[Any, str], Any]:
    return lambda world, value: (path, {"json": make(world, value)})


def _member(world: Any) -> int:
    return int(world.members["alice"].id)


def _leave(start: str, end: str) -> dict[str, Any]:
    return {"type": "personal", "start_date": start, "end_date": end, "reason": "家中有事"}


INSTANT_INPUTS = {
    "inspection visited_at": Input(
        "county",
        "POST",
        "/api/v1/inspections",
        _body("/inspections", lambda w, v: {"village_code": HOME, "visited_at": v}),
    ),
    "event occurred_at": Input(
        "alice",
        "POST",
        "/api/v1/events",
        _body(
            "/events",
            lambda w, v: {"kind": "other", "occurred_at": v, "summary": "x", "village_code": HOME},
        ),
    ),
}


def _pending_leave(world: Any) -> int:
    """A pending leave of bob's (made once per test), to return from and extend."""
    cached = getattr(world, "_extreme_leave", None)
    if cached is None:
        r = world.post("bob", "/leave-requests", json=_leave("2099-12-01", "2099-12-02"))
        assert r.status_code == 201, r.text
        cached = world._extreme_leave = r.json()["id"]
    return int(cached)


DATE_INPUTS = {
    "leave start_date and end_date": Input(
        "alice",
        "POST",
        "/api/v1/leave-requests",
        _body("/leave-requests", lambda w, v: {**_leave(v, v), "emergency": True}),
    ),
    "leave end_date": Input(
        "alice",
        "POST",
        "/api/v1/leave-requests",
        _body(
            "/leave-requests",
            lambda w, v: _leave(datetime.now(UTC).date().isoformat(), v),
        ),
    ),
    "leave returned_on": Input(
        "bob",
        "POST",
        "/api/v1/leave-requests/{leave_id}/return",
        lambda w, v: (f"/leave-requests/{_pending_leave(w)}/return", {"json": {"returned_on": v}}),
    ),
    "leave extension end_date": Input(
        "bob",
        "POST",
        "/api/v1/leave-requests/{leave_id}/extend",
        lambda w, v: (
            f"/leave-requests/{_pending_leave(w)}/extend",
            {"json": {"end_date": v, "reason": "延长"}},
        ),
    ),
    "rectification due_date": Input(
        "county",
        "POST",
        "/api/v1/rectifications",
        _body(
            "/rectifications",
            lambda w, v: {
                "member_id": _member(w),
                "source": {"kind": "manual"},
                "requirement": "在岗",
                "due_date": v,
            },
        ),
    ),
    "presence from/to": Input(
        "county",
        "GET",
        "/api/v1/members/{member_id}/presence",
        lambda w, v: (f"/members/{_member(w)}/presence", {"params": {"from": v, "to": v}}),
    ),
    "presence to": Input(
        "alice", "GET", "/api/v1/members/{member_id}/presence", _query("/members/me/presence", "to")
    ),
    "on-post date": Input(
        "county", "GET", "/api/v1/presence/on-post", _query("/presence/on-post", "date")
    ),
    "check-in list from/to": Input(
        "alice", "GET", "/api/v1/checkins", _query("/checkins", "from", "to")
    ),
    "inspection list from/to": Input(
        "county", "GET", "/api/v1/inspections", _query("/inspections", "from", "to")
    ),
    "presence report from/to": Input(
        "county",
        "GET",
        "/api/v1/reports/presence",
        _query("/reports/presence", "from", "to", format="json", limit=5),
    ),
    "presence report from": Input(
        "county",
        "GET",
        "/api/v1/reports/presence",
        lambda w, v: (
            "/reports/presence",
            {"params": {"from": v, "to": datetime.now(UTC).date().isoformat(), "format": "json"}},
        ),
    ),
    "dashboard date": Input(
        "county", "GET", "/api/v1/dashboard/overview", _query("/dashboard/overview", "date")
    ),
    "dashboard village date": Input(
        "county",
        "GET",
        "/api/v1/dashboard/villages/{code}",
        _query(f"/dashboard/villages/{HOME}", "date"),
    ),
}

PERIOD_INPUTS = {
    "compliance period": Input(
        "county",
        "GET",
        "/api/v1/compliance/members/{member_id}",
        lambda w, v: (f"/compliance/members/{_member(w)}", {"params": {"period": v}}),
    ),
    "compliance quarter": Input(
        "alice",
        "GET",
        "/api/v1/compliance/members/{member_id}",
        _query("/compliance/members/me", "quarter"),
    ),
    "compliance rules period": Input(
        "alice",
        "GET",
        "/api/v1/compliance/members/{member_id}/rules",
        _query("/compliance/members/me/rules", "period"),
    ),
    "compliance list period": Input(
        "county", "GET", "/api/v1/compliance", _query("/compliance", "period")
    ),
    "compliance report period": Input(
        "county",
        "GET",
        "/api/v1/reports/compliance",
        _query("/reports/compliance", "period", format="json", limit=5),
    ),
    "monthly bulletin month": Input(
        "county",
        "GET",
        "/api/v1/reports/monthly",
        _query("/reports/monthly", "month", format="json"),
    ),
    "annual year": Input(
        "county",
        "GET",
        "/api/v1/compliance/members/{member_id}/annual",
        lambda w, v: (
            f"/compliance/members/{_member(w)}/annual",
            {"params": {"year": v.split("Q")[0].split("-")[0].lstrip("0") or "0"}},
        ),
    ),
}

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _answer(world: Any, doc: dict[str, Any], where: Input, value: str) -> tuple[int, str | None]:
    """Send the value; check the answer is no 500 and a refusal the operation declares."""
    path, kwargs = where.request(world, value)
    headers = world.headers(where.user)
    world.db.rollback()  # SQLite: the test's session holds no lock while the app writes
    r = world.client.request(where.method, f"/api/v1{path}", headers=headers, **kwargs)
    assert r.status_code < 500, (path, value, r.text)
    if r.status_code < 400:
        return r.status_code, None
    code = r.json()["code"]
    operation = doc["paths"][where.template][where.method.lower()]
    assert code in declared_codes(operation, str(r.status_code)), (path, value, r.text)
    return r.status_code, code


_settings = settings(
    max_examples=int(os.environ.get("ZHUCUN_FUZZ_EXAMPLES", 120)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_settings
@given(data=st.data())
def test_an_instant_is_stored_or_out_of_its_window(world, app, data):
    name = data.draw(st.sampled_from(sorted(INSTANT_INPUTS)))
    text, utc = data.draw(instants())
    event(name)
    status, code = _answer(world, app.openapi(), INSTANT_INPUTS[name], text)
    now = datetime.now(UTC)
    if utc is None:
        expected = {"too_old"} if text.startswith("0001") else {"in_future"}
    else:
        expected = set()
        if utc > now + SKEW - MARGIN:
            expected.add("in_future")
        if utc < EARLIEST:
            expected.add("too_old")
        if EARLIEST <= utc < now + SKEW + MARGIN:
            expected.add("stored")
    assert (code or "stored") in expected, (name, text, status, code)


@_settings
@given(data=st.data())
def test_a_date_of_any_year_is_a_clean_answer(world, app, data):
    name = data.draw(st.sampled_from(sorted(DATE_INPUTS)))
    value = data.draw(dates())
    event(name)
    status, code = _answer(world, app.openapi(), DATE_INPUTS[name], value)
    day = _DAY.fullmatch(value)
    if day is None or not 2000 <= int(day.group(1)) <= 2099:
        # Outside the service's years (or no day at all): refused as malformed, whatever else.
        assert (status, code) == (422, "validation_error"), (name, value, code)


@_settings
@given(data=st.data())
def test_a_period_of_any_year_is_a_clean_answer(world, app, data):
    name = data.draw(st.sampled_from(sorted(PERIOD_INPUTS)))
    value = data.draw(periods())
    event(name)
    _answer(world, app.openapi(), PERIOD_INPUTS[name], value)
