"""Every topic the writers emit has its Chinese message; the overdue scans emit theirs once."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.db import make_session_factory, session_scope
from app.core.policy import Policy
from app.notify.names import Names
from app.notify.topics import TOPICS, Context, markdown, render

APP = Path(__file__).resolve().parents[2] / "app"


def test_every_topic_a_writer_emits_has_a_renderer():
    emitted = set()
    for source in APP.rglob("*.py"):
        emitted |= set(re.findall(r'emit\(\s*session,\s*"([a-z_.]+)"', source.read_text()))
    assert {"leave.submitted", "roll_call.issued", "rectification.overdue"} <= emitted
    assert emitted <= set(TOPICS)


def _render(engine, topic, payload):
    with session_scope(make_session_factory(engine)) as session:
        message = render(topic, payload, Context(Names(session), Policy().zone))
        return markdown(message)


def test_the_messages_name_people_and_places_and_say_what_happened(world, engine):
    alice = world.members["alice"].id
    leave = {
        "leave_id": 7,
        "member_id": alice,
        "type": "sick",
        "status": "rejected",
        "start_date": "2026-11-03",
        "end_date": "2026-11-07",
        "days": 5,
        "approver_level": "county",
        "filed_with": "city",
        "decided_by": world.users["county"].id,
        "comment": "请补充\n<font>材料</font>",
        "overdue_since": "2026-11-08",
        "returned_on": "2026-11-06",
    }
    text = _render(engine, "leave.submitted", leave)
    assert "> 审批：县区组织部门审批，报市委组织部备案" in text
    assert "> 日期：2026年11月3日 至 2026年11月7日，共 5 天" in text
    text = _render(engine, "leave.decided", leave)
    assert text.startswith("### 【驻村】请假未获批准")
    assert "> 审批人：county（县区组织部门）" in text
    assert "> 意见：请补充 ＜font＞材料＜/font＞" in text  # inert, one line
    assert "> 超假起始：2026年11月8日" in _render(engine, "leave.overdue", leave)
    assert "> 返岗日期：2026年11月6日" in _render(engine, "leave.returned", leave)
    assert "请假已撤销" in _render(engine, "leave.cancelled", leave)

    text = _render(
        engine,
        "event.reported",
        {
            "member_id": alice,
            "village_code": "430121001001",
            "kind": "petition",
            "occurred_at": "2026-11-03T02:30:00+00:00",
            "summary": "村民集体上访",
        },
    )
    assert text.splitlines() == [
        "### 【驻村】大事报告：信访",
        "> 报告人：**Alice**（东山村）",
        "> 村：东山村（430121001001）",
        "> 发生时间：2026年11月3日 10:30",
        "> 概要：村民集体上访",
    ]
    text = _render(
        engine,
        "roll_call.issued",
        {"scope": "430121001002", "message": "点名", "deadline": "2026-11-03T02:30:00Z"},
    )
    assert "> 范围：西山村（430121001002）" in text
    assert "> 截止：2026年11月3日 10:30" in text


def test_an_event_report_is_announced(world, engine, loopback):
    from datetime import UTC, datetime

    r = world.post(
        "alice",
        "/events",
        json={
            "kind": "safety",
            "occurred_at": datetime.now(UTC).isoformat(),
            "summary": "村道塌方",
            "village_code": "430121001001",
        },
    )
    assert r.status_code == 201, r.text
    loopback.dingtalk.wait_for(lambda got: len(got) == 1)
    markdown_body = loopback.dingtalk.requests[0].json()["markdown"]
    assert markdown_body["title"] == "【驻村】大事报告：安全事故"
    assert "> 概要：村道塌方" in markdown_body["text"]
