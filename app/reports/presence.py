"""The presence report: one row per member per assigned day, streamed from a database cursor
(a server-side cursor on PostgreSQL), with statuses as the ledger derives them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.ledger import calendar
from app.ledger import rules as ledger_rules
from app.ledger.models import PresenceDay
from app.org.models import Assignment, Member, Unit, Village
from app.reports.columns import POSITION_LABELS, STATUS_LABELS, Column
from app.reports.scope import ReportScope

COLUMNS = (
    Column("member_id", "队员编号", "int", 10),
    Column("full_name", "姓名", "text", 12),
    Column("position", "职务", "code", 10, POSITION_LABELS),
    Column("unit", "派驻单位", "text", 24),
    Column("village_code", "村编码", "code", 14),
    Column("village", "村名", "text", 12),
    Column("township_code", "乡镇编码", "code", 12),
    Column("county_code", "县区编码", "code", 10),
    Column("date", "日期", "date", 12),
    Column("workday", "工作日", "bool", 8),
    Column("status", "状态", "code", 16, STATUS_LABELS),
    Column("counted_checkins", "有效打卡次数", "int", 14),
    Column("leave_id", "请假单号", "int", 10),
)
STREAM_ROWS = 10_000  # rows per fetch from the server-side cursor

Row = tuple[Any, ...]


def rows(
    session: Session,
    policy: Policy,
    scope: ReportScope,
    start: date,
    end: date,
    today: date,
    after: tuple[int, date] | None = None,
) -> Iterator[Row]:
    """Rows in (member_id, date) order, after `after` (a page's cursor) when given."""
    overlap = (
        scope.assignments(),
        Assignment.start_date <= end,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= start),
    )
    first_member = after[0] if after else 0
    # The assignments are few (one or two per member); the day facts are many and streamed.
    postings = session.execute(
        select(
            Assignment.member_id,
            Assignment.start_date,
            Assignment.end_date,
            Assignment.village_code,
            Village.name,
            Member.full_name,
            Member.position,
            Unit.name,
        )
        .join(Village, Village.code == Assignment.village_code)
        .join(Member, Member.id == Assignment.member_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(*overlap, Assignment.member_id >= first_member)
        .order_by(Assignment.member_id, Assignment.start_date)
    ).all()
    facts = session.execute(
        select(
            PresenceDay.member_id,
            PresenceDay.day,
            PresenceDay.counted_checkins,
            PresenceDay.present,
            PresenceDay.leave_id,
        )
        .where(
            PresenceDay.member_id.in_(select(Assignment.member_id).where(*overlap)),
            PresenceDay.member_id >= first_member,
            PresenceDay.day.between(start, end),
        )
        .order_by(PresenceDay.member_id, PresenceDay.day)
        .execution_options(yield_per=STREAM_ROWS)
    )
    days = ledger_rules.days_between(start, end)
    workday = {d: calendar.is_workday(d, policy.calendar) for d in days}
    stream = iter(facts)
    pending = next(stream, None)
    status = ledger_rules.status
    index = 0
    while index < len(postings):
        member_id = postings[index][0]
        mine = []
        while index < len(postings) and postings[index][0] == member_id:
            mine.append(postings[index])
            index += 1
        while pending is not None and pending[0] < member_id:
            pending = next(stream, None)
        stored: dict[date, ledger_rules.DayFacts] = {}
        while pending is not None and pending[0] == member_id:
            _, day, count, present, leave_id = pending
            stored[day] = ledger_rules.DayFacts(count, None, None, bool(present), leave_id)
            pending = next(stream, None)
        for _, a_start, a_end, village, village_name, name, position, unit in mine:
            lo = max(a_start, start)
            hi = end if a_end is None else min(a_end, end)
            fixed = (
                member_id,
                name,
                position,
                unit,
                village,
                village_name,
                village[:9],
                village[:6],
            )
            for day in days[(lo - start).days : (hi - start).days + 1]:
                if after is not None and (member_id, day) <= after:
                    continue
                got = stored.get(day)
                yield (
                    *fixed,
                    day,
                    workday[day],
                    status(got, True, day, today),
                    0 if got is None else got.counted_checkins,
                    None if got is None else got.leave_id,
                )
