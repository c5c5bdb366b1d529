"""GET /reports/monthly: the monthly attendance bulletin (每月考勤通报), per county and township
from the ledger, and the members below pace from app.compliance; signed like every export."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from tests.reports.support import STORY_DAYS, seed_story


@pytest.fixture
def story(world):
    return world, seed_story(world)


def _days(a, b):
    return max((b - a).days + 1, 0)


def test_divisions_and_the_below_pace_list(story):
    world, today = story
    yesterday = today - timedelta(days=1)
    first = yesterday.replace(day=1)
    month = f"{first:%Y-%m}"
    answer = world.get("city", "/reports/monthly", params={"month": month, "format": "json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["zhucun-receipt"]
    data = answer.json()
    rows = {(d["level"], d["code"]): d for d in data["divisions"]}
    assert set(rows) == {
        ("county", "430121"),
        ("county", "430122"),
        ("township", "430121001"),
        ("township", "430121002"),
        ("township", "430122001"),
    }
    county = rows[("county", "430121")]
    month_days = _days(first, yesterday)
    alice_present = _days(max(first, today - timedelta(days=STORY_DAYS)), yesterday)
    bob_leave = _days(max(first, today - timedelta(days=3)), yesterday)
    assert county["members"] == 3
    assert county["assigned_days"] == 3 * month_days
    assert county["present_days"] == alice_present
    assert county["leave_days"] == bob_leave
    assert county["on_post_rate"] == round(alice_present / (3 * month_days), 4)
    assert rows[("township", "430121002")]["absent_workdays"] > 0  # carol, never there
    quarter = f"{yesterday.year}Q{(yesterday.month - 1) // 3 + 1}"
    listed = world.get("city", "/compliance", params={"period": quarter}).json()["items"]
    behind = [
        i["member_id"] for i in listed if i["status"] in {"missed", "unattainable", "at_risk"}
    ]
    assert [r["member_id"] for r in data["below_pace"]] == behind
    assert world.members["carol"].id in behind


def test_csv_has_two_blocks_and_xlsx_two_sheets(story, tmp_path):
    world, today = story
    month = f"{today - timedelta(days=1):%Y-%m}"
    csv_answer = world.get("county", "/reports/monthly", params={"month": month})
    assert csv_answer.status_code == 200
    text = csv_answer.content.decode("utf-8-sig")
    blocks = text.split("\r\n\r\n")
    assert blocks[0].startswith("县乡汇总\r\n层级,区划代码,名称,派驻人数")
    assert blocks[1].startswith("进度落后名单\r\n队员编号,姓名")
    assert "430122" not in text  # the other county is outside the caller's scope
    xlsx = world.get("county", "/reports/monthly", params={"month": month, "format": "xlsx"})
    path = tmp_path / "m.xlsx"
    path.write_bytes(xlsx.content)
    assert load_workbook(path).sheetnames == ["县乡汇总", "进度落后名单", "导出说明"]


@pytest.mark.parametrize(
    ("who", "month", "status", "code"),
    [
        ("county", "2026-13", 422, "invalid_period"),
        ("county", "2026Q4", 422, "invalid_period"),
        ("county", "2098-01", 422, "period_in_future"),
        ("alice", "2026-01", 403, "role_required"),
    ],
)
def test_bad_input(world, who, month, status, code):
    answer = world.get(who, "/reports/monthly", params={"month": month})
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_unknown_scope_is_404(world):
    answer = world.get(
        "township1", "/reports/monthly", params={"month": "2026-01", "scope": "430121002"}
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "scope_not_found")


@pytest.fixture
def policy():
    from app.core.policy import Policy, SupervisionPolicy

    # An event reported more than an hour after it occurred is late, so that an event of
    # yesterday's month is late whatever the hour the test runs at.
    return Policy(supervision=SupervisionPolicy(late_event_report_hours=1))


def test_late_events_and_open_rectifications_are_counted_where_they_belong(story, policy):
    world, today = story
    yesterday = today - timedelta(days=1)
    occurred = datetime.combine(yesterday, time(0, 30), policy.zone)
    event = {
        "kind": "petition",
        "occurred_at": occurred.isoformat(),
        "summary": "村民上访",
        "village_code": "430121001001",
    }
    assert world.post("alice", "/events", json=event).status_code == 201
    item = {
        "member_id": world.members["carol"].id,
        "source": {"kind": "manual"},
        "requirement": "本月在村不少于 10 天",
        "due_date": (today + timedelta(days=30)).isoformat(),
    }
    assert world.post("county", "/rectifications", json=item).status_code == 201
    month = f"{yesterday:%Y-%m}"
    data = world.get("city", "/reports/monthly", params={"month": month, "format": "json"}).json()
    rows = {(d["level"], d["code"]): d for d in data["divisions"]}
    assert rows[("county", "430121")]["late_events"] == 1
    assert rows[("township", "430121001")]["late_events"] == 1  # alice's village
    assert rows[("township", "430121002")]["late_events"] == 0
    assert rows[("township", "430121002")]["open_rectifications"] == 1  # carol's
    assert rows[("county", "430121")]["open_rectifications"] == 1
    assert rows[("county", "430122")]["open_rectifications"] == 0
