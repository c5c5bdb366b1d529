"""Burden in numbers (减负): per member per month, what the system asked of them — check-ins
sent, visits, roll calls, forms — and on how many days, against the days they were present.
A county shows with it that it asks two taps a day and no more."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from app.auth.models import User
from app.checkins.models import CheckIn
from app.households.models import Visit
from app.leave.models import LeaveRequest
from app.ledger.models import PresenceDay
from app.org.models import Assignment, Member
from app.privacy.models import Feedback
from app.privacy.schemas import BurdenRow
from app.supervision.models import EventReport, RollCall, RollCallMember


def rows(session: Session, prefix: str, first: date, last: date) -> list[BurdenRow]:
    """One row per member assigned under `prefix` during [first, last], by member id."""
    assigned = (
        select(Assignment.member_id, func.max(Assignment.village_code).label("village"))
        .where(
            Assignment.village_code.startswith(prefix, autoescape=True),
            Assignment.start_date <= last,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first),
        )
        .group_by(Assignment.member_id)
    ).subquery()
    members = session.execute(
        select(Member.id, Member.full_name, assigned.c.village)
        .join(assigned, assigned.c.member_id == Member.id)
        .order_by(Member.id)
    ).all()
    ids = [m.id for m in members]
    if not ids:
        return []
    days: dict[int, set[date]] = defaultdict(set)
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(kind: str, member_id: int, day: date, n: int = 1) -> None:
        counts[kind][member_id] += n
        days[member_id].add(day)

    for member_id, day, n in session.execute(
        select(CheckIn.member_id, CheckIn.local_date, func.count())
        .where(CheckIn.member_id.in_(ids), CheckIn.local_date.between(first, last))
        .group_by(CheckIn.member_id, CheckIn.local_date)
    ):
        add("checkins", member_id, day, n)
    # A visit is stored as a check-in too (one tap): counted apart, not added to the actions.
    for member_id, n in session.execute(
        select(Visit.member_id, func.count())
        .where(Visit.member_id.in_(ids), Visit.local_date.between(first, last))
        .group_by(Visit.member_id)
    ):
        counts["visits"][member_id] = n
    for member_id, created in session.execute(
        select(LeaveRequest.member_id, LeaveRequest.created_at).where(
            LeaveRequest.member_id.in_(ids)
        )
    ):
        d = created.date()
        if first <= d <= last:
            add("forms", member_id, d)
    for member_id, reported in session.execute(
        select(EventReport.member_id, EventReport.reported_at).where(EventReport.member_id.in_(ids))
    ):
        d = reported.date()
        if first <= d <= last:
            add("forms", member_id, d)
    for filer, created in session.execute(
        select(User.member_id, Feedback.created_at)
        .join(User, User.id == Feedback.user_id)
        .where(User.member_id.in_(ids))
    ):
        d = created.date()
        if first <= d <= last and filer is not None:
            add("forms", filer, d)
    called = session.execute(
        select(RollCallMember.member_id, RollCall.id)
        .join(RollCall, RollCall.id == RollCallMember.roll_call_id)
        .where(RollCallMember.member_id.in_(ids), RollCall.call_date.between(first, last))
    ).all()
    for member_id, _ in called:
        counts["roll_calls"][member_id] += 1
    answered = session.execute(
        select(CheckIn.member_id, func.count(func.distinct(CheckIn.roll_call_id)))
        .join(
            RollCall,
            and_(
                cast(RollCall.id, String) == CheckIn.roll_call_id,
                RollCall.call_date.between(first, last),
            ),
        )
        .where(CheckIn.member_id.in_(ids))
        .group_by(CheckIn.member_id)
    ).all()
    for member_id, n in answered:
        counts["answered"][member_id] = n
    present = dict(
        session.execute(
            select(PresenceDay.member_id, func.count())
            .where(
                PresenceDay.member_id.in_(ids),
                PresenceDay.day.between(first, last),
                PresenceDay.present.is_(True),
            )
            .group_by(PresenceDay.member_id)
        ).all()
    )
    out = []
    for m in members:
        actions = counts["checkins"][m.id] + counts["forms"][m.id]
        present_days = int(present.get(m.id, 0))
        out.append(
            BurdenRow(
                member_id=m.id,
                full_name=m.full_name,
                village_code=m.village,
                checkins=counts["checkins"][m.id],
                visits=counts["visits"][m.id],
                roll_calls=counts["roll_calls"][m.id],
                roll_calls_answered=counts["answered"][m.id],
                forms=counts["forms"][m.id],
                action_days=len(days[m.id]),
                present_days=present_days,
                actions_per_present_day=round(actions / present_days, 2) if present_days else None,
            )
        )
    return out
