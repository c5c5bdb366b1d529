"""Rebuilding the presence ledger and reading it (`refresh` keeps it up to date)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.checkins.counting import counts
from app.checkins.models import CheckIn
from app.core.policy import Policy
from app.core.time import as_utc
from app.leave.models import LeaveRequest
from app.ledger import calendar, rules
from app.ledger.models import PresenceDay
from app.ledger.refresh import COLUMNS, STORED_DAYS
from app.org.models import Assignment, Member, Village

REBUILD_CHUNK = 2000  # members per chunk of a rebuild


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _leave_spans(
    session: Session, members: tuple[int, int], start: date | None, end: date | None
) -> dict[int, list[rules.LeaveSpan]]:
    """Approved or returned leave touching [start, end] of the members with ids in `members`
    (an inclusive range), by member."""
    query = select(
        LeaveRequest.member_id,
        LeaveRequest.id,
        LeaveRequest.status,
        LeaveRequest.start_date,
        LeaveRequest.end_date,
        LeaveRequest.returned_on,
    ).where(LeaveRequest.status.in_(rules.COVERING_STATUSES))
    query = query.where(LeaveRequest.member_id.between(*members))
    if start is not None:
        query = query.where(LeaveRequest.end_date >= start)
    if end is not None:
        query = query.where(LeaveRequest.start_date <= end)
    out: dict[int, list[rules.LeaveSpan]] = {}
    for member_id, leave_id, status, first, last, returned_on in session.execute(query):
        out.setdefault(member_id, []).append(
            rules.LeaveSpan(leave_id, status, first, last, returned_on)
        )
    return out


# --- rebuild -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    members: int
    days: int


def rebuild(
    session: Session,
    policy: Policy,
    member_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    after_chunk: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RebuildResult:
    """Recompute the ledger from the source records: every member (or one), every day (or a
    range). Set-based: one aggregate query and one bulk insert per chunk of members.

    Safe while the service runs: each chunk takes the ledger's lock on its members' rows (the
    one every ledger writer takes) before it deletes and recomputes their days, so a check-in
    or decision arriving meanwhile either waits for the chunk or is read by it.
    `after_chunk` (the command: commit) releases each chunk's locks as the rebuild goes on;
    `progress(members done, members in all)` is called once before the first chunk and after
    each (the command draws a progress bar from it).
    """
    in_range = []
    if start is not None:
        in_range.append(PresenceDay.day >= start)
    if end is not None:
        in_range.append(PresenceDay.day <= end)

    ids_query = select(Member.id).order_by(Member.id)
    if member_id is not None:
        ids_query = ids_query.where(Member.id == member_id)
    member_ids = list(session.scalars(ids_query))
    written = done = 0
    if progress is not None:
        progress(0, len(member_ids))
    for chunk in _chunks(member_ids, REBUILD_CHUNK):
        lo_id, hi_id = chunk[0], chunk[-1]
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                select(Member.id)
                .where(Member.id.between(lo_id, hi_id))
                .order_by(Member.id)
                .with_for_update(key_share=True)
            )
        session.execute(
            delete(PresenceDay).where(PresenceDay.member_id.between(lo_id, hi_id), *in_range)
        )
        rows = list(_chunk_rows(session, policy, chunk, start, end))
        _bulk_insert(session, rows)
        written += len(rows)
        if after_chunk is not None:
            after_chunk()
        done += len(chunk)
        if progress is not None:
            progress(done, len(member_ids))
    if member_id is None and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics after a bulk reload, or the planner reads the ledger with stale ones.
        session.execute(text("ANALYZE presence_days"))
    return RebuildResult(members=len(member_ids), days=written)


def _chunk_rows(
    session: Session, policy: Policy, member_ids: list[int], start: date | None, end: date | None
) -> Iterator[tuple[Any, ...]]:
    lo_id, hi_id = member_ids[0], member_ids[-1]
    query = (
        select(
            CheckIn.member_id,
            CheckIn.local_date,
            func.count(),
            func.min(CheckIn.captured_at),
            func.max(CheckIn.captured_at),
        )
        .where(CheckIn.member_id.between(lo_id, hi_id), counts())
        .group_by(CheckIn.member_id, CheckIn.local_date)
    )
    if start is not None:
        query = query.where(CheckIn.local_date >= start)
    if end is not None:
        query = query.where(CheckIn.local_date <= end)
    fixes: dict[tuple[int, date], tuple[int, datetime, datetime]] = {
        (m, d): (c, lo, hi) for m, d, c, lo, hi in session.execute(query)
    }
    leaves = _leave_spans(session, (lo_id, hi_id), start, end)
    keys = set(fixes)
    for m in member_ids:
        for leave in leaves.get(m, []):
            first = leave.start if start is None else max(leave.start, start)
            last = leave.end if end is None else min(leave.end, end)
            keys.update((m, d) for d in rules.days_between(first, last))
    wanted = set(member_ids)
    for m, day in sorted(keys):
        if m not in wanted:
            continue
        count, lo, hi = fixes.get((m, day), (0, None, None))
        facts = rules.day_facts(
            policy.day_rule, count, _utc(lo), _utc(hi), rules.covering_leave(leaves.get(m, []), day)
        )
        if facts is not None:
            yield (
                m,
                day,
                facts.counted_checkins,
                facts.first_counted_at,
                facts.last_counted_at,
                facts.present,
                facts.leave_id,
            )


def _bulk_insert(session: Session, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY presence_days ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            copy.write("".join(_copy_line(row) for row in rows))
        return
    session.execute(insert(PresenceDay), [dict(zip(COLUMNS, r, strict=True)) for r in rows])


_COPY_NULL = "\\N"


def _copy_line(row: tuple[Any, ...]) -> str:
    # COPY text format; the values are ints, dates, aware datetimes, bools and NULLs only.
    m, day, count, first, last, present, leave_id = row
    return (
        f"{m}\t{day.isoformat()}\t{count}\t{_copy_ts(first)}\t{_copy_ts(last)}\t"
        f"{'t' if present else 'f'}\t{_COPY_NULL if leave_id is None else leave_id}\n"
    )


def _copy_ts(moment: datetime | None) -> str:
    return _COPY_NULL if moment is None else moment.isoformat()


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayView:
    date: date
    status: rules.Status
    workday: bool
    counted_checkins: int
    first_counted_at: datetime | None
    last_counted_at: datetime | None
    leave_id: int | None
    village_code: str | None
    violation: str | None


@dataclass(frozen=True)
class Presence:
    member_id: int
    days: list[DayView]
    overstays: list[rules.Overstay]
    calendar_source: calendar.Source
    fallback_years: list[int]


def presence(
    session: Session, policy: Policy, member_id: int, start: date, end: date, today: date
) -> Presence:
    """The member's ledger from `start` to `end`, with statuses as of `today`."""
    periods = _assignments(session, member_id)
    stored = {
        day: rules.DayFacts(count, _utc(first), _utc(last), present, leave_id)
        for day, count, first, last, present, leave_id in session.execute(
            STORED_DAYS, {"m": member_id, "lo": start, "hi": end}
        )
    }
    spans = overstays(session, policy, member_id, start, end, today=today, periods=periods)
    overstay_days = {d for s in spans for d in rules.days_between(s.start, s.end)}
    days = []
    for day in rules.days_between(start, end):
        facts = stored.get(day)
        village = next((code for p, code in periods if p.holds(day)), None)
        days.append(
            DayView(
                date=day,
                status=rules.status(facts, village is not None, day, today),
                workday=calendar.is_workday(day, policy.calendar),
                counted_checkins=0 if facts is None else facts.counted_checkins,
                first_counted_at=None if facts is None else facts.first_counted_at,
                last_counted_at=None if facts is None else facts.last_counted_at,
                leave_id=None if facts is None else facts.leave_id,
                village_code=village,
                violation="leave_overstay" if day in overstay_days else None,
            )
        )
    source, fallback = calendar.source_of(
        [start, end, *(date(y, 1, 1) for y in range(start.year, end.year + 1))]
    )
    return Presence(member_id, days, spans, source, fallback)


def _assignments(session: Session, member_id: int) -> list[tuple[rules.Period, str]]:
    rows = session.execute(_MEMBER_ASSIGNMENTS, {"m": member_id})
    return [(rules.Period(s, e), code) for s, e, code in rows]


def overstays(
    session: Session,
    policy: Policy,
    member_id: int,
    start: date,
    end: date,
    *,
    today: date | None = None,
    periods: list[tuple[rules.Period, str]] | None = None,
) -> list[rules.Overstay]:
    """The member's overstays (超假) that touch [start, end], clipped to it, as of `today`."""
    from app.core.time import today as local_today

    today = today or local_today(policy.zone)
    if periods is None:
        periods = _assignments(session, member_id)
    rows = session.execute(
        _ENDED_LEAVES, {"m": member_id, "before": min(end, today - timedelta(days=1))}
    )
    out = []
    assigned = [p for p, _ in periods]
    for leave_id, status, s, e, returned_on, back in rows:
        span = rules.overstay(
            rules.LeaveSpan(leave_id, status, s, e, returned_on), back, assigned, today
        )
        if span is None or span.end < start or span.start > end:
            continue
        out.append(rules.Overstay(span.leave_id, max(span.start, start), min(span.end, end)))
    return sorted(out, key=lambda o: o.start)


# Built once (read paths answer within milliseconds; building a statement costs about as much).
_MEMBER_ASSIGNMENTS = (
    select(Assignment.start_date, Assignment.end_date, Assignment.village_code)
    .where(Assignment.member_id == bindparam("m"))
    .order_by(Assignment.start_date)
)
_later = PresenceDay.__table__.alias("later")
# Approved or returned leave that ended before `before`, with the first later day on which the
# member was back (a counted fix) or on other leave.
_ENDED_LEAVES = select(
    LeaveRequest.id,
    LeaveRequest.status,
    LeaveRequest.start_date,
    LeaveRequest.end_date,
    LeaveRequest.returned_on,
    select(func.min(_later.c.day))
    .where(
        _later.c.member_id == LeaveRequest.member_id,
        _later.c.day > LeaveRequest.end_date,
        or_(_later.c.counted_checkins > 0, _later.c.leave_id.is_not(None)),
    )
    .scalar_subquery(),
).where(
    LeaveRequest.member_id == bindparam("m"),
    LeaveRequest.status.in_(rules.COVERING_STATUSES),
    LeaveRequest.end_date < bindparam("before"),
)


# --- on-post rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class OnPost:
    code: str
    name: str | None
    assigned: int
    present: int
    on_leave: int


def on_post(session: Session, prefix: str, day: date) -> list[OnPost]:
    """Per village under `prefix`: members assigned on `day`, present, on leave (not present)."""
    present = case((PresenceDay.present.is_(True), 1), else_=0)
    on_leave = case(
        (and_(PresenceDay.present.is_(False), PresenceDay.leave_id.is_not(None)), 1), else_=0
    )
    query = (
        select(
            Assignment.village_code,
            Village.name,
            func.count(),
            func.coalesce(func.sum(present), 0),
            func.coalesce(func.sum(on_leave), 0),
        )
        .join(Village, Village.code == Assignment.village_code)
        .outerjoin(
            PresenceDay,
            and_(PresenceDay.member_id == Assignment.member_id, PresenceDay.day == day),
        )
        .where(
            Assignment.start_date <= day,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
        )
        .group_by(Assignment.village_code, Village.name)
        .order_by(Assignment.village_code)
    )
    if prefix:
        query = query.where(Assignment.village_code.startswith(prefix))
    return [
        OnPost(code, name, int(a), int(p), int(lv))
        for code, name, a, p, lv in session.execute(query)
    ]
