"""The presence report: one row per member per assigned day, streamed from a database cursor
(a server-side cursor on PostgreSQL), with statuses as the ledger derives them."""

from __future__ import annotations

import itertools
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
from app.reports.export import Render
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
    Column("leave_id", "请假单号", "int", 10, nullable=True),
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
    render: Render,
    after: tuple[int, date] | None = None,
) -> Iterator[Row]:
    """Rows in (member_id, date) order, after `after` (a page's cursor) when given, rendered
    for the export's format."""
    overlap = (
        scope.assignments(),
        Assignment.start_date <= end,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= start),
    )
    first_member = after[0] if after else 0
    connection = session.connection()
    # The assignments are few (one or two per member); the day facts are many and streamed.
    postings = connection.execute(
        select(
            Assignment.member_id,
            Assignment.start_date,
            Assignment.end_date,
            Member.full_name,
            Member.position,
            Unit.name,
            Assignment.village_code,
            Village.name,
        )
        .join(Village, Village.code == Assignment.village_code)
        .join(Member, Member.id == Assignment.member_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(*overlap, Assignment.member_id >= first_member)
        .order_by(Assignment.member_id, Assignment.start_date)
    ).all()
    facts = connection.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS).execute(
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
    )
    days = ledger_rules.days_between(start, end)
    # A day's date and workday cells, and the status cells, rendered once.
    day_cells = {d: render.part(_DATE, (d, calendar.is_workday(d, policy.calendar))) for d in days}
    statuses = _StatusCells(render, today)
    stream = itertools.chain.from_iterable(facts.partitions(STREAM_ROWS))
    pending = next(stream, None)
    index = 0
    while index < len(postings):
        member_id = postings[index][0]
        mine = []
        while index < len(postings) and postings[index][0] == member_id:
            mine.append(postings[index])
            index += 1
        while pending is not None and pending[0] < member_id:
            pending = next(stream, None)
        stored: dict[date, tuple[int, bool, int | None]] = {}
        while pending is not None and pending[0] == member_id:
            _, day, count, present, leave_id = pending
            stored[day] = (count, bool(present), leave_id)
            pending = next(stream, None)
        for _, a_start, a_end, name, position, unit, village, village_name in mine:
            lo = max(a_start, start)
            hi = end if a_end is None else min(a_end, end)
            fixed = render.part(
                0,
                (member_id, name, position, unit, village, village_name, village[:9], village[:6]),
            )
            for day in days[(lo - start).days : (hi - start).days + 1]:
                if after is not None and (member_id, day) <= after:
                    continue
                yield fixed + day_cells[day] + statuses.cells(stored.get(day), day)


_DATE = 8  # index of the date column (the workday follows it)
_STATUS = 10  # index of the status column (counted check-ins and leave follow it)


class _StatusCells:
    """The status, counted check-ins and leave cells of a day, with the status the ledger
    derives (`ledger.rules.status`), computed once per kind of day."""

    def __init__(self, render: Render, today: date) -> None:
        self.render, self.today = render, today
        self.labels: dict[tuple[bool, bool, bool, bool, bool], Any] = {}

    def cells(self, facts: tuple[int, bool, int | None] | None, day: date) -> tuple[Any, ...]:
        count, present, leave_id = facts if facts is not None else (0, False, None)
        key = (facts is None, present, leave_id is not None, count > 0, day >= self.today)
        label = self.labels.get(key)
        if label is None:
            day_facts = (
                None
                if facts is None
                else ledger_rules.DayFacts(count, None, None, present, leave_id)
            )
            status = ledger_rules.status(day_facts, True, day, self.today)
            label = self.labels[key] = self.render.part(_STATUS, (status,))[0]
        return (label, count, leave_id)
