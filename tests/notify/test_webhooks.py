"""The outbox delivered by the service to webhooks on loopback: a JSON receiver, a WeCom robot
and a DingTalk robot, each checking what the real one checks."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from app.core.db import make_session_factory, session_scope
from app.core.outbox import emit
from app.core.time import as_utc
from app.main import create_app
from app.notify.delivery import deliver_pending
from tests.checkins.helpers import fix
from tests.leave.test_leave_lifecycle import ask, days_from_today
from tests.notify.conftest import (
    WEBHOOK_SECRET,
    Loopback,
    deliveries,
    events,
    wait_until,
)
from tests.notify.receivers import zhucun_signature_ok
from tests.world import World


def settled(engine, timeout: float = 5) -> None:
    """Every event marked delivered (the pass after the last send marks it)."""
    deadline = time.monotonic() + timeout
    while any(e.delivered_at is None for e in events(engine)):
        assert time.monotonic() < deadline, "an event was never marked delivered"
        time.sleep(0.05)


def all_settled(rows) -> bool:
    return bool(rows) and all(r.status != "pending" for r in rows)


def by_kind(rows) -> dict[str, object]:
    return {r.target.split(":", 1)[0]: r for r in rows}


def test_a_leave_request_reaches_every_target_within_seconds(world, engine, loopback):
    started = time.monotonic()
    r = ask(world, "alice", days_from_today(1), days_from_today(2))
    assert r.status_code == 201, r.text
    for receiver in (loopback.json, loopback.wecom, loopback.dingtalk):
        receiver.wait_for(lambda got: len(got) == 1, timeout=5)
    assert time.monotonic() - started < 5

    [event] = events(engine, "leave.submitted")
    hook = loopback.json.requests[0]
    assert zhucun_signature_ok(hook, WEBHOOK_SECRET)
    assert hook.headers["zhucun-event-id"] == str(event.id)  # the idempotency key
    assert hook.headers["zhucun-topic"] == "leave.submitted"
    body = hook.json()
    assert (body["id"], body["topic"], body["payload"]["leave_id"]) == (
        event.id,
        "leave.submitted",
        r.json()["id"],
    )
    assert body["title"] == "【驻村】请假申请待审批"

    content = loopback.wecom.requests[0].json()["markdown"]["content"]
    assert content.startswith("### 【驻村】请假申请待审批\n> 申请人：**Alice**（东山村）")
    assert "> 审批：乡镇党委审批" in content
    assert "家中有事" not in content  # a leave's reason stays out of group chats
    ding = loopback.dingtalk.requests[0]
    assert ding.query["access_token"] == ["ding-token"]  # signed on top of the robot's URL
    assert ding.json()["markdown"]["title"] == "【驻村】请假申请待审批"
    assert "\n\n> 假别：事假" in ding.json()["markdown"]["text"]

    rows = wait_until(engine, lambda rows: len(rows) == 3 and all_settled(rows))
    assert [(r.status, r.attempts) for r in rows] == [("delivered", 1)] * 3
    settled(engine)


def test_a_receiver_that_fails_twice_gets_the_event_once_on_the_third_try(world, engine, loopback):
    loopback.script.statuses = [500, 503]
    ask(world, "alice", days_from_today(1), days_from_today(2))
    rows = wait_until(engine, lambda rows: len(rows) == 3 and all_settled(rows))
    json_row = by_kind(rows)["json"]
    assert (json_row.status, json_row.attempts) == ("delivered", 3)
    assert json_row.last_error is None
    statuses = [r.headers["zhucun-delivery-attempt"] for r in loopback.json.requests]
    assert statuses == ["1", "2", "3"]
    assert len({r.headers["zhucun-event-id"] for r in loopback.json.requests}) == 1
    # Retrying one target sent nothing again to the others.
    assert len(loopback.wecom.requests) == len(loopback.dingtalk.requests) == 1
    assert by_kind(rows)["wecom"].attempts == 1


def test_a_receiver_that_stays_down_gets_a_dead_letter_after_n_tries_then_a_retry(
    world, engine, loopback, settings, policy
):
    loopback.script.always = 500
    ask(world, "alice", days_from_today(1), days_from_today(2))
    rows = wait_until(engine, lambda rows: len(rows) == 3 and all_settled(rows))
    json_row = by_kind(rows)["json"]
    assert (json_row.status, json_row.attempts, json_row.last_error) == ("dead", 4, "HTTP 500")
    assert len(loopback.json.requests) == 4
    assert events(engine)[0].delivered_at is None  # a dead letter leaves it undelivered

    loopback.script.always = None
    summary = deliver_pending(make_session_factory(engine), settings, policy, retry_dead=True)
    assert (summary.revived, summary.delivered, summary.dead) == (1, 1, 0)
    json_row = by_kind(deliveries(engine))["json"]
    assert (json_row.status, json_row.attempts) == ("delivered", 1)
    assert len(loopback.wecom.requests) == 1  # the others were not sent again
    assert events(engine)[0].delivered_at is not None


@contextmanager
def world_with(db, settings, policy) -> Iterator[World]:
    """The world, served by an app made with `settings`."""
    from starlette.testclient import TestClient

    with TestClient(create_app(settings, policy)) as client:
        yield World.build(db, client)


def test_a_robot_answering_200_with_an_errcode_has_failed(db, engine, settings, loopback, policy):
    wrong = settings.model_copy(update={"dingtalk_secret": "SECnot-the-robots-secret"})
    with world_with(db, wrong, policy) as world:
        ask(world, "alice", days_from_today(1), days_from_today(2))
        rows = wait_until(engine, lambda rows: len(rows) == 3 and all_settled(rows))
    ding = by_kind(rows)["dingtalk"]
    assert (ding.status, ding.attempts) == ("dead", 4)
    assert ding.last_error == "errcode 310000 sign not match"
    assert by_kind(rows)["wecom"].status == "delivered"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_target_that_is_down_holds_up_no_other(db, engine, settings, loopback, policy):
    down = f"json:http://127.0.0.1:{_closed_port()}/hook"
    configured = settings.model_copy(update={"webhooks": f"{down},{settings.webhooks}"})
    with world_with(db, configured, policy) as world:
        for day in (1, 5, 9):
            ask(world, "alice", days_from_today(day), days_from_today(day + 1))
        loopback.wecom.wait_for(lambda got: len(got) == 3, timeout=5)
        rows = wait_until(engine, lambda rows: len(rows) == 12 and all_settled(rows))
    dead = [r for r in rows if r.status == "dead"]
    assert len(dead) == 3
    assert all(r.target.startswith("json:127.0.0.1:") for r in dead)
    assert "ConnectError" in (dead[0].last_error or "")
    assert sum(r.status == "delivered" for r in rows) == 9


def test_a_topic_without_a_renderer_goes_to_json_targets_only(world, engine, loopback):
    with session_scope(make_session_factory(engine)) as session:
        emit(session, "custom.thing", {"n": 1})
    loopback.json.wait_for(lambda got: len(got) == 1)
    rows = wait_until(engine, lambda rows: len(rows) == 1 and all_settled(rows))
    assert rows[0].target.startswith("json:")
    assert rows[0].status == "delivered"
    assert loopback.json.requests[0].json()["title"] == "custom.thing"
    assert loopback.wecom.requests == []
    assert loopback.dingtalk.requests == []


def test_an_event_days_old_when_first_routed_is_sent_nowhere(db, engine, settings, policy):
    with session_scope(make_session_factory(engine)) as session:
        old = emit(session, "leave.overdue", {"leave_id": 1})
        session.flush()
        old.created_at = datetime.now(UTC) - timedelta(days=4)
    summary = deliver_pending(make_session_factory(engine), settings, policy)
    assert (summary.routed, summary.stale, summary.delivered) == (1, 1, 0)
    assert deliveries(engine) == []
    [event] = events(engine)
    assert event.routed_at is not None
    assert event.delivered_at is not None


def test_nothing_configured_leaves_events_waiting_and_starts_no_notifier(
    db, engine, settings, policy
):
    off = ("webhooks", "wechat_template_roll_call", "wechat_template_leave_decision")
    bare = settings.model_copy(update=dict.fromkeys(off, ""))
    with world_with(db, bare, policy) as world:
        assert world.client.app.state.notifier is None
        ask(world, "alice", days_from_today(1), days_from_today(2))
    assert deliver_pending(make_session_factory(engine), bare, policy).routed == 0
    [event] = events(engine)
    assert event.routed_at is None


def test_a_check_in_emits_nothing(world, engine: Engine, loopback: Loopback):
    assert world.post("alice", "/checkins", json=fix()).status_code == 201
    assert events(engine) == []


def test_a_retry_sends_now_what_waits_after_a_failure(engine, settings, policy, loopback):
    patient = settings.model_copy(update={"notify_backoff_seconds": 3600})
    with session_scope(make_session_factory(engine)) as session:
        emit(session, "leave.overdue", {"leave_id": 1})
    loopback.script.statuses = [502]
    summary = deliver_pending(make_session_factory(engine), patient, policy)
    assert (summary.delivered, summary.failed, summary.waiting) == (2, 1, 1)
    assert not summary.ok
    json_row = by_kind(deliveries(engine))["json"]
    assert as_utc(json_row.next_attempt_at) > datetime.now(UTC) + timedelta(minutes=20)

    summary = deliver_pending(make_session_factory(engine), patient, policy, retry_failed=True)
    assert (summary.revived, summary.delivered, summary.waiting) == (1, 1, 0)
    assert summary.ok
    assert [r.status for r in deliveries(engine)] == ["delivered"] * 3
    assert len(loopback.json.requests) == 2
