"""Every test here runs the app with its notifier on, its targets receivers on loopback: a
JSON webhook, a WeCom robot, a DingTalk robot and WeChat's API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import make_session_factory, session_scope
from app.core.outbox import OutboxEvent
from app.notify.models import OutboxDelivery
from tests.notify.receivers import (
    FakeWechatApi,
    Received,
    Receiver,
    dingtalk_answer,
    serve,
    wecom_answer,
)

WEBHOOK_SECRET = "webhook-secret-for-tests"
DINGTALK_SECRET = "SECdingtalk-secret-for-tests"
APPID = "wx0123456789abcdef"
APP_SECRET = "wechat-app-secret"
ROLL_CALL_TEMPLATE = "tpl-roll-call"
LEAVE_TEMPLATE = "tpl-leave-decision"


class Script:
    """HTTP statuses to answer in turn (then 200): a receiver that fails, then recovers."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.always: int | None = None
        self.lock = threading.Lock()

    def __call__(self, request: Received) -> tuple[int, Any]:
        with self.lock:
            if self.always is not None:
                return self.always, {"error": "down"}
            status = self.statuses.pop(0) if self.statuses else 200
        return status, {"ok": status == 200}


@dataclass
class Loopback:
    json: Receiver
    script: Script
    wecom: Receiver
    dingtalk: Receiver
    wechat_api: Receiver
    wechat: FakeWechatApi


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    script = Script()
    fake = FakeWechatApi(APPID, APP_SECRET)
    with ExitStack() as stack:
        yield Loopback(
            json=stack.enter_context(serve(Receiver(script))),
            script=script,
            wecom=stack.enter_context(serve(Receiver(wecom_answer))),
            dingtalk=stack.enter_context(serve(Receiver(dingtalk_answer(DINGTALK_SECRET)))),
            wechat_api=stack.enter_context(serve(Receiver(fake.answer))),
            wechat=fake,
        )


def notify_settings(base: Settings, loopback: Loopback, **extra: Any) -> Settings:
    hooks = ",".join(
        (
            f"json:{loopback.json.url}/hook",
            f"wecom:{loopback.wecom.url}/cgi-bin/webhook/send?key=wecom-key",
            f"dingtalk:{loopback.dingtalk.url}/robot/send?access_token=ding-token",
        )
    )
    values: dict[str, Any] = {
        "webhooks": hooks,
        "webhook_secret": WEBHOOK_SECRET,
        "dingtalk_secret": DINGTALK_SECRET,
        "notify_backoff_seconds": 0.05,
        "notify_attempts": 4,
        "notify_timeout_seconds": 3.0,
        "wechat_appid": APPID,
        "wechat_secret": APP_SECRET,
        "wechat_api_base": loopback.wechat_api.url,
        "wechat_template_roll_call": ROLL_CALL_TEMPLATE,
        "wechat_template_leave_decision": LEAVE_TEMPLATE,
        "wechat_page_roll_call": "pages/roll-call/index",
        **extra,
    }
    return base.model_copy(update=values)


@pytest.fixture
def settings(settings: Settings, loopback: Loopback) -> Settings:
    return notify_settings(settings, loopback)


def deliveries(engine: Engine) -> list[OutboxDelivery]:
    """Every delivery row, read in a transaction of its own (SQLite's write lock is not held
    while the notifier works)."""
    with session_scope(make_session_factory(engine)) as session:
        return list(session.scalars(select(OutboxDelivery).order_by(OutboxDelivery.id)))


def events(engine: Engine, topic: str | None = None) -> list[OutboxEvent]:
    with session_scope(make_session_factory(engine)) as session:
        query = select(OutboxEvent).order_by(OutboxEvent.id)
        if topic:
            query = query.where(OutboxEvent.topic == topic)
        return list(session.scalars(query))


def wait_until(engine: Engine, done: Any, timeout: float = 15) -> list[OutboxDelivery]:
    """Poll the deliveries until `done(rows)` holds."""
    import time

    deadline = time.monotonic() + timeout
    rows: list[OutboxDelivery] = []
    while time.monotonic() < deadline:
        rows = deliveries(engine)
        if done(rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(
        "timed out: " + ", ".join(f"{r.target}:{r.status}/{r.attempts}" for r in rows)
    )


def bind_openid(db: Session, user_id: int, openid: str) -> None:
    from datetime import UTC, datetime

    from app.auth.models import WechatBinding

    db.add(WechatBinding(appid=APPID, openid=openid, user_id=user_id, bound_at=datetime.now(UTC)))
    db.commit()
