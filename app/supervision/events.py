"""Major-event reports (大事报告) and their acknowledgement. `overdue` and `late` are derived
from the stored times and the policy when read, never stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.db import ids_in
from app.core.inputs import MIN_INSTANT
from app.core.outbox import emit
from app.core.policy import Policy
from app.core.time import as_utc, local_date
from app.org.models import Assignment, Member, Unit
from app.supervision import rules
from app.supervision.errors import (
    AlreadyAcknowledged,
    EventNotFound,
    InFuture,
    MemberNotAssigned,
    TooOld,
)
from app.supervision.models import EventReport
from app.supervision.schemas import EventCreate, EventOut


def report(
    session: Session, policy: Policy, principal: Principal, body: EventCreate, now: datetime
) -> EventReport:
    """A member reports an event in a village they are assigned to (on the day it occurred,
    or today)."""
    assert principal.member_id is not None
    if body.occurred_at > now + timedelta(seconds=policy.flags.max_clock_ahead_s):
        raise InFuture(field="occurred_at")
    if body.occurred_at < MIN_INSTANT:  # before any record; and no date arithmetic near year 1
        raise TooOld(field="occurred_at", earliest=MIN_INSTANT.date().isoformat())
    days = {local_date(body.occurred_at, policy.zone), local_date(now, policy.zone)}
    assigned = session.scalar(
        select(Assignment.id)
        .where(
            Assignment.member_id == principal.member_id,
            Assignment.village_code == body.village_code,
            or_(
                *(
                    and_(
                        Assignment.start_date <= day,
                        or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
                    )
                    for day in days
                )
            ),
        )
        .limit(1)
    )
    if assigned is None:
        raise MemberNotAssigned(
            member_ids=str(principal.member_id),
            village_code=body.village_code,
            day=local_date(body.occurred_at, policy.zone),
        )
    event = EventReport(
        member_id=principal.member_id,
        village_code=body.village_code,
        kind=body.kind,
        occurred_at=body.occurred_at,
        summary=body.summary,
        reported_at=now,
        reported_by=principal.user_id,
    )
    session.add(event)
    session.flush()
    emit(
        session,
        "event.reported",
        {
            "event_id": event.id,
            "member_id": event.member_id,
            "village_code": event.village_code,
            "kind": event.kind,
            "occurred_at": as_utc(event.occurred_at).isoformat(),
            "reported_at": as_utc(event.reported_at).isoformat(),
            "summary": event.summary,
        },
    )
    return event


def visibility(principal: Principal) -> Any:
    """A filter on EventReport: the reporter's own, the unit's people, or the villages under a
    division prefix."""
    if principal.role == "member":
        return EventReport.member_id == principal.member_id if principal.member_id else false()
    if principal.role == "unit":
        return EventReport.member_id.in_(
            select(Member.id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(Unit.name == principal.scope)
        )
    prefix = principal.division_prefix
    if prefix is None:
        return false()
    return EventReport.village_code.startswith(prefix, autoescape=True) if prefix else true()


def get_visible(
    session: Session, principal: Principal, event_id: int, *, lock: bool = False
) -> EventReport:
    query = select(EventReport).where(EventReport.id == event_id, visibility(principal))
    if lock:
        query = query.with_for_update()
    event = session.scalar(query)
    if event is None:
        raise EventNotFound(event_id=event_id)
    return event


def acknowledge(
    session: Session, principal: Principal, event_id: int, comment: str | None, now: datetime
) -> EventReport:
    """Acknowledge once: the row is locked before it is read, so two reviewers racing get one
    acknowledgement and one 409."""
    event = get_visible(session, principal, event_id, lock=True)
    if event.acknowledged_at is not None:
        raise AlreadyAcknowledged(event_id=event_id, at=as_utc(event.acknowledged_at).isoformat())
    event.acknowledged_at = now
    event.acknowledged_by = principal.user_id
    event.ack_comment = comment
    session.flush()
    return event


def list_events(
    session: Session,
    policy: Policy,
    principal: Principal,
    prefix: str | None,
    overdue: bool | None,
    now: datetime,
    after: int | None,
    limit: int,
) -> list[EventReport]:
    """Events in the caller's scope (under `prefix` when given), newest first."""
    query = select(EventReport).where(visibility(principal))
    if prefix:
        query = query.where(EventReport.village_code.startswith(prefix, autoescape=True))
    if overdue is not None:
        cutoff = now - timedelta(hours=policy.supervision.event_ack_hours)
        is_overdue = and_(EventReport.acknowledged_at.is_(None), EventReport.reported_at < cutoff)
        query = query.where(is_overdue if overdue else ~is_overdue)
    if after is not None:
        query = query.where(EventReport.id < after)
    return list(session.scalars(query.order_by(EventReport.id.desc()).limit(limit)))


def out(event: EventReport, policy: Policy, now: datetime) -> EventOut:
    reported_at = as_utc(event.reported_at)
    acknowledged_at = None if event.acknowledged_at is None else as_utc(event.acknowledged_at)
    occurred_at = as_utc(event.occurred_at)
    p = policy.supervision
    return EventOut(
        id=event.id,
        member_id=event.member_id,
        village_code=event.village_code,
        kind=event.kind,
        occurred_at=occurred_at,
        summary=event.summary,
        reported_at=reported_at,
        reported_by=event.reported_by,
        acknowledged_at=acknowledged_at,
        acknowledged_by=event.acknowledged_by,
        ack_comment=event.ack_comment,
        ack_due=rules.ack_due(reported_at, p),
        overdue=rules.is_overdue_event(reported_at, acknowledged_at, now, p),
        late=rules.is_late_report(occurred_at, reported_at, p),
    )


def member_events(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> list[EventReport]:
    """The members' events that occurred (local date) in [start, end]; one statement."""
    zone = policy.zone
    # In UTC: SQLite compares the stored UTC text, and would read a +08:00 bound as UTC.
    first = datetime.combine(start, time(), tzinfo=zone).astimezone(UTC)
    after_last = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return list(
        session.scalars(
            select(EventReport)
            .where(
                ids_in(session, EventReport.member_id, member_ids),
                EventReport.occurred_at >= first,
                EventReport.occurred_at < after_last,
            )
            .order_by(EventReport.id)
        )
    )
