"""Judging stored fixes again after a retroactive change of the member's assignment.

A move or an end dated back changes which village a member was assigned to on days that
already have fixes. Every reading of a fix (who may see and review it, its geofence, its
credit) must follow the assignment in force on its local date, so the fixes of those days are
judged again against it: the new judgement is a row beside the fix (`CheckInRejudgement`),
never an edit, and outside the hash chain, which keeps what the phone sent and the judgement
on arrival. Only what depends on the assignment is judged again (the assigned village, its
boundary version, geofence, distance, the place flags and credit); the flags of the fix's
history (speed, clock, device, …) stay as judged on arrival.

The caller holds the member's lock (`org.assignments.member_of`: every check-in writer waits
for it) and refreshes the ledger over the same days in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from app.checkins import rules
from app.checkins.reading import c, checkins, r, rejudgements
from app.core.policy import Policy
from app.geofence.cache import village_index
from app.geofence.index import VillageIndex
from app.org.models import Assignment, VillageAccessPoint, VillageBoundary

_FIX = (
    c.id,
    c.local_date,
    c.latitude,
    c.longitude,
    c.accuracy_m,
    c.village_code,
    c.wifi,
    c.assigned_village_code,
    c.boundary_id,
    c.geofence,
    c.distance_m,
    c.credited,
    c.flags,
    c.flag_evidence,
    c.wifi_match,
)


def rejudge_member(
    session: Session,
    policy: Policy,
    member_id: int,
    first_day: date,
    *,
    cause: str,
    at: datetime,
) -> int:
    """Judge the member's fixes of `first_day` and later again against the assignments as
    stored now. A fix now assigned elsewhere than on arrival gets a rejudgement (replacing an
    older one); a fix whose village is back to the one it was judged against on arrival loses
    its rejudgement. Returns how many fixes were judged again or returned to their arrival's
    judgement."""
    # A purged fix (`app.privacy.purge`) has no position left to judge: its judgement stays.
    mine = (c.member_id == member_id, c.local_date >= first_day, c.purged_at.is_(None))
    spans = _assignments(session, member_id, first_day)
    index = village_index(session)
    wifi = _registered_wifi(session, {code for _, _, code, _ in spans})
    had = set(
        session.scalars(select(r.checkin_id).join(checkins, c.id == r.checkin_id).where(*mine))
    )
    rows: list[dict[str, Any]] = []
    for fix in session.execute(select(*_FIX).where(*mine)):
        assignment = _assigned_on(spans, fix.local_date)
        if (assignment[0] if assignment else None) == fix.assigned_village_code:
            continue  # judged against this village on arrival: that judgement stands
        new = judge_again(fix, assignment, index, wifi, policy)
        rows.append({"checkin_id": fix.id, **new, "cause": cause, "at": at})
    if had:
        session.execute(delete(rejudgements).where(r.checkin_id.in_(select(c.id).where(*mine))))
    if rows:
        session.execute(insert(rejudgements), rows)
    return len(had | {row["checkin_id"] for row in rows})


def judge_again(
    fix: Any,
    assignment: tuple[str, int | None] | None,
    index: VillageIndex,
    registered_wifi: dict[str, set[str]],
    policy: Policy,
) -> dict[str, Any]:
    """The judged fields of a stored fix against `assignment` (village, boundary id)."""
    code, boundary_id = assignment if assignment is not None else (None, None)
    match = index.classify(code, fix.longitude, fix.latitude, policy.geofence.near_m)
    wifi_match = rules.wifi_match(fix.wifi, registered_wifi.get(code or "", set()))
    stored = fix.flags.split(",") if fix.flags else []
    found = rules.rejudged_flags(
        stored,
        fix.flag_evidence,
        rules.place_flags(code, fix.village_code, match.geofence, wifi_match, len(fix.wifi or ())),
    )
    flags = list(found)
    return {
        "assigned_village_code": code,
        "boundary_id": boundary_id,
        "geofence": match.geofence,
        "distance_m": match.distance_m,
        "credited": code is not None
        and rules.is_credited(flags, match.geofence, fix.accuracy_m, policy),
        "flags": ",".join(flags),
        "flag_evidence": found or None,
        "wifi_match": wifi_match,
    }


def _assignments(
    session: Session, member_id: int, first_day: date
) -> list[tuple[date, date | None, str, int | None]]:
    current_boundary = (
        select(VillageBoundary.id)
        .where(
            VillageBoundary.village_code == Assignment.village_code,
            VillageBoundary.valid_to.is_(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Assignment.start_date, Assignment.end_date, Assignment.village_code, current_boundary
        ).where(
            Assignment.member_id == member_id,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first_day),
        )
    )
    return [(start, end, code, boundary) for start, end, code, boundary in rows]


def _assigned_on(
    spans: list[tuple[date, date | None, str, int | None]], day: date
) -> tuple[str, int | None] | None:
    for start, end, code, boundary_id in spans:
        if start <= day and (end is None or day <= end):
            return code, boundary_id
    return None


def _registered_wifi(session: Session, codes: set[str]) -> dict[str, set[str]]:
    registered: dict[str, set[str]] = {}
    if not codes:
        return registered
    for code, bssid in session.execute(
        select(VillageAccessPoint.village_code, VillageAccessPoint.bssid).where(
            VillageAccessPoint.village_code.in_(codes)
        )
    ):
        registered.setdefault(code, set()).add(bssid)
    return registered
