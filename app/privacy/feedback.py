"""Complaints and suggestions (投诉建议): filed by any signed-in user, answered by county and
city users in whose division it arose (admins everywhere), overdue after
`policy.feedback.reply_workdays` working days (the Chinese holiday calendar, 调休 included)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import Session

from app.audit import actions
from app.auth.principal import Principal
from app.core.outbox import emit
from app.core.policy import Policy
from app.core.time import as_utc, local_date
from app.ledger.calendar import is_workday
from app.org.models import Assignment
from app.privacy.errors import FeedbackAnswered, FeedbackNotFound
from app.privacy.models import Feedback
from app.privacy.schemas import About, FeedbackIn, FeedbackOut

ANSWERING_ROLES = ("county", "city", "admin")
TOPIC = "feedback.received"


def due_after(filed: date, workdays: int, policy: Policy) -> date:
    """The `workdays`-th working day after `filed`."""
    day, left = filed, workdays
    while left:
        day += timedelta(days=1)
        if is_workday(day, policy.calendar):
            left -= 1
    return day


def file(
    session: Session, policy: Policy, principal: Principal, body: FeedbackIn, now: datetime
) -> FeedbackOut:
    filed = local_date(now, policy.zone)
    item = Feedback(
        user_id=principal.user_id,
        kind=body.kind,
        text=body.text,
        about_kind=body.about.kind if body.about else None,
        about_id=body.about.id if body.about else None,
        division_code=_division_of(session, principal, filed),
        created_at=now,
        due_date=due_after(filed, policy.feedback.reply_workdays, policy),
    )
    session.add(item)
    session.flush()
    emit(
        session,
        TOPIC,
        {
            "feedback_id": item.id,
            "kind": item.kind,
            "user_id": item.user_id,
            "member_id": principal.member_id,
            "division_code": item.division_code,
            "created_at": as_utc(now).isoformat(),
            "due_date": item.due_date.isoformat(),
        },
    )
    return out(item, filed)


def _division_of(session: Session, principal: Principal, day: date) -> str:
    if principal.member_id is not None:
        code = session.scalar(
            select(Assignment.village_code)
            .where(
                Assignment.member_id == principal.member_id,
                Assignment.start_date <= day,
                or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
            )
            .order_by(Assignment.start_date.desc())
            .limit(1)
        )
        return code or ""
    return (principal.division_prefix or "")[:12]


def readable(principal: Principal) -> ColumnElement[bool]:
    """The feedback `principal` answers: under their division (admins: all)."""
    if principal.role == "admin":
        return true()
    prefix = principal.division_prefix
    if not prefix:
        return Feedback.id.is_(None)  # nothing
    return Feedback.division_code.startswith(prefix, autoescape=True)


def listing(
    principal: Principal,
    scope: str | None,
    status: str | None,
    overdue: bool | None,
    today: date,
) -> Select[Any]:
    query = select(Feedback).where(readable(principal))
    if scope:
        query = query.where(Feedback.division_code.startswith(scope, autoescape=True))
    if status == "open":
        query = query.where(Feedback.replied_at.is_(None))
    elif status == "answered":
        query = query.where(Feedback.replied_at.is_not(None))
    if overdue is not None:
        late = and_(Feedback.replied_at.is_(None), Feedback.due_date < today)
        query = query.where(late if overdue else ~late)
    return query.order_by(Feedback.id)


def reply(
    session: Session,
    policy: Policy,
    principal: Principal,
    feedback_id: int,
    text: str,
    now: datetime,
) -> FeedbackOut:
    item = session.scalar(
        select(Feedback).where(Feedback.id == feedback_id, readable(principal)).with_for_update()
    )
    if item is None:
        raise FeedbackNotFound(feedback_id=feedback_id)
    if item.replied_at is not None:
        raise FeedbackAnswered(feedback_id=feedback_id)
    today = local_date(now, policy.zone)
    item.reply, item.replied_by, item.replied_at = text, principal.user_id, now
    session.flush()
    actions.record(
        session,
        actor=principal.user_id,
        action="feedback.reply",
        subject=f"feedback:{item.id}",
        payload={"user_id": item.user_id, "kind": item.kind, "overdue": today > item.due_date},
    )
    return out(item, today)


def out(item: Feedback, today: date) -> FeedbackOut:
    late = item.replied_at is None and today > item.due_date
    return FeedbackOut(
        id=item.id,
        user_id=item.user_id,
        kind=item.kind,
        text=item.text,
        about=About(kind=item.about_kind, id=item.about_id)
        if item.about_kind and item.about_id
        else None,
        division_code=item.division_code,
        status="answered" if item.replied_at is not None else "open",
        created_at=item.created_at,
        due_date=item.due_date,
        overdue=late,
        reply=item.reply,
        replied_by=item.replied_by,
        replied_at=item.replied_at,
    )
