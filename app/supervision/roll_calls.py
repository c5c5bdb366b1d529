"""Roll calls (点名): issuing one over a scope, judging the answers, the status page.

Who is called is fixed when the call is issued (one INSERT … SELECT of the members assigned
under the scope that day). Answers are plain check-ins carrying `roll_call_id`; they are judged
when read, like excuses (approved leave covering the call's day, read from the ledger), so a
late upload or a leave approved after the fact shows as soon as it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, and_, case, exists, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.checkins import reading as checkin_reading
from app.checkins.counting import is_voided
from app.checkins.models import CheckIn
from app.checkins.schemas import CheckInOut, RollCallStatus
from app.core.db import ids_in
from app.core.outbox import emit
from app.core.policy import Policy
from app.core.time import as_utc, local_date
from app.ledger.models import PresenceDay
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound
from app.org.models import Assignment, Member
from app.supervision import rules
from app.supervision.errors import InvalidWindow, NobodyCalled, RollCallCap, RollCallNotFound
from app.supervision.models import RollCall, RollCallMember
from app.supervision.schemas import (
    MyRollCall,
    RollCallCounts,
    RollCallCreate,
    RollCallHead,
    RollCallIssued,
    RollCallSummary,
)

called_table = cast(Table, RollCallMember.__table__)
ISSUERS = ("county", "city")


def issue(
    session: Session, policy: Policy, principal: Principal, body: RollCallCreate, now: datetime
) -> RollCallIssued:
    """Issue a roll call over `body.scope` (within the caller's own) and call every member
    assigned under it today."""
    issuers = ISSUERS + (("township",) if policy.supervision.township_roll_calls else ())
    if principal.role not in issuers:
        raise RoleRequired(roles=", ".join(issuers))
    if not is_prefix(body.scope):
        raise InvalidScope()
    if not body.scope.startswith(principal.scope):
        raise ScopeNotFound(scope=body.scope)
    refusal = rules.window_refusal(body.window_minutes, policy.supervision)
    if refusal is not None:
        raise InvalidWindow(
            low=policy.supervision.roll_call_min_window_minutes,
            high=policy.supervision.roll_call_max_window_minutes,
            minutes=body.window_minutes,
        )
    day = local_date(now, policy.zone)
    call = RollCall(
        scope=body.scope,
        message=body.message,
        window_minutes=body.window_minutes,
        issued_at=now,
        deadline=now + timedelta(minutes=body.window_minutes),
        call_date=day,
        issued_by=principal.user_id,
    )
    session.add(call)
    session.flush()
    assigned = select(
        literal(call.id).label("roll_call_id"), Assignment.member_id, Assignment.village_code
    ).where(
        Assignment.village_code.startswith(body.scope, autoescape=True),
        Assignment.start_date <= day,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
    )
    session.execute(
        insert(called_table).from_select(["roll_call_id", "member_id", "village_code"], assigned)
    )
    # Counted apart: psycopg reports no rowcount for INSERT … SELECT here.
    called = session.scalar(select(func.count()).where(RollCallMember.roll_call_id == call.id))
    if not called:
        raise NobodyCalled(scope=body.scope)
    _within_cap(session, policy, call)
    emit(
        session,
        "roll_call.issued",
        {
            "roll_call_id": call.id,
            "scope": call.scope,
            "message": call.message,
            "window_minutes": call.window_minutes,
            "issued_at": as_utc(call.issued_at).isoformat(),
            "deadline": as_utc(call.deadline).isoformat(),
            "issued_by": call.issued_by,
            "called": called,
        },
    )
    return RollCallIssued(
        id=call.id,
        scope=call.scope,
        message=call.message,
        window_minutes=call.window_minutes,
        issued_at=call.issued_at,
        deadline=call.deadline,
        issued_by=call.issued_by,
        called=called,
    )


def _visible(principal: Principal) -> Any:
    prefix = principal.division_prefix
    if prefix is None:
        raise RoleRequired(roles="township, county, city, auditor, admin")
    return RollCall.scope.startswith(prefix, autoescape=True)


def get_visible(session: Session, principal: Principal, roll_call_id: int) -> RollCall:
    call = session.scalar(select(RollCall).where(RollCall.id == roll_call_id, _visible(principal)))
    if call is None:
        raise RollCallNotFound(roll_call_id=roll_call_id)
    return call


def status_page(session: Session, call: RollCall, now: datetime) -> bytes:
    """Who responded, who is excused, whose answer was rejected and who is missing: the
    `RollCallOut` document, as JSON.

    Two statements (answers; called members with their leave), then one pass in Python over
    Core rows into plain dicts serialised by orjson: a city's call lists ten thousand members,
    and building a Pydantic model per entry cost more than the queries."""
    answers = _answers_by_member(session, [call.id])
    rows = session.connection().execute(
        select(
            RollCallMember.member_id,
            Member.full_name,
            RollCallMember.village_code,
            PresenceDay.leave_id,
        )
        .join(Member, Member.id == RollCallMember.member_id)
        .outerjoin(
            PresenceDay,
            and_(
                PresenceDay.member_id == RollCallMember.member_id,
                PresenceDay.day == call.call_date,
            ),
        )
        .where(RollCallMember.roll_call_id == call.id)
        .order_by(RollCallMember.member_id)
    )
    issued_at, deadline = as_utc(call.issued_at), as_utc(call.deadline)
    buckets: dict[str, list[dict[str, Any]]] = {
        "responded": [],
        "excused": [],
        "rejected": [],
        "missing": [],
    }
    for member_id, full_name, village_code, leave_id in rows:
        mine = answers.get((call.id, member_id))
        if mine is None:  # most members of a big call: nothing to judge
            bucket, checkin_id, reason = ("missing" if leave_id is None else "excused"), None, None
        else:
            v = rules.verdict(mine, leave_id is not None, issued_at, deadline)
            bucket, checkin_id, reason = v.bucket, v.checkin_id, v.reason
        buckets[bucket].append({
            "member_id": member_id, "full_name": full_name, "village_code": village_code,
            "checkin_id": checkin_id, "reason": reason,
        })  # fmt: skip
    counts = {name: len(entries) for name, entries in buckets.items()}
    head = RollCallHead(
        id=call.id,
        scope=call.scope,
        message=call.message,
        issued_at=issued_at,
        deadline=deadline,
        issued_by=call.issued_by,
        open=now <= deadline,
        counts=RollCallCounts(called=sum(counts.values()), **counts),
    )
    return orjson.dumps(head.model_dump(mode="json") | buckets)


def _answers_by_member(
    session: Session, call_ids: Sequence[int], member_ids: Sequence[int] | None = None
) -> dict[tuple[int, int], list[rules.Answer]]:
    """The check-ins answering these calls, by (call, member). Uses the partial index on
    `checkins.roll_call_id` (most check-ins carry none)."""
    query = select(
        CheckIn.roll_call_id,
        CheckIn.member_id,
        CheckIn.id,
        CheckIn.captured_at,
        checkin_reading.current("geofence"),
        checkin_reading.current("flags"),
        is_voided().label("voided"),
    ).select_from(checkin_reading.JUDGED_FROM)
    query = query.where(CheckIn.roll_call_id.in_([str(i) for i in call_ids]))
    if member_ids is not None:
        query = query.where(ids_in(session, CheckIn.member_id, member_ids))
    out: dict[tuple[int, int], list[rules.Answer]] = {}
    for (
        text_id,
        member_id,
        checkin_id,
        captured_at,
        geofence,
        flags,
        voided,
    ) in session.connection().execute(query):
        at = captured_at if captured_at.tzinfo is not None else as_utc(captured_at)
        out.setdefault((int(str(text_id)), member_id), []).append(
            rules.Answer(checkin_id, at, geofence, flags.split(",") if flags else (), bool(voided))
        )
    return out


def list_calls(
    session: Session, principal: Principal, prefix: str, after: int | None, limit: int
) -> list[RollCallSummary]:
    """Issued roll calls under `prefix`, newest first (by id, which follows issuing)."""
    query = select(RollCall).where(
        _visible(principal), RollCall.scope.startswith(prefix, autoescape=True)
    )
    if after is not None:
        query = query.where(RollCall.id < after)
    calls = session.scalars(query.order_by(RollCall.id.desc()).limit(limit))
    return [_summary(call) for call in calls]


def _summary(call: RollCall) -> RollCallSummary:
    return RollCallSummary(
        id=call.id,
        scope=call.scope,
        message=call.message,
        issued_at=as_utc(call.issued_at),
        deadline=as_utc(call.deadline),
        issued_by=call.issued_by,
    )


def open_for_member(
    session: Session, member_id: int, now: datetime, after: int | None, limit: int
) -> list[MyRollCall]:
    """The open roll calls that include the member, newest first, each saying whether a good
    answer is stored already."""
    query = (
        select(RollCall)
        .join(RollCallMember, RollCallMember.roll_call_id == RollCall.id)
        .where(RollCallMember.member_id == member_id, RollCall.deadline >= now)
    )
    if after is not None:
        query = query.where(RollCall.id < after)
    calls = list(session.scalars(query.order_by(RollCall.id.desc()).limit(limit)))
    answers = _answers_by_member(session, [c.id for c in calls], [member_id]) if calls else {}
    out = []
    for call in calls:
        issued_at, deadline = as_utc(call.issued_at), as_utc(call.deadline)
        v = rules.verdict(answers.get((call.id, member_id), ()), False, issued_at, deadline)
        out.append(
            MyRollCall(
                id=call.id,
                message=call.message,
                issued_at=issued_at,
                deadline=deadline,
                answered=v.bucket == "responded",
            )
        )
    return out


def answer_statuses(session: Session, checkins: Sequence[CheckInOut]) -> dict[int, RollCallStatus]:
    """`roll_call_status` of check-ins carrying a `roll_call_id`, by check-in id: how the roll
    call judges the fix, or `not_called` for an id that is unknown or does not call the member.

    Handed to the check-in router by app/main.py (checkins cannot import supervision)."""
    carrying = [ci for ci in checkins if ci.roll_call_id]
    call_ids = {i for i in (_call_id(ci.roll_call_id) for ci in carrying) if i is not None}
    calls: dict[tuple[int, int], tuple[datetime, datetime]] = {}
    if call_ids:
        rows = session.execute(
            select(RollCall.id, RollCallMember.member_id, RollCall.issued_at, RollCall.deadline)
            .join(RollCallMember, RollCallMember.roll_call_id == RollCall.id)
            .where(
                RollCall.id.in_(call_ids),
                RollCallMember.member_id.in_({ci.member_id for ci in carrying}),
            )
        )
        calls = {(rc, m): (as_utc(at), as_utc(end)) for rc, m, at, end in rows}
    out: dict[int, RollCallStatus] = {}
    for ci in carrying:
        window = calls.get((_call_id(ci.roll_call_id) or 0, ci.member_id))
        if window is None:
            out[ci.id] = "not_called"
            continue
        answer = rules.Answer(ci.id, ci.captured_at, ci.geofence, ci.flags, ci.voided)
        out[ci.id] = rules.judge_answer(answer, *window)
    return out


def _call_id(text: str | None) -> int | None:
    """A roll call's id from its text form ("12"; not "012" or "1e3"), else None."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    value = int(text)
    return value if str(value) == text else None


def member_record(
    session: Session, member_ids: Sequence[int], start_date: Any, end_date: Any
) -> dict[int, list[tuple[RollCall, rules.Verdict]]]:
    """Each member's roll calls whose day lies in [start_date, end_date], with the verdict on
    each. Set-based: three statements for any number of members."""
    calls = {
        (call.id, member_id): call
        for call, member_id in session.execute(
            select(RollCall, RollCallMember.member_id)
            .join(RollCallMember, RollCallMember.roll_call_id == RollCall.id)
            .where(
                ids_in(session, RollCallMember.member_id, member_ids),
                RollCall.call_date.between(start_date, end_date),
            )
        )
    }
    if not calls:
        return {}
    call_ids = sorted({call_id for call_id, _ in calls})
    answers = _answers_by_member(session, call_ids, member_ids)
    excused = {
        (call_id, member_id)
        for call_id, member_id in session.execute(
            select(RollCallMember.roll_call_id, RollCallMember.member_id)
            .join(RollCall, RollCall.id == RollCallMember.roll_call_id)
            .where(
                RollCallMember.roll_call_id.in_(call_ids),
                ids_in(session, RollCallMember.member_id, member_ids),
                exists().where(
                    PresenceDay.member_id == RollCallMember.member_id,
                    PresenceDay.day == RollCall.call_date,
                    PresenceDay.leave_id.is_not(None),
                ),
            )
        )
    }
    out: dict[int, list[tuple[RollCall, rules.Verdict]]] = {}
    for (call_id, member_id), call in sorted(calls.items()):
        v = rules.verdict(
            answers.get((call_id, member_id), ()),
            (call_id, member_id) in excused,
            as_utc(call.issued_at),
            as_utc(call.deadline),
        )
        out.setdefault(member_id, []).append((call, v))
    return out


def _within_cap(session: Session, policy: Policy, call: RollCall) -> None:
    """Refuse the call (its rows roll back) when it would call any member more often in its
    month than `max_roll_calls_per_member_month` (减负). Issuing is serialised (PostgreSQL: a
    transaction advisory lock; SQLite: BEGIN IMMEDIATE), so two calls cannot both pass."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(_CAP_LOCK, 0))))
    cap = policy.supervision.max_roll_calls_per_member_month
    first = call.call_date.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    # One pass over the month's calls' rows (a few per member, by the cap itself), counted per
    # member, kept to this call's members by the HAVING: no join whose plan hangs on fresh
    # statistics (joined to "this call's members", just inserted and not yet analysed, the
    # planner chose nested loops: 6-32 s for a city of 10,000, bench/roll_call_bench.py).
    this_month = select(RollCall.id).where(RollCall.call_date.between(first, last))
    in_this_call = func.max(case((RollCallMember.roll_call_id == call.id, 1), else_=0))
    over = session.execute(
        select(RollCallMember.member_id, func.count())
        .where(RollCallMember.roll_call_id.in_(this_month))
        .group_by(RollCallMember.member_id)
        .having(func.count() > cap, in_this_call == 1)
        .order_by(RollCallMember.member_id)
        .limit(1)
    ).first()
    if over is not None:
        raise RollCallCap(member_id=over[0], count=over[1] - 1, cap=cap)


_CAP_LOCK = "zhucun.roll_call_cap"
