"""Claiming due deliveries for one sender, and recording what became of them.

A claim is a short transaction: the first due rows, locked as they are read (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, so that senders in several processes and hosts never take the same
row; SQLite's BEGIN IMMEDIATE serialises them), are leased — `next_attempt_at` moved a lease
ahead, the sender's `claim` token written, the try counted — and what each will send is
prepared. Results are written only where the row still carries the sender's token.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.outbox import OutboxEvent
from app.core.policy import Policy
from app.core.targets import Webhook, parse_webhooks
from app.core.time import as_utc, utcnow
from app.notify import senders, wechat
from app.notify.models import WECHAT_PREFIX, OutboxDelivery
from app.notify.names import Names
from app.notify.topics import Context, render

log = logging.getLogger("zhucun.notify")

CLAIM_BATCH = 64
LEASE = timedelta(minutes=5)  # a claimed row is left alone this long


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    target: str
    attempt: int
    event: senders.EventView
    hook: Webhook | None = None
    wechat_body: dict[str, Any] | None = None
    refusal: str | None = None  # known before sending: nothing to send it to


def claim(
    session: Session, settings: Settings, policy: Policy, now: datetime, token: str
) -> list[Outgoing]:
    """Lease the first due deliveries to `token` and prepare what each will send."""
    ids = session.scalars(
        select(OutboxDelivery.id)
        .where(OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= now)
        .order_by(OutboxDelivery.id)
        .limit(CLAIM_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.id.in_(ids))
        .values(
            attempts=OutboxDelivery.attempts + 1,
            next_attempt_at=now + LEASE,
            claim=token,
        )
    )
    rows = session.execute(
        select(OutboxDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .where(OutboxDelivery.id.in_(ids))
        .order_by(OutboxDelivery.id)
    ).all()
    hooks = {h.key: h for h in parse_webhooks(settings.webhooks)}
    context = Context(Names(session), policy.zone)
    views: dict[int, senders.EventView] = {}
    out: list[Outgoing] = []
    for delivery, event in rows:
        view = views.get(event.id)
        if view is None:
            view = views[event.id] = senders.EventView(
                id=event.id,
                topic=event.topic,
                created_at=as_utc(event.created_at).isoformat(),
                payload=event.payload,
                message=render(event.topic, event.payload, context),
            )
        out.append(_outgoing(session, settings, policy, delivery, view, hooks))
    return out


def _outgoing(
    session: Session,
    settings: Settings,
    policy: Policy,
    delivery: OutboxDelivery,
    view: senders.EventView,
    hooks: dict[str, Webhook],
) -> Outgoing:
    base = Outgoing(delivery.id, delivery.target, delivery.attempts, view)
    if delivery.target.startswith(WECHAT_PREFIX):
        if not wechat.configured(settings) or view.topic not in wechat.SUBSCRIPTIONS:
            return _refused(base, "the mini-program is no longer configured")
        member_id = int(delivery.target.removeprefix(WECHAT_PREFIX))
        openid = wechat.openid_of(session, settings, member_id)
        if openid is None:
            return _refused(base, "no WeChat openid bound to the member")
        body = wechat.message_body(settings, policy, view.topic, view.payload, openid)
        return Outgoing(base.delivery_id, base.target, base.attempt, view, wechat_body=body)
    hook = hooks.get(delivery.target)
    if hook is None:  # taken out of ZHUCUN_WEBHOOKS since it was routed
        return _refused(base, "target no longer in ZHUCUN_WEBHOOKS")
    return Outgoing(base.delivery_id, base.target, base.attempt, view, hook=hook)


def _refused(base: Outgoing, why: str) -> Outgoing:
    return Outgoing(base.delivery_id, base.target, base.attempt, base.event, refusal=why)


@dataclass(frozen=True)
class Result:
    item: Outgoing
    outcome: senders.Outcome | None  # None: not tried (released)
    retry_at: datetime | None = None


def record(
    session: Session,
    settings: Settings,
    token: str,
    results: Sequence[Result],
) -> Counter[str]:
    """Write each result, only where the row is still ours (`claim`); returns how many
    were delivered, refused, dead or failed (to be tried again)."""
    counts: Counter[str] = Counter()
    for result in results:
        mine = (OutboxDelivery.id == result.item.delivery_id) & (OutboxDelivery.claim == token)
        outcome = result.outcome
        values: dict[str, Any]
        if outcome is None:
            values = {
                "attempts": OutboxDelivery.attempts - 1,
                "next_attempt_at": result.retry_at or utcnow(),
            }
        elif outcome.status == "delivered":
            values = {"status": "delivered", "delivered_at": utcnow(), "last_error": None}
        elif outcome.status == "refused":
            values = {"status": "refused", "last_error": outcome.error}
        elif result.item.attempt >= settings.notify_attempts:
            values = {"status": "dead", "last_error": outcome.error}
            log.warning(
                "delivery %d to %s is dead: %s",
                result.item.delivery_id,
                result.item.target,
                outcome.error,
            )
        else:
            values = {"next_attempt_at": result.retry_at, "last_error": outcome.error}
        session.execute(update(OutboxDelivery).where(mine).values(claim=None, **values))
        counts[str(values.get("status", "failed" if outcome else "released"))] += 1
    return counts


def revive(session: Session, now: datetime, *, failed: bool, dead: bool) -> int:
    """Make deliveries due now: those waiting after a failure, and dead letters if `dead`."""
    count = 0
    if failed:
        waiting = session.execute(
            update(OutboxDelivery)
            .where(
                OutboxDelivery.status == "pending",
                OutboxDelivery.claim.is_(None),
                OutboxDelivery.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        )
        count += int(getattr(waiting, "rowcount", 0) or 0)
    if dead:
        revived = session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now, claim=None)
        )
        count += int(getattr(revived, "rowcount", 0) or 0)
    return count


def waiting_after_failure(session: Session) -> int:
    """Deliveries that failed and wait for their next try."""
    return (
        session.scalar(
            select(func.count()).where(
                OutboxDelivery.status == "pending", OutboxDelivery.last_error.is_not(None)
            )
        )
        or 0
    )
