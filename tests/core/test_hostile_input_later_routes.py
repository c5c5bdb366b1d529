"""Hostile input on the routes that came after the first probe (compliance, supervision,
reports, the dashboard): ids past the columns, cursors of the wrong shape, dates and periods
at the ends of the calendar. Each answers a 4xx problem, never a 500."""

from __future__ import annotations

import pytest

# (path, expected status, expected code or None for any 4xx)
PROBES = [
    ("/compliance?period=9999Q4", 422, "invalid_period"),
    ("/compliance?period=0001Q1", 422, "invalid_period"),
    ("/compliance/members/1?period=0001-01", 422, "invalid_period"),
    ("/compliance?period=2026Q4&cursor=WyJhIl0", 422, None),
    ("/compliance/members/2147483648?period=2026Q4", None, None),
    ("/compliance/members/1/annual?year=1", 422, "validation_error"),
    ("/reports/presence?from=0001-01-01&to=0001-01-05&format=json", 422, "validation_error"),
    ("/reports/presence?from=2026-01-01&to=2026-01-05&format=json&cursor=WyJhIl0", 422, None),
    ("/reports/compliance?period=0001Q1&format=json", 422, None),
    ("/reports/monthly?month=0001-01&format=json", 422, None),
    ("/reports/receipts/99999999999999999999", None, None),
    ("/roll-calls/99999999999999999999", None, None),
    ("/roll-calls?cursor=WzFlOTk5XQ", 422, None),
    ("/inspections?from=0001-01-01&to=0001-01-05", 422, "validation_error"),
    ("/inspections/2147483648", None, None),
    ("/events?cursor=WyJhIl0", 422, None),
    ("/events/2147483648", None, None),
    ("/rectifications/2147483648", None, None),
    ("/rectifications?cursor=W251bGxd", 422, None),
    ("/dashboard/overview?date=0001-01-01", 422, "validation_error"),
    ("/dashboard/villages/430121001001?date=9999-12-31", 422, "validation_error"),
]


@pytest.mark.parametrize(("path", "status", "code"), PROBES)
def test_a_hostile_query_is_a_4xx_problem(world, path, status, code):
    answer = world.get("city", path)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json")
    if status is not None:
        assert answer.status_code == status, answer.text
    if code is not None:
        assert answer.json()["code"] == code
