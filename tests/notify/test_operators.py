"""What the operator runs and sees: several service processes sending at once, and the
`zhucun outbox` commands in a process of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.core.db import make_session_factory, session_scope
from app.core.outbox import emit
from app.main import create_app
from app.notify import claims, routing
from tests.notify.conftest import deliveries, events, wait_until
from tests.notify.receivers import Received, Receiver, serve
from tests.notify.test_webhooks import all_settled

ROOT = Path(__file__).resolve().parents[2]
OFF = {"wechat_template_roll_call": "", "wechat_template_leave_decision": ""}


def slow_ok(request: Received) -> tuple[int, object]:
    time.sleep(0.003)
    return 200, {}


@pytest.mark.postgis
def test_two_service_instances_never_send_one_event_twice(
    db, engine, settings, policy, monkeypatch
):
    # Small batches: the two claim and route often, and often at the same moment.
    monkeypatch.setattr(claims, "CLAIM_BATCH", 3)
    monkeypatch.setattr(routing, "ROUTE_BATCH", 5)
    with serve(Receiver(slow_ok)) as receiver:
        configured = settings.model_copy(update={"webhooks": f"json:{receiver.url}/h", **OFF})
        with (
            TestClient(create_app(configured, policy)) as one,
            TestClient(create_app(configured, policy)) as two,
        ):
            with session_scope(make_session_factory(engine)) as session:
                for n in range(300):
                    emit(session, "load.test", {"n": n})
            one.app.state.notifier.wake()
            two.app.state.notifier.wake()
            wait_until(engine, lambda rows: len(rows) == 300 and all_settled(rows), timeout=60)
        sent = [
            (int(r.headers["zhucun-event-id"]), int(r.headers["zhucun-delivery-attempt"]))
            for r in receiver.requests
        ]
    # Two instances never take the same row: no (event, attempt) is sent twice. An event may
    # still arrive again under a later attempt when a try timed out on a loaded machine after
    # the receiver had it (at-least-once; receivers deduplicate on Zhucun-Event-Id).
    assert len(sent) == len(set(sent))
    rows = deliveries(engine)
    assert {event for event, _ in sent} == {r.event_id for r in rows}
    assert len(rows) == 300
    assert all(r.status == "delivered" for r in rows)
    attempts = {r.event_id: r.attempts for r in rows}
    assert all(attempt <= attempts[event] for event, attempt in sent)
    resent = [event for event in attempts if attempts[event] > 1]
    assert 300 <= len(sent) <= 300 + sum(attempts[e] - 1 for e in resent)


def zhucun(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "outbox", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_outbox_status_shows_a_dead_letter_and_retry_dead_sends_it(db_url, engine, loopback):
    env = {
        "DATABASE_URL": db_url,
        "ZHUCUN_WEBHOOKS": f"json:{loopback.json.url}/hook",
        "ZHUCUN_NOTIFY_ATTEMPTS": "1",
    }
    with session_scope(make_session_factory(engine)) as session:
        emit(session, "leave.overdue", {"leave_id": 1, "member_id": None})
    status = zhucun(env, "status")
    assert "(not routed yet)" in status.stdout

    loopback.script.always = 503
    run = zhucun(env, "deliver")
    assert run.returncode == 1, run.stderr
    assert "1 event(s) routed, 0 delivered, 1 dead, 0 refused, 0 waiting" in run.stdout
    status = zhucun(env, "status")
    assert status.returncode == 0, status.stderr
    [line] = [x for x in status.stdout.splitlines() if x.startswith("leave.overdue")]
    assert line.split()[2:6] == ["0", "0", "1", "0"]  # pending, delivered, dead, refused
    assert "tries 1: HTTP 503" in status.stdout
    assert loopback.json.url not in status.stdout  # a target is named by its key

    loopback.script.always = None
    run = zhucun(env, "retry", "--dead")
    assert run.returncode == 0, run.stderr
    assert "1 delivered" in run.stdout
    assert "1 revived" in run.stdout
    report = json.loads(zhucun(env, "status", "--json").stdout)
    [line] = report["lines"]
    assert (line["topic"], line["delivered"], line["dead"]) == ("leave.overdue", 1, 0)
    assert report["dead_letters"] == []
    assert events(engine)[0].delivered_at is not None
    assert len(loopback.json.requests) == 2


def test_outbox_commands_without_a_target_or_migrations_say_so_in_a_line(db_url, tmp_path):
    run = zhucun({"DATABASE_URL": db_url, "ZHUCUN_WEBHOOKS": ""}, "deliver")
    assert run.returncode == 2
    assert "no notification target is configured" in run.stderr
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    run = zhucun({"DATABASE_URL": empty}, "status")
    assert run.returncode == 1
    assert run.stderr.strip() == (
        "the database lacks this version's migrations: run `zhucun db upgrade` first"
    )
