"""What an outside probe found (issue 18, item 8), through the API: a run of absence goes on over
a weekend of leave, suspicious_checkins names the flags actually raised, and leave_overstay
says whether the member reported back (API.md "Absences, settled")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.policy import Policy
from tests.compliance.support import (
    STORY_POLICY,
    add_member,
    at_local,
    days,
    fix,
    leave,
    live_in,
    set_today,
)

EAST, WEST, FAR = "430121001001", "430121001002", "430122001001"  # FAR: about 10 km east


@pytest.fixture
def policy() -> Policy:
    return STORY_POLICY


def answer(world, member: str, period: str, language: str = "zh-CN") -> dict:
    r = world.client.get(
        f"/api/v1/compliance/members/{world.members[member].id}",
        params={"period": period},
        headers=world.headers("county", **{"Accept-Language": language}),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def spans(body: dict, code: str) -> list[tuple[str | None, str | None]]:
    return [
        (v["from"] or v["date"], v["to"] or v["date"])
        for v in body["violations"]
        if v["code"] == code
    ]


def test_leave_on_a_weekend_inside_an_absence_does_not_end_the_run(world, app):
    # July 2026: Mon 6 - Fri 10 absent, Sat 11 - Sun 12 on approved leave, Mon 13 - Wed 15
    # absent, back on Thursday 16. Beside it, the two days that do end a run: a working day
    # on leave (Friday 10), and a weekend day present in the village (Saturday 11).
    set_today(app, date(2026, 7, 18))
    around = days(date(2026, 7, 1), date(2026, 7, 3)) + days(date(2026, 7, 16), date(2026, 7, 17))
    for key in ("weekend_leave", "friday_leave", "saturday_there"):
        add_member(world, key, EAST, date(2026, 1, 1))
        live_in(world, key, EAST, around)
    leave(world, "weekend_leave", "personal", date(2026, 7, 11), date(2026, 7, 12), "township1")
    leave(world, "friday_leave", "personal", date(2026, 7, 10), date(2026, 7, 10), "township1")
    live_in(world, "saturday_there", EAST, [date(2026, 7, 11)])

    one = answer(world, "weekend_leave", "2026Q3")
    assert spans(one, "absent_without_leave") == [("2026-07-06", "2026-07-15")]
    assert spans(one, "absent_run") == [("2026-07-06", "2026-07-15")]
    assert "8 working day(s)" in next(
        v["detail"] for v in one["violations"] if v["code"] == "absent_without_leave"
    )
    assert one["absent_workdays"] == 8
    assert spans(answer(world, "friday_leave", "2026Q3"), "absent_without_leave") == [
        ("2026-07-06", "2026-07-09"),
        ("2026-07-13", "2026-07-15"),
    ]
    assert spans(answer(world, "saturday_there", "2026Q3"), "absent_without_leave") == [
        ("2026-07-06", "2026-07-10"),
        ("2026-07-13", "2026-07-15"),
    ]
    # The list counts the same entries (one run; a run of 5 or more is also absent_run).
    listed = world.get("county", "/compliance", params={"period": "2026Q3"}).json()["items"]
    absences = {
        i["full_name"]: {c: n for c, n in i["violations"].items() if c.startswith("absent")}
        for i in listed
    }
    assert absences["weekend_leave"] == {"absent_without_leave": 1, "absent_run": 1}
    assert absences["friday_leave"] == {"absent_without_leave": 2}
    assert absences["saturday_there"] == {"absent_without_leave": 2, "absent_run": 1}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_suspicious_checkins_names_only_the_flags_raised(world, app, language):
    set_today(app, date(2026, 1, 10))
    add_member(world, "qian", EAST, date(2025, 1, 1))
    morning = at_local(date(2025, 11, 6), 9)
    fixes = [
        fix(EAST, at_local(date(2025, 11, 5), 9)) | {"is_mock": True},  # mock_location
        fix(EAST, morning),
        fix(FAR, morning + timedelta(seconds=60)),  # 10 km in a minute: impossible_speed
    ]
    r = world.post("qian", "/checkins/batch", json={"items": fixes})
    assert [x["status"] for x in r.json()["results"]] == ["created"] * 3
    flagged = [x["checkin"]["flags"] for x in r.json()["results"]]
    assert "mock_location" in flagged[0]
    assert "impossible_speed" in flagged[2]
    found = list(answer(world, "qian", "2025Q4", language)["violations"])
    suspicious = [v for v in found if v["code"] == "suspicious_checkins"]
    assert [(v["from"], v["to"]) for v in suspicious] == [("2025-11-05", "2025-11-06")]
    detail = suspicious[0]["detail"]
    for other in ("repeated_fix", "clock_skew", "replayed_track", "重复坐标", "时钟偏差"):
        assert other not in detail
    assert detail.startswith("2 check-in(s) flagged mock_location, impossible_speed (")
    assert "模拟定位" in detail
    assert "速度异常" in detail


def test_a_flag_found_later_is_named_and_each_fix_counted_once(world, app):
    """A replayed track is a finding recorded beside fixes after they were stored: on a fix
    already flagged on arrival it adds its name, not a fix; on a plain one it adds both."""
    from datetime import UTC, datetime

    from app.checkins.models import CheckInFinding

    set_today(app, date(2026, 1, 10))
    add_member(world, "sun", EAST, date(2025, 1, 1))
    fixes = [
        fix(EAST, at_local(date(2025, 11, 5), 9)) | {"is_mock": True},
        fix(EAST, at_local(date(2025, 11, 6), 9)),
        fix(EAST, at_local(date(2025, 11, 7), 9)),
    ]
    r = world.post("sun", "/checkins/batch", json={"items": fixes})
    mock, plain, _ = (x["checkin"] for x in r.json()["results"])
    for checkin in (mock, plain):
        world.db.add(
            CheckInFinding(
                checkin_id=checkin["id"],
                code="replayed_track",
                matched_date=date(2025, 10, 1),
                evidence={},
                found_at=datetime.now(UTC),
                local_date=date.fromisoformat(checkin["local_date"]),
            )
        )
    world.db.commit()
    (found,) = [
        v
        for v in answer(world, "sun", "2025Q4")["violations"]
        if v["code"] == "suspicious_checkins"
    ]
    assert (found["from"], found["to"]) == ("2025-11-05", "2025-11-06")
    assert found["detail"].startswith("2 check-in(s) flagged mock_location, replayed_track (")
    assert "轨迹重放" in found["detail"]
    assert "impossible_speed" not in found["detail"]


def test_leave_overstay_says_whether_the_member_reported_back(world, app):
    # Leave 1-3 December 2025 (Mon-Wed); both members first back in the village on Monday 8.
    # One reported back (销假) that day, four days late; the other never did.
    set_today(app, date(2026, 1, 10))
    for key in ("late", "silent"):
        add_member(world, key, EAST, date(2025, 1, 1))
        live_in(world, key, EAST, days(date(2025, 12, 8), date(2025, 12, 12)))
    late = leave(world, "late", "personal", date(2025, 12, 1), date(2025, 12, 3), "township1")
    r = world.post(
        "late", f"/leave-requests/{late['id']}/return", json={"returned_on": "2025-12-08"}
    )
    assert r.status_code == 200, r.text
    silent = leave(world, "silent", "personal", date(2025, 12, 1), date(2025, 12, 3), "township1")

    def overstay(key: str) -> dict:
        found = answer(world, key, "2025Q4")["violations"]
        (only,) = [v for v in found if v["code"] == "leave_overstay"]
        assert (only["from"], only["to"]) == ("2025-12-04", "2025-12-07")
        return dict(only)

    reported = overstay("late")["detail"]
    assert f"#{late['id']}" in reported
    assert "reported back on 2025-12-08, 4 day(s) late" in reported
    assert "did not report back" not in reported
    assert "without reporting back" not in reported
    never = overstay("silent")["detail"]
    assert f"#{silent['id']}" in never
    assert "did not report back" in never
    assert "day(s) late" not in never
