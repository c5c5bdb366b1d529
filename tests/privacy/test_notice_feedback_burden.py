"""Issue 21 items 3-5: the versioned notice acknowledged once per version, the member's own
copy, complaints and suggestions answered and overdue (working days), the burden report and
the roll-call cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.audit.models import ActionEntry
from app.core.outbox import OutboxEvent
from app.core.policy import Policy
from app.core.time import local_date
from app.privacy import notice
from app.privacy.feedback import due_after
from app.privacy.models import Feedback
from tests.checkins.helpers import fix
from tests.households.support import csv_of, households_by_code, import_csv, row, visit


def test_the_notice_is_acknowledged_once_per_version(world, db, monkeypatch):
    public = world.client.get("/api/v1/privacy/notice")
    assert public.status_code == 200
    body = public.json()
    assert body["version"] == notice.VERSION
    assert "第十三条" in body["basis"]
    assert "同意" in body["basis"]
    assert any("180" in line for line in body["retention"])
    english = world.client.get("/api/v1/privacy/notice", headers={"Accept-Language": "en"})
    assert "Art. 13" in english.json()["basis"]
    assert world.get("alice", "/me").json()["notice_version"] is None

    wrong = world.post("alice", "/me/notice", json={"version": "1999-01"})
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "notice_version_mismatch"
    first = world.post("alice", "/me/notice", json={"version": notice.VERSION})
    assert first.status_code == 200, first.text
    again = world.post("alice", "/me/notice", json={"version": notice.VERSION})
    assert again.json() == first.json()  # once per version: the same acknowledgement
    assert world.get("alice", "/me").json()["notice_version"] == notice.VERSION
    acks = db.scalars(select(ActionEntry).where(ActionEntry.action == "privacy.notice_ack")).all()
    assert len(acks) == 1
    db.commit()

    # A new version: acknowledged anew, once.
    monkeypatch.setattr(notice, "VERSION", "2027-01")
    monkeypatch.setattr("app.privacy.router.VERSION", "2027-01")
    assert world.post("alice", "/me/notice", json={"version": "2027-01"}).status_code == 200
    assert world.get("alice", "/me").json()["notice_version"] == "2027-01"
    acks = db.scalars(select(ActionEntry).where(ActionEntry.action == "privacy.notice_ack")).all()
    assert [a.payload["version"] for a in acks] == [
        notice.VERSION.replace("2027-01", "2026-12"),
        "2027-01",
    ]
    db.commit()


def test_the_members_own_copy_holds_everything(world, db):
    assert world.post("alice", "/checkins", json=fix()).status_code == 201
    alice = world.members["alice"].id
    world.get("township1", "/checkins", params={"member_id": alice})
    world.post("alice", "/feedback", json={"kind": "suggestion", "text": "少填表"})
    mine = world.get("alice", "/me/export")
    assert mine.status_code == 200
    doc = mine.json()
    assert doc["member"]["id"] == alice
    assert doc["member"]["assignments"]
    assert len(doc["checkins"]) == 1
    assert doc["checkins"][0]["latitude"] is not None
    assert [e["viewer_role"] for e in doc["access_log"]] == ["township"]
    assert [f["text"] for f in doc["feedback"]] == ["少填表"]
    assert doc["ledger"]
    csv = world.get("alice", "/me/export", params={"format": "csv"})
    assert csv.status_code == 200
    assert csv.text.startswith("\ufeffsection,id,data")
    assert "checkins," in csv.text
    assert "access_log," in csv.text
    # Reading one's own copy logs nothing.
    assert len(world.get("alice", "/me/access-log").json()["items"]) == 1


def test_a_complaint_answered_and_one_overdue(world, db):
    filed = world.post(
        "alice",
        "/feedback",
        json={
            "kind": "complaint",
            "text": "签到页面打不开",
            "about": {"kind": "checkin", "id": "5"},
        },
    )
    assert filed.status_code == 201, filed.text
    first = filed.json()
    assert first["status"] == "open"
    assert not first["overdue"]
    assert first["division_code"] == "430121001001"
    assert first["due_date"] == str(
        # 15 working days from the local day it was filed (after 16:00 UTC, tomorrow's in UTC)
        due_after(
            local_date(datetime.fromisoformat(first["created_at"]), Policy().zone), 15, Policy()
        )
    )
    other = world.post("bob", "/feedback", json={"kind": "burden", "text": "一天要报三次"}).json()
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.topic == "feedback.received")).all()
    assert len(events) == 2
    db.commit()
    # Bob's was filed 30 days ago: past its 15 working days.
    db.execute(
        update(Feedback)
        .where(Feedback.id == other["id"])
        .values(
            created_at=datetime.now(UTC) - timedelta(days=30),
            due_date=date.today() - timedelta(days=5),
        )
    )
    db.commit()

    assert world.get("township1", "/feedback").status_code == 403
    listed = world.get("county", "/feedback", params={"status": "open"}).json()["items"]
    assert [f["id"] for f in listed] == [first["id"], other["id"]]
    late = world.get("county", "/feedback", params={"overdue": "true"}).json()["items"]
    assert [f["id"] for f in late] == [other["id"]]
    assert late[0]["overdue"]
    assert world.get("othercounty", "/feedback").json()["items"] == []
    assert (
        world.post("othercounty", f"/feedback/{first['id']}/reply", json={"text": "x"}).status_code
        == 404
    )

    answered = world.post("county", f"/feedback/{first['id']}/reply", json={"text": "已修复"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert answered.json()["reply"] == "已修复"
    twice = world.post("city", f"/feedback/{first['id']}/reply", json={"text": "again"})
    assert twice.status_code == 409
    assert twice.json()["code"] == "feedback_already_answered"
    mine = world.get("alice", "/me/feedback").json()["items"]
    assert mine[0]["reply"] == "已修复"
    assert (
        world.get("county", "/feedback", params={"status": "answered"}).json()["items"][0]["id"]
        == first["id"]
    )


def test_working_days_follow_the_holiday_calendar():
    # National Day 2026: 1-7 October off, 10 October (Saturday) a make-up working day.
    assert due_after(date(2026, 9, 30), 1, Policy()) == date(2026, 10, 8)
    assert due_after(date(2026, 10, 8), 2, Policy()) == date(2026, 10, 10)


def test_a_fifth_roll_call_in_a_month_is_refused(world, db):
    for k in range(4):
        issued = world.post(
            "county",
            "/roll-calls",
            json={"scope": "430121", "message": f"点名 {k}", "window_minutes": 60},
        )
        assert issued.status_code == 201, issued.text
    fifth = world.post(
        "county",
        "/roll-calls",
        json={"scope": "430121001", "message": "第五次", "window_minutes": 60},
    )
    assert fifth.status_code == 422
    assert fifth.json()["code"] == "roll_call_cap"
    # Carol's township was called four times too: any member over the cap refuses the call.
    assert (
        world.post(
            "county",
            "/roll-calls",
            json={"scope": "430121002", "message": "x", "window_minutes": 60},
        ).json()["code"]
        == "roll_call_cap"
    )
    # Another county's members were never called.
    assert (
        world.post(
            "othercounty",
            "/roll-calls",
            json={"scope": "430122", "message": "x", "window_minutes": 60},
        ).status_code
        == 201
    )


def test_the_burden_report_counts_what_was_asked(world, db):
    alice = world.members["alice"].id
    for hours in (9, 1):
        assert (
            world.post("alice", "/checkins", json=fix(ago=timedelta(hours=hours))).status_code
            == 201
        )
    world.post(
        "county",
        "/roll-calls",
        json={"scope": "430121001", "message": "在岗", "window_minutes": 60},
    )
    world.post("alice", "/feedback", json={"kind": "burden", "text": "表格太多"})
    # A visit to a paired household: one tap, stored as a check-in too, counted apart.
    paired = date.today() - timedelta(days=30)
    assert import_csv(world, csv_of(row("H0", 0, "alice", paired))).status_code == 200
    household = households_by_code(world)["H0"]
    assert world.post("alice", "/visits", json=visit(household)).status_code == 201
    month = date.today().strftime("%Y-%m")
    report = world.get("township1", "/reports/burden", params={"month": month})
    assert report.status_code == 200, report.text
    rows = {r["member_id"]: r for r in report.json()["items"]}
    assert set(rows) == {alice, world.members["bob"].id}
    mine = rows[alice]
    assert mine["checkins"] == 3  # the visit is a check-in too
    assert mine["visits"] == 1
    assert mine["roll_calls"] == 1
    assert mine["forms"] == 1
    assert mine["action_days"] >= 1
    csv = world.get("county", "/reports/burden", params={"month": month, "format": "csv"})
    assert csv.text.startswith("\ufeff队员编号")
    assert world.get("alice", "/reports/burden", params={"month": month}).status_code == 403
    assert (
        world.get("county", "/reports/burden", params={"month": "2999-01"}).json()["code"]
        == "invalid_month"
    )
    assert (
        world.get(
            "township1", "/reports/burden", params={"month": month, "scope": "430121002"}
        ).status_code
        == 404
    )


def test_the_monthly_bulletin_counts_feedback_and_the_overdue(world, db):
    if date.today().day == 1:
        pytest.skip("the bulletin tallies the month's days that are over: none on its 1st")
    filed = world.post("alice", "/feedback", json={"kind": "complaint", "text": "投诉"}).json()
    world.post("carol", "/feedback", json={"kind": "suggestion", "text": "建议"})
    db.execute(
        update(Feedback)
        .where(Feedback.id == filed["id"])
        .values(due_date=date.today() - timedelta(days=1))
    )
    db.commit()
    month = date.today().strftime("%Y-%m")
    answer = world.get("county", "/reports/monthly", params={"month": month, "format": "json"})
    assert answer.status_code == 200, answer.text
    rows = {(r["level"], r["code"]): r for r in answer.json()["divisions"]}
    assert rows[("county", "430121")]["feedback"] == 2
    assert rows[("county", "430121")]["feedback_overdue"] == 1
    assert rows[("township", "430121001")]["feedback_overdue"] == 1
    assert rows[("township", "430121002")]["feedback"] == 1
    assert rows[("township", "430121002")]["feedback_overdue"] == 0
