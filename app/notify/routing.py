"""Routing: each new outbox event gets one `outbox_deliveries` row per target — every webhook
(robots only for topics they have a message for), and for roll calls and leave decisions each
member with a bound WeChat openid — and, once nothing is left to send, its `delivered_at`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.outbox import OutboxEvent
from app.core.targets import parse_webhooks
from app.core.time import as_utc
from app.notify import wechat
from app.notify.models import WECHAT_PREFIX, OutboxDelivery
from app.notify.topics import TOPICS

log = logging.getLogger("zhucun.notify")

ROUTE_BATCH = 200
STALE_AFTER = timedelta(days=3)  # an event this old when first routed is sent nowhere


def route(session: Session, settings: Settings, now: datetime) -> tuple[int, int]:
    """Give the oldest unrouted events their deliveries; returns (routed, of them stale)."""
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.routed_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(ROUTE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    hooks = parse_webhooks(settings.webhooks)
    rows: list[dict[str, Any]] = []
    stale = 0
    for event in events:
        event.routed_at = now
        if as_utc(event.created_at) < now - STALE_AFTER:
            stale += 1
            continue
        targets = [h.key for h in hooks if h.kind == "json" or event.topic in TOPICS]
        sub = wechat.subscription(event.topic, settings)
        if sub is not None:
            members = wechat.bound_recipients(session, settings, sub, event.payload)
            targets += [f"{WECHAT_PREFIX}{m}" for m in members]
        rows += [
            {
                "event_id": event.id,
                "target": target,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for target in targets
        ]
    if rows:
        session.execute(insert(OutboxDelivery), rows)
    session.flush()
    if stale:
        log.warning("%d outbox event(s) older than %s routed nowhere", stale, STALE_AFTER)
    return len(events), stale


def settle(session: Session, now: datetime) -> None:
    """Mark delivered the routed events that have nothing left to send (run after a pass has
    committed: each sender settles what the others committed before it)."""
    left = (
        select(OutboxDelivery.id)
        .where(
            OutboxDelivery.event_id == OutboxEvent.id,
            OutboxDelivery.status.in_(("pending", "dead")),
        )
        .exists()
    )
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.routed_at.is_not(None), ~left)
        .values(delivered_at=now)
    )
