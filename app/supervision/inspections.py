"""Unannounced inspections (突击暗访) and their reconciliation with the check-ins.

Discrepancies are computed when an inspection is read, never frozen when it is recorded: a fix
uploaded late (an offline phone) that contradicts "found absent" still shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.checkins.counting import counts
from app.checkins.models import CheckIn
from app.core.db import ids_in
from app.core.inputs import MIN_INSTANT
from app.core.policy import Policy
from app.core.time import as_utc, local_date
from app.org.models import Assignment, Member
from app.org.service import get_visible_village
from app.supervision import rules
from app.supervision.errors import (
    InFuture,
    InspectionNotFound,
    MemberListedTwice,
    MemberNotAssigned,
    TooOld,
)
from app.supervision.models import Inspection, InspectionMember
from app.supervision.schemas import (
    Discrepancy,
    InspectionCreate,
    InspectionOut,
    InspectionSummary,
    PresentWithoutFix,
)

INSPECTORS = ("township", "county", "city", "auditor", "admin")


def record(
    session: Session, policy: Policy, principal: Principal, body: InspectionCreate, now: datetime
) -> Inspection:
    """Record a visit to a village in the caller's scope; everyone named must have been
    assigned to that village on the day of the visit."""
    get_visible_village(session, principal, body.village_code)
    if body.visited_at > now + timedelta(seconds=policy.flags.max_clock_ahead_s):
        raise InFuture(field="visited_at")
    if body.visited_at < MIN_INSTANT:  # before any record; and no date arithmetic near year 1
        raise TooOld(field="visited_at", earliest=MIN_INSTANT.date().isoformat())
    twice = sorted(set(body.found_present) & set(body.found_absent))
    if twice:
        raise MemberListedTwice(member_ids=", ".join(map(str, twice)))
    day = local_date(body.visited_at, policy.zone)
    named = set(body.found_present) | set(body.found_absent)
    assigned = set(
        session.scalars(
            select(Assignment.member_id).where(
                Assignment.member_id.in_(named),
                Assignment.village_code == body.village_code,
                Assignment.start_date <= day,
                or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
            )
        )
    )
    strangers = sorted(named - assigned)
    if strangers:
        raise MemberNotAssigned(
            member_ids=", ".join(map(str, strangers)), village_code=body.village_code, day=day
        )
    inspection = Inspection(
        village_code=body.village_code,
        visited_at=body.visited_at,
        visit_date=day,
        note=body.note,
        recorded_by=principal.user_id,
        recorded_at=now,
    )
    session.add(inspection)
    session.flush()
    session.add_all(
        [InspectionMember(inspection_id=inspection.id, member_id=m, found="present")
         for m in body.found_present]
        + [InspectionMember(inspection_id=inspection.id, member_id=m, found="absent")
           for m in body.found_absent]
    )  # fmt: skip
    session.flush()
    return inspection


def _visible(principal: Principal) -> Any:
    prefix = principal.division_prefix
    if prefix is None:
        return false()
    return Inspection.village_code.startswith(prefix, autoescape=True) if prefix else true()


def get_visible(session: Session, principal: Principal, inspection_id: int) -> Inspection:
    found = session.scalar(
        select(Inspection).where(Inspection.id == inspection_id, _visible(principal))
    )
    if found is None:
        raise InspectionNotFound(inspection_id=inspection_id)
    return found


def list_inspections(
    session: Session,
    prefix: str,
    start: date | None,
    end: date | None,
    after: int | None,
    limit: int,
) -> list[InspectionSummary]:
    """Inspections of villages under `prefix`, newest first."""
    query = select(Inspection).where(Inspection.village_code.startswith(prefix, autoescape=True))
    if start is not None:
        query = query.where(Inspection.visit_date >= start)
    if end is not None:
        query = query.where(Inspection.visit_date <= end)
    if after is not None:
        query = query.where(Inspection.id < after)
    rows = session.scalars(query.order_by(Inspection.id.desc()).limit(limit))
    return [
        InspectionSummary(
            id=i.id,
            village_code=i.village_code,
            visited_at=as_utc(i.visited_at),
            recorded_by=i.recorded_by,
            recorded_at=as_utc(i.recorded_at),
        )
        for i in rows
    ]


@dataclass(frozen=True)
class Contradiction:
    """A member found absent at a visit, with counted fixes near it."""

    inspection_id: int
    member_id: int
    visited_at: datetime
    visit_date: date
    village_code: str
    checkin_ids: tuple[int, ...]


def contradictions(
    session: Session,
    policy: Policy,
    *,
    inspection_ids: Sequence[int] | None = None,
    member_ids: Sequence[int] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Contradiction]:
    """Members found absent who have counted check-ins within the policy's window of the
    visit. Set-based: two statements for any number of inspections and members."""
    query = select(
        Inspection.id,
        InspectionMember.member_id,
        Inspection.visited_at,
        Inspection.visit_date,
        Inspection.village_code,
    ).join(InspectionMember, InspectionMember.inspection_id == Inspection.id)
    query = query.where(InspectionMember.found == "absent")
    if inspection_ids is not None:
        query = query.where(Inspection.id.in_(inspection_ids))
    if member_ids is not None:
        query = query.where(ids_in(session, InspectionMember.member_id, member_ids))
    if start is not None:
        query = query.where(Inspection.visit_date >= start)
    if end is not None:
        query = query.where(Inspection.visit_date <= end)
    absences = [(i, m, as_utc(at), day, code) for i, m, at, day, code in session.execute(query)]
    if not absences:
        return []
    window = timedelta(hours=policy.supervision.inspection_window_hours)
    days = {
        local_date(at + shift, policy.zone)
        for _, _, at, _, _ in absences
        for shift in (-window, window)
    } | {day for _, _, _, day, _ in absences}
    fixes: dict[int, list[tuple[int, datetime]]] = {}
    for member_id, checkin_id, captured_at in session.execute(
        select(CheckIn.member_id, CheckIn.id, CheckIn.captured_at)
        .where(
            ids_in(session, CheckIn.member_id, {m for _, m, _, _, _ in absences}),
            CheckIn.local_date.in_(_days_between(min(days), max(days))),
            counts(),
        )
        .order_by(CheckIn.captured_at, CheckIn.id)
    ):
        fixes.setdefault(member_id, []).append((checkin_id, as_utc(captured_at)))
    out = []
    for inspection_id, member_id, visited_at, day, code in absences:
        near = tuple(
            checkin_id
            for checkin_id, at in fixes.get(member_id, ())
            if rules.near_visit(at, visited_at, policy.supervision)
        )
        if near:
            out.append(Contradiction(inspection_id, member_id, visited_at, day, code, near))
    return out


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def reconciled(session: Session, policy: Policy, inspection: Inspection) -> InspectionOut:
    """The inspection with its discrepancies as the check-ins stand now."""
    rows = session.execute(
        select(InspectionMember.member_id, InspectionMember.found, Member.full_name)
        .join(Member, Member.id == InspectionMember.member_id)
        .where(InspectionMember.inspection_id == inspection.id)
        .order_by(InspectionMember.member_id)
    ).all()
    names = {m: name for m, _, name in rows}
    present = [m for m, found, _ in rows if found == "present"]
    hours = policy.supervision.inspection_window_hours
    discrepancies = [
        Discrepancy(
            member_id=c.member_id,
            full_name=names[c.member_id],
            checkin_ids=list(c.checkin_ids),
            detail=f"found absent, yet {len(c.checkin_ids)} counted fix(es) within {hours:g} h "
            "of the visit",
        )
        for c in contradictions(session, policy, inspection_ids=[inspection.id])
    ]
    without_fix = []
    if present:
        with_fix = set(
            session.scalars(
                select(CheckIn.member_id)
                .where(CheckIn.member_id.in_(present), CheckIn.local_date == inspection.visit_date)
                .distinct()
            )
        )
        without_fix = [
            PresentWithoutFix(member_id=m, full_name=names[m]) for m in present if m not in with_fix
        ]
    return InspectionOut(
        id=inspection.id,
        village_code=inspection.village_code,
        visited_at=as_utc(inspection.visited_at),
        found_present=present,
        found_absent=[m for m, found, _ in rows if found == "absent"],
        note=inspection.note,
        recorded_by=inspection.recorded_by,
        recorded_at=as_utc(inspection.recorded_at),
        discrepancies=discrepancies,
        present_without_fix=without_fix,
    )
