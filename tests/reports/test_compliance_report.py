"""GET /reports/compliance: the compliance list (app.compliance) flattened one row per member,
signed like every export, with the same scope rules."""

from __future__ import annotations

import csv
import io

import pytest

from app.reports.compliance_report import STATUS_LABELS
from tests.reports.support import seed_story


def _quarter(day):
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@pytest.fixture
def story(world):
    return world, seed_story(world)


def test_rows_agree_with_the_compliance_list(story):
    world, today = story
    period = _quarter(today)
    listed = world.get("county", "/compliance", params={"period": period}).json()["items"]
    expected = {i["member_id"]: i for i in listed}
    answer = world.get("county", "/reports/compliance", params={"period": period, "format": "json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["zhucun-receipt"]
    rows = answer.json()["items"]
    assert [r["member_id"] for r in rows] == [i["member_id"] for i in listed]  # worst first
    for row in rows:
        want = expected[row["member_id"]]
        assert row["status"] == want["status"]
        assert (row["required_days"], row["present_days"], row["needed_days"]) == (
            want["required_days"],
            want["present_days"],
            want["needed_days"],
        )
        for code, n in want["violations"].items():
            assert row.get(code, row["other_violations"]) >= n
    csv_answer = world.get("county", "/reports/compliance", params={"period": period})
    table = list(csv.reader(io.StringIO(csv_answer.content[3:].decode(), newline="")))
    assert table[0][:9] == [
        *("队员编号", "姓名", "派驻单位", "村编码", "村名", "乡镇", "县区", "考核期", "状态")
    ]
    assert {r[8] for r in table[1:]} <= set(STATUS_LABELS.values())
    assert {r[4] for r in table[1:]} <= {"东山村", "西山村", "南湖村", "北岭村"}
    assert len(table) == 1 + len(rows)


def test_json_pages_follow_the_order(story):
    world, today = story
    period, cursor, seen = _quarter(today), None, []
    while True:
        params = {"period": period, "format": "json", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = world.get("city", "/reports/compliance", params=params).json()
        seen += [r["member_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(m.id for m in world.members.values())
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("who", "params", "status", "code"),
    [
        ("county", {"period": "2026Q5"}, 422, "invalid_period"),
        ("county", {"period": "2098Q1"}, 422, "period_in_future"),
        ("county", {"period": "now", "scope": "430122"}, 404, "scope_not_found"),
        ("unit", {"period": "now", "scope": "市交通运输局"}, 404, "scope_not_found"),
        ("alice", {"period": "now"}, 403, "role_required"),
        ("county", {"period": "now", "format": "doc"}, 422, "validation_error"),
    ],
)
def test_bad_input(world, who, params, status, code):
    from tests.ledger.support import today

    if params["period"] == "now":
        params = {**params, "period": _quarter(today())}
    answer = world.get(who, "/reports/compliance", params=params)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
