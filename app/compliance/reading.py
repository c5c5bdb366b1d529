"""Reading day lines from the presence ledger: the members asked for and their teammates (the
other members of the villages they serve in, for rotation), with one assignments query and one
aggregate over the ledger. One member or ten thousand: the same queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from app.compliance import day_lines, rules
from app.core.policy import Policy
from app.leave.models import LeaveRequest
from app.ledger import calendar
from app.ledger import rules as ledger_rules
from app.ledger.models import PresenceDay
from app.org.models import Assignment, Member, Unit


def workdays(policy: Policy, period: rules.Period) -> list[date]:
    """The period's working days (调休 included) by the deployment's calendar."""
    return [d for d in _days(period.start, period.end) if calendar.is_workday(d, policy.calendar)]


@dataclass
class Loaded:
    """Day lines over a span: each member's, and each village team's (a line per member, U
    where the member was not assigned to that village)."""

    people: dict[int, tuple[str, str, bool]]  # member → (name, unit, asked for)
    villages: dict[int, str]  # member → the last village served in the span
    lines: dict[int, str]
    teams: dict[str, dict[int, str]]


def load(
    session: Session,
    policy: Policy,
    members: ColumnElement[bool],
    span: rules.Period,
    within: str = "",
) -> Loaded:
    """Day lines of the members matched by `members` (a filter on `Member`) who were assigned in
    `span`, and of their teammates (for rotation): one assignments query, one ledger aggregate.

    `within` (a division prefix; "" for all) keeps a member's own line to the days assigned
    under it: a township sees a member who moved in or out for its own days only, judged
    like a member assigned for part of the period (docs/rules.md "Who sees what")."""
    overlaps = and_(
        Assignment.start_date <= span.end,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= span.start),
    )
    wanted = select(Member.id).where(members)
    villages = select(Assignment.village_code).where(overlaps, Assignment.member_id.in_(wanted))
    team = select(Assignment.member_id).where(overlaps, Assignment.village_code.in_(villages))
    # Core rows (ten thousand of them for a city): no ORM processing needed.
    rows = (
        session.connection()
        .execute(
            select(
                Assignment.member_id,
                Assignment.village_code,
                Assignment.start_date,
                Assignment.end_date,
                Member.full_name,
                Unit.name,
                Member.id.in_(wanted),
            )
            .join(Member, Member.id == Assignment.member_id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(overlaps, Assignment.member_id.in_(team))
            .order_by(Assignment.member_id, Assignment.start_date)
        )
        .all()
    )
    loaded = Loaded({}, {}, {}, {})
    if not rows:
        return loaded
    marks = _marks(session, team, span)
    # Official business is read only when someone had leave at all (most often, no one).
    on_leave = any(day_lines.LEAVE_CODE in m for m in marks.values())
    official = _official_leave(session, team, span) if on_leave else {}
    base = day_lines.base_line(span, workdays(policy, span))
    segments: dict[int, list[tuple[date, date, str]]] = {}
    for member_id, village, lo, hi, name, unit, is_wanted in rows:
        segments.setdefault(member_id, []).append((lo, hi or span.end, village))
        loaded.people[member_id] = (name, unit, bool(is_wanted))
    for member_id, spans in segments.items():
        mine = marks.get(member_id, b"")
        away = official.get(member_id, ())
        seen = [s for s in spans if s[2].startswith(within)] or spans
        loaded.villages[member_id] = seen[-1][2]
        line = day_lines.day_line(span, base, [s[:2] for s in seen], mine, away)
        loaded.lines[member_id] = line
        if len(spans) == 1:
            loaded.teams.setdefault(spans[0][2], {})[member_id] = line
            continue
        for lo, hi, village in spans:
            part = day_lines.day_line(span, base, [(lo, hi)], mine, away)
            team_lines = loaded.teams.setdefault(village, {})
            team_lines[member_id] = day_lines.merge(team_lines.get(member_id), part)
    return loaded


def _marks(session: Session, members: Any, span: rules.Period) -> dict[int, bytes]:
    """Each member's ledger days in `span` (day_line's `marks`), one short row per member."""
    if session.get_bind().dialect.name == "postgresql":
        return _marks_postgresql(session, members, span)
    # Elsewhere, the days travel as numbers (day offset × 4 + kind) in one string per member.
    kind = case(
        (PresenceDay.present.is_(True), 0),
        (PresenceDay.leave_id.is_not(None), 1),
        else_=2,
    )
    offset = cast(func.julianday(PresenceDay.day) - func.julianday(span.start.isoformat()), Integer)
    rows = session.execute(
        select(PresenceDay.member_id, func.group_concat(offset * 4 + kind, ","))
        .where(PresenceDay.member_id.in_(members), PresenceDay.day.between(span.start, span.end))
        .group_by(PresenceDay.member_id)
    )
    kinds = ("P", "L", "S")
    return {
        member_id: bytes(
            day_lines.marks_from_days(
                span.days, ((c >> 2, kinds[c & 3]) for c in map(int, str(packed).split(",")))
            )
        )
        for member_id, packed in rows
    }


def _marks_postgresql(session: Session, members: Any, span: rules.Period) -> dict[int, bytes]:
    # One bit string per kind of day (bit i: day i), OR-ed together by the database.
    bit: ColumnElement[Any] = literal_column(f"B'1'::bit({span.days})")
    shifted = bit.op(">>")(PresenceDay.day - span.start)
    not_present = PresenceDay.present.is_(False)

    def kind(test: ColumnElement[bool]) -> Any:
        return type_coerce(func.bit_or(case((test, shifted))), String)

    rows = session.execute(
        select(
            PresenceDay.member_id,
            kind(PresenceDay.present.is_(True)),
            kind(and_(not_present, PresenceDay.leave_id.is_not(None))),
            kind(and_(not_present, PresenceDay.leave_id.is_(None))),
        )
        .where(PresenceDay.member_id.in_(members), PresenceDay.day.between(span.start, span.end))
        .group_by(PresenceDay.member_id)
    )
    return {
        m: bytes(day_lines.marks_from_bits(p or "", lv or "", sh or "")) for m, p, lv, sh in rows
    }


def _official_leave(
    session: Session, members: Any, span: rules.Period
) -> dict[int, list[tuple[date, date]]]:
    """The days of approved official business (公出) of the members, as covered leave spans."""
    rows = session.execute(
        select(
            LeaveRequest.member_id,
            LeaveRequest.start_date,
            LeaveRequest.end_date,
            LeaveRequest.returned_on,
        ).where(
            LeaveRequest.member_id.in_(members),
            LeaveRequest.type == "official",
            LeaveRequest.status.in_(ledger_rules.COVERING_STATUSES),
            LeaveRequest.start_date <= span.end,
            LeaveRequest.end_date >= span.start,
        )
    )
    out: dict[int, list[tuple[date, date]]] = {}
    for member_id, lo, hi, returned_on in rows:
        if returned_on is not None:
            hi = min(hi, returned_on - timedelta(days=1))
        out.setdefault(member_id, []).append((lo, hi))
    return out


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
