"""What the outbox holds, for `zhucun outbox status`: per topic and target, how many
deliveries wait, went out, are dead or were refused, and how old the oldest waiting one is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.core.outbox import OutboxEvent
from app.core.time import as_utc
from app.notify.models import STATUSES, WECHAT_PREFIX, OutboxDelivery

WECHAT = "wechat (subscription messages)"


@dataclass
class Line:
    topic: str
    target: str  # a webhook's key, WECHAT for every member's, or "(not routed yet)"
    counts: dict[str, int]  # status → deliveries (events, for the unrouted)
    oldest_pending: datetime | None


@dataclass(frozen=True)
class DeadLetter:
    delivery_id: int
    event_id: int
    topic: str
    target: str
    attempts: int
    last_error: str | None


def status_lines(session: Session) -> list[Line]:
    target = case(
        (OutboxDelivery.target.startswith(WECHAT_PREFIX), WECHAT), else_=OutboxDelivery.target
    )
    rows = session.execute(
        select(
            OutboxEvent.topic,
            target,
            OutboxDelivery.status,
            func.count(),
            func.min(OutboxEvent.created_at),
        )
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .group_by(OutboxEvent.topic, target, OutboxDelivery.status)
    ).all()
    lines: dict[tuple[str, str], Line] = {}
    for topic, key, status, count, oldest in rows:
        line = lines.setdefault((topic, key), Line(topic, key, dict.fromkeys(STATUSES, 0), None))
        line.counts[status] = count
        if status == "pending":
            line.oldest_pending = as_utc(oldest)
    unrouted = session.execute(
        select(OutboxEvent.topic, func.count(), func.min(OutboxEvent.created_at))
        .where(OutboxEvent.routed_at.is_(None))
        .group_by(OutboxEvent.topic)
    ).all()
    for topic, count, oldest in unrouted:
        counts = dict.fromkeys(STATUSES, 0) | {"pending": count}
        lines[(topic, "")] = Line(topic, "(not routed yet)", counts, as_utc(oldest))
    return [lines[k] for k in sorted(lines)]


def dead_letters(session: Session, limit: int = 10) -> list[DeadLetter]:
    rows = session.execute(
        select(OutboxDelivery, OutboxEvent.topic)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .where(OutboxDelivery.status == "dead")
        .order_by(OutboxDelivery.id.desc())
        .limit(limit)
    ).all()
    return [
        DeadLetter(d.id, d.event_id, topic, d.target, d.attempts, d.last_error) for d, topic in rows
    ]


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
